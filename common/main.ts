import { ConfigError } from "./config";
import { Logger } from "./logger";
import { exitOnSignals, serve } from "./server";
import { connect, normalizeDatabaseUrl, type Sql } from "../db/connect";

/** The settings as a debug line can show them: no secret, and a database URL as host and name only. */
function redacted(config: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([name, value]) => {
      if (/SECRET|PASSWORD/.test(name)) return [name, "[redacted]"];
      if (name.endsWith("_DATABASE_URL")) {
        const url = new URL(normalizeDatabaseUrl(String(value)));
        return [name, `${url.hostname}:${url.port || "5432"}${url.pathname}`];
      }
      return [name, value];
    }),
  );
}

interface SharedSettings {
  LOGS_DIR: string;
  LOG_MAX_BYTES: number;
  LOG_MAX_FILES: number;
  IS_DEBUG: boolean;
  DB_POOL_MAX: number;
}

/**
 * What a service's `index.ts` does: read and validate the configuration (one line naming the
 * bad variable, then exit 1), open the log and the pool, serve, and shut down gracefully.
 */
export function runService<C extends SharedSettings>(service: {
  name: "auth_service" | "transaction_service";
  loadConfig: () => C;
  databaseUrl: (config: C) => string;
  port: (config: C) => number;
  createApp: (deps: { sql: Sql; config: C; log: Logger }) => { fetch: (request: Request, env: never) => Response | Promise<Response> };
  /** Work the service does beside requests (a purge, say); answers how to stop it before the pool closes. */
  background?: (deps: { sql: Sql; config: C; log: Logger }) => () => Promise<void>;
}): void {
  let config: C;
  try {
    config = service.loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service.name}: ${error.message}`);
    process.exit(1);
  }
  const file = `${config.LOGS_DIR}/${service.name}/${service.name}.log`;
  let log: Logger;
  try {
    log = new Logger({ file, maxBytes: config.LOG_MAX_BYTES, maxFiles: config.LOG_MAX_FILES, debug: config.IS_DEBUG, stdout: true });
  } catch (error) {
    // Typically a host folder mounted at LOGS_DIR that the container's user may not write.
    console.error(`${service.name}: cannot open the log file ${file}: ${(error as Error).message}`);
    process.exit(1);
  }
  const sql = connect(service.databaseUrl(config), { max: config.DB_POOL_MAX });
  const app = service.createApp({ sql, config, log });
  const stopBackground = service.background?.({ sql, config, log });
  const close = async () => {
    await stopBackground?.();
    await sql.end({ timeout: 10 });
  };
  const served = serve({ fetch: app.fetch as never, port: service.port(config), close });
  exitOnSignals(served, log);
  log.info("started", { service: service.name, port: served.port, docs: `http://localhost:${served.port}/docs` });
  log.debug("configuration", redacted(config));
}
