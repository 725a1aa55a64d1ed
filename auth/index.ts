import { ConfigError } from "../common/config";
import { Logger } from "../common/logger";
import { exitOnSignals, serve } from "../common/server";
import { connect } from "../db/connect";
import { createAuthApp } from "./app";
import { loadAuthConfig, type AuthConfig } from "./config";

function configOrExit(): AuthConfig {
  try {
    return loadAuthConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`auth_service: ${error.message}`);
    process.exit(1);
  }
}

const config = configOrExit();
const log = new Logger({
  file: `${config.LOGS_DIR}/auth_service/auth_service.log`,
  maxBytes: config.LOG_MAX_BYTES,
  maxFiles: config.LOG_MAX_FILES,
  debug: config.IS_DEBUG,
  stdout: true,
});
const sql = connect(config.AUTH_DATABASE_URL, { max: config.DB_POOL_MAX });
const app = createAuthApp({ sql, config, log });
const served = serve({ fetch: app.fetch, port: config.AUTH_SERVICE_PORT, log, close: () => sql.end({ timeout: 10 }) });
exitOnSignals(served, log);
log.info("started", { service: "auth_service", port: served.port, docs: `http://localhost:${served.port}/docs` });
