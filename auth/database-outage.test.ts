import { afterAll, beforeAll, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { Logger } from "../common/logger";
import { serve, type Served } from "../common/server";
import { logLines, request, tempLogsDir } from "../common/testing";
import { connect, type Sql } from "../db/connect";
import { createAuthApp } from "./app";
import { loadAuthConfig } from "./config";
import { TEST_SECRET } from "./test-server";

/** The auth service's database down: every route that needs it answers 503 database_unavailable, quickly, and logs it. */
let sql: Sql;
let log: Logger;
let served: Served;
let url: string;
let logFile: string;

beforeAll(() => {
  // Port 1 refuses connections at once.
  const databaseUrl = "postgres://postgres@127.0.0.1:1/nowhere";
  sql = connect(databaseUrl, { max: 2 });
  const config = loadAuthConfig({ AUTH_DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET, LOGS_DIR: tempLogsDir("auth"), ENV: "test" });
  logFile = `${config.LOGS_DIR}/auth.log`;
  log = new Logger({ file: logFile, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
  served = serve({ fetch: createAuthApp({ sql, config, log }).fetch as never, port: 0, close: async () => {} });
  url = `http://127.0.0.1:${served.port}`;
});
afterAll(async () => {
  await served.shutdown();
  log.close();
  await sql.end({ timeout: 0 });
});

test("every auth route that reads or writes users answers 503 database_unavailable within seconds, and logs it", async () => {
  // Well signed and of a session, so that it passes the local check and only the database lookup can fail.
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ ver: 0, sid: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject("1")
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(TEST_SECRET));
  const calls = {
    "/register": { json: { username: "alice", email: "alice@example.com", password: "password-123" } },
    "/token": { form: { username: "alice", password: "password-123" } },
    "/verify": { token },
    "/check-user": { json: { username: "bob" }, token },
    "/change-password": { json: { old_password: "password-123", new_password: "password-456" }, token },
  };
  for (const [path, call] of Object.entries(calls)) {
    const started = performance.now();
    const answer = await request(url, "POST", path, { ...call, headers: { "x-request-id": `outage${path.replace("/", "-")}` } });
    expect({ path, status: answer.status, code: answer.body.code }).toEqual({ path, status: 503, code: "database_unavailable" });
    expect(performance.now() - started).toBeLessThan(6000);
  }
  const logged = (await logLines(logFile)).filter((line) => line.event === "database_unavailable").map((line) => line.request_id);
  expect(logged.sort()).toEqual(
    Object.keys(calls)
      .map((path) => `outage${path.replace("/", "-")}`)
      .sort(),
  );
  expect((await request(url, "GET", "/ready")).status).toBe(503);
}, 30_000);
