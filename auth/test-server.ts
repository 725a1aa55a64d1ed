import { serveForTest, tempLogsDir, type ServedForTest } from "../common/testing";
import { connect } from "../db/connect";
import { testDatabase, type TestDatabase } from "../db/testing";
import { createAuthApp } from "./app";
import { loadAuthConfig, type AuthConfig } from "./config";

export const TEST_SECRET = "test-secret-of-at-least-thirty-two-bytes!";

export interface RunningAuth extends ServedForTest {
  db: TestDatabase;
  config: AuthConfig;
}

/** A real auth service over HTTP on a fresh database, as the tests of both services need it. */
export async function startAuthService(env: Record<string, string> = {}): Promise<RunningAuth> {
  const db = await testDatabase("auth");
  const config = loadAuthConfig({ AUTH_DATABASE_URL: db.url, SECRET_KEY: TEST_SECRET, LOGS_DIR: tempLogsDir("auth"), ENV: "test", ...env });
  return { db, config, ...serveForTest({ name: "auth_service", db, config, createApp: createAuthApp }) };
}

/** Registers a user and logs in, answering the token: the first step of most tests. */
export async function registerAndLogin(authUrl: string, username: string, password = "password-123") {
  const email = `${username.toLowerCase()}@example.com`;
  const registered = await fetch(`${authUrl}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, email, password }),
  });
  if (registered.status !== 200) throw new Error(`register ${username}: ${registered.status} ${await registered.text()}`);
  const login = await fetch(`${authUrl}/token`, { method: "POST", body: new URLSearchParams({ username, password }) });
  if (login.status !== 200) throw new Error(`login ${username}: ${login.status} ${await login.text()}`);
  const { access_token } = (await login.json()) as { access_token: string };
  return { token: access_token, user: (await registered.json()) as { id: number; username: string } };
}

/**
 * A second instance of the same service on the same database, with its own pool and log: what
 * running several replicas behind a load balancer looks like.
 */
export function startSecondInstance(auth: RunningAuth): ServedForTest {
  const config = { ...auth.config, LOGS_DIR: tempLogsDir("auth-second") };
  const sql = connect(auth.db.url, { max: 10 });
  const db = { url: auth.db.url, sql, drop: () => sql.end({ timeout: 5 }) };
  return serveForTest({ name: "auth_service", db, config, createApp: createAuthApp });
}
