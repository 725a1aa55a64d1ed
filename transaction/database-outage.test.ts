import { afterAll, beforeAll, expect, test } from "bun:test";
import { Logger } from "../common/logger";
import { serve, type Served } from "../common/server";
import { logLines, tempLogsDir } from "../common/testing";
import { connect, type Sql } from "../db/connect";
import { registerAndLogin, startAuthService, TEST_SECRET, type RunningAuth } from "../auth/test-server";
import { createTransactionApp } from "./app";
import { loadTransactionConfig } from "./config";

/** The transaction service's own database down: a clear 503, quickly, never a 500 or a hang. */
let auth: RunningAuth;
let sql: Sql;
let log: Logger;
let served: Served;
let url: string;
let logFile: string;

beforeAll(async () => {
  auth = await startAuthService();
  // Port 1 refuses connections at once; the service must answer without its database.
  sql = connect("postgres://postgres@127.0.0.1:1/nowhere", { max: 2 });
  const config = loadTransactionConfig({
    TRANS_DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere",
    AUTH_SERVICE_URL: auth.url,
    SECRET_KEY: TEST_SECRET,
    LOGS_DIR: tempLogsDir("transaction"),
    ENV: "test",
  });
  logFile = `${config.LOGS_DIR}/t.log`;
  log = new Logger({ file: logFile, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
  served = serve({ fetch: createTransactionApp({ sql, config, log }).fetch, port: 0, close: async () => {} });
  url = `http://127.0.0.1:${served.port}`;
});

afterAll(async () => {
  await served.shutdown();
  log.close();
  await sql.end({ timeout: 0 });
  await auth.stop();
});

test("with its database unreachable, the transaction service answers 503 database_unavailable", async () => {
  const { token } = await registerAndLogin(auth.url, "outage_alice");
  await registerAndLogin(auth.url, "outage_bob");
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const answers = await Promise.all([
    fetch(`${url}/account`, { headers }),
    fetch(`${url}/transactions`, { headers }),
    fetch(`${url}/transfer`, { method: "POST", headers, body: JSON.stringify({ receiver_username: "outage_bob", amount: 1 }) }),
  ]);
  for (const answer of answers) {
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ code: "database_unavailable" });
  }
  const ready = await fetch(`${url}/ready`);
  expect(ready.status).toBe(503);
  // One database_unavailable warning per refused request, for whoever watches the log.
  const warned = (await logLines(logFile)).filter((line) => line.event === "database_unavailable");
  expect(warned.map((line) => line.level)).toEqual(["warn", "warn", "warn"]);
});
