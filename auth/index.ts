import { runService } from "../common/main";
import { createAuthApp } from "./app";
import { loadAuthConfig } from "./config";
import { startPurge } from "./purge";

runService({
  name: "auth_service",
  loadConfig: loadAuthConfig,
  databaseUrl: (config) => config.AUTH_DATABASE_URL,
  port: (config) => config.AUTH_SERVICE_PORT,
  createApp: createAuthApp,
  background: ({ sql, config, log }) => startPurge(sql, config, log),
});
