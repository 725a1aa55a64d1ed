import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { Logger } from "../common/logger";
import { serve } from "../common/server";
import { testDatabase, type TestDatabase } from "../db/testing";
import { createAuthApp } from "./app";
import { loadAuthConfig, type AuthConfig } from "./config";

export const TEST_SECRET = "test-secret-of-at-least-thirty-two-bytes!";

export interface RunningAuth {
  url: string;
  db: TestDatabase;
  config: AuthConfig;
  logFile: string;
  stop(): Promise<void>;
}

/** A real auth service over HTTP on a fresh database, as the tests of both services need it. */
export async function startAuthService(env: Record<string, string> = {}): Promise<RunningAuth> {
  const db = await testDatabase("auth");
  const logsDir = mkdtempSync(`${tmpdir()}/auth-logs-`);
  const config = loadAuthConfig({ AUTH_DATABASE_URL: db.url, SECRET_KEY: TEST_SECRET, LOGS_DIR: logsDir, ENV: "test", ...env });
  const logFile = `${logsDir}/auth_service/auth_service.log`;
  const log = new Logger({ file: logFile, maxBytes: config.LOG_MAX_BYTES, maxFiles: 2, debug: true, stdout: false });
  const app = createAuthApp({ sql: db.sql, config, log });
  const served = serve({ fetch: app.fetch, port: 0, close: async () => {} });
  return {
    url: `http://127.0.0.1:${served.port}`,
    db,
    config,
    logFile,
    async stop() {
      await served.shutdown();
      log.close();
      await db.drop();
    },
  };
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
