import { runService } from "../common/main";
import { createTransactionApp } from "./app";
import { loadTransactionConfig } from "./config";
import { DEFAULT_PURGE, startKeyPurge } from "./key-purge";

runService({
  name: "transaction_service",
  loadConfig: loadTransactionConfig,
  databaseUrl: (config) => config.TRANS_DATABASE_URL,
  port: (config) => config.TRANS_SERVICE_PORT,
  createApp: createTransactionApp,
  background: ({ sql, config, log }) => startKeyPurge(sql, log, { ...DEFAULT_PURGE, retentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS }).stop,
});
