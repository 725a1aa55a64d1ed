import type { Registry } from "prom-client";
import type { Sql } from "../db/connect";
import type { Logger } from "./logger";

export interface Served {
  port: number;
  /** Stops accepting, lets in-flight requests finish, then runs `close` (the pools). */
  shutdown(): Promise<void>;
}

/**
 * How an app registers work that runs beside its HTTP handling (a background purge, a LISTEN
 * connection): each `stop` runs at shutdown, after the server has stopped, before the pool closes.
 * An app built without it (some tests) runs no such work.
 */
export type OnShutdown = (stop: () => Promise<void>) => void;

/** What both services' apps are built from. */
export interface AppDeps<C> {
  sql: Sql;
  config: C;
  log: Logger;
  /** Where requests and the pool are measured; without one, metrics are off. */
  registry?: Registry;
  onShutdown?: OnShutdown;
}

type Fetch = (request: Request, server: Bun.Server<unknown>) => Response | Promise<Response>;

/** Starts a service; `index.ts` files call it, tests call it with port 0. */
export function serve(options: { fetch: Fetch; port: number; close: () => Promise<void> }): Served {
  const server = Bun.serve({ port: options.port, hostname: "0.0.0.0", fetch: options.fetch });
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      await server.stop();
      await options.close();
    })());
  return { port: server.port!, shutdown };
}

/** SIGTERM (docker stop) and SIGINT (Ctrl-C) end the process only after a graceful shutdown. */
export function exitOnSignals(served: Served, log: Logger): void {
  const onSignal = (signal: string) => {
    log.info("shutdown", { signal });
    served.shutdown().then(
      () => {
        log.close();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}
