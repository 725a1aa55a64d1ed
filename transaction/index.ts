import { runService } from "../common/main";
import { createTransactionApp } from "./app";
import { loadTransactionConfig } from "./config";

runService({
  name: "transaction_service",
  loadConfig: loadTransactionConfig,
  databaseUrl: (config) => config.TRANS_DATABASE_URL,
  port: (config) => config.TRANS_SERVICE_PORT,
  createApp: createTransactionApp,
});
