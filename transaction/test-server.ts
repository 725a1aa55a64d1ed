import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { Logger } from "../common/logger";
import { serve } from "../common/server";
import { TEST_SECRET } from "../auth/test-server";
import { testDatabase, type TestDatabase } from "../db/testing";
import { createTransactionApp } from "./app";
import { loadTransactionConfig, type TransactionConfig } from "./config";

export interface RunningTransaction {
  url: string;
  db: TestDatabase;
  config: TransactionConfig;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * A real transaction service over HTTP on a fresh database, talking to the given auth service.
 * A test that must tell the auth service this one's origin (CORS) picks the port first.
 */
export async function startTransactionService(
  authUrl: string,
  env: Record<string, string> = {},
  port = 0,
): Promise<RunningTransaction> {
  const db = await testDatabase("transaction");
  const logsDir = mkdtempSync(`${tmpdir()}/transaction-logs-`);
  const config = loadTransactionConfig({
    TRANS_DATABASE_URL: db.url,
    AUTH_SERVICE_URL: authUrl,
    SECRET_KEY: TEST_SECRET,
    LOGS_DIR: logsDir,
    ENV: "test",
    DB_POOL_MAX: "20",
    ...env,
  });
  const logFile = `${logsDir}/transaction_service/transaction_service.log`;
  const log = new Logger({ file: logFile, maxBytes: config.LOG_MAX_BYTES, maxFiles: 2, debug: true, stdout: false });
  const sql = db.sql;
  const app = createTransactionApp({ sql, config, log });
  const served = serve({ fetch: app.fetch, port, close: async () => {} });
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
