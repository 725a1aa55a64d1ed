import { ConfigError } from "./config";
import { Logger } from "./logger";
import { createRegistry, serveMetrics } from "./metrics";
import { exitOnSignals, serve, type AppDeps } from "./server";
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
  METRICS_PORT: number;
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
  createApp: (deps: AppDeps<C>) => { fetch: (request: Request, env: never) => Response | Promise<Response> };
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
  // METRICS_PORT=0 turns metrics off: no registry, so nothing is measured on the request path.
  const registry = config.METRICS_PORT ? createRegistry() : undefined;
  const stops: (() => Promise<void>)[] = [];
  const app = service.createApp({ sql, config, log, registry, onShutdown: (stop) => stops.push(stop) });
  // A port that is taken stops the service with one line naming it, not a stack trace.
  const listen = <T>(what: string, start: () => T): T => {
    try {
      return start();
    } catch (error) {
      console.error(`${service.name}: cannot listen on ${what}: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  const metrics = registry && listen(`METRICS_PORT ${config.METRICS_PORT}`, () => serveMetrics(registry, config.METRICS_PORT));
  const stopBackground = service.background?.({ sql, config, log });
  const close = async () => {
    await stopBackground?.();
    await Promise.all(stops.map((stop) => stop()));
    await metrics?.stop();
    await sql.end({ timeout: 10 });
  };
  const served = listen(`port ${service.port(config)}`, () => serve({ fetch: app.fetch as never, port: service.port(config), close }));
  exitOnSignals(served, log);
  log.info("started", { service: service.name, port: served.port, metrics_port: metrics?.port ?? null, docs: `http://localhost:${served.port}/docs` });
  log.debug("configuration", redacted(config));
}
