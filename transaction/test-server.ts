import { serveForTest, tempLogsDir, type ServedForTest } from "../common/testing";
import { TEST_SECRET } from "../auth/test-server";
import { testDatabase, type TestDatabase } from "../db/testing";
import { createTransactionApp } from "./app";
import { loadTransactionConfig, type TransactionConfig } from "./config";

export interface RunningTransaction extends ServedForTest {
  db: TestDatabase;
  config: TransactionConfig;
}

/**
 * A real transaction service over HTTP on a fresh database, talking to the given auth service.
 * A test that must tell the auth service this one's origin (CORS) picks the port first.
 */
export async function startTransactionService(authUrl: string, env: Record<string, string> = {}, port = 0): Promise<RunningTransaction> {
  const db = await testDatabase("transaction");
  const config = loadTransactionConfig({
    TRANS_DATABASE_URL: db.url,
    AUTH_SERVICE_URL: authUrl,
    SECRET_KEY: TEST_SECRET,
    LOGS_DIR: tempLogsDir("transaction"),
    ENV: "test",
    DB_POOL_MAX: "20",
    ...env,
  });
  return { db, config, ...serveForTest({ name: "transaction_service", db, config, createApp: createTransactionApp, port }) };
}
