import { Counter, Gauge, type Registry } from "prom-client";
import type { Sql } from "./connect";

/** SQLSTATE codes are five characters whose class (the first two) starts with a digit or F, H, P, X. */
const SQLSTATE = /^[0-9FHPX][0-9A-Z]{4}$/;
/** postgres.js's own codes for a connection that could not be made or was lost. */
const CONNECTION = /^(E[A-Z]+|CONNECT_TIMEOUT|CONNECTION_[A-Z]+)$/;

/** `23` for a unique violation, `57` for an admin shutdown…; `connection` and `other` keep the label bounded. */
export function errorClass(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return "other";
  if (SQLSTATE.test(code)) return code.slice(0, 2);
  return CONNECTION.test(code) ? "connection" : "other";
}

/**
 * Wraps the pool so that its use can be measured. postgres.js exposes nothing of its pool's state
 * (its queues are private), so queries are counted here, from the moment one is awaited (a
 * postgres.js query runs only then; fragments nested in another query never are) until it settles:
 *
 * - `db_pool_max_connections`: the pool's size, the most connections it opens;
 * - `db_pool_connections_in_use`: queries in flight, up to that size. postgres.js gives a query an
 *   idle connection, or opens one, before it pipelines onto a busy one, so this is the number of
 *   connections busy with a query;
 * - `db_pool_queries_waiting`: queries in flight beyond one per connection, queued in postgres.js
 *   or pipelined behind another query on the same connection: either way waiting their turn;
 * - `db_errors_total{class}`: failed queries by SQLSTATE class (`23` includes a username already
 *   taken, `40` serialization failures, `57` a server shutting down), `connection` for a database
 *   that cannot be reached.
 *
 * Only queries written as tagged templates (all the services run) are counted.
 */
export function instrumentSql(sql: Sql, registry: Registry): Sql {
  const max = sql.options.max;
  let inFlight = 0;
  const registers = [registry];
  new Gauge({ name: "db_pool_max_connections", help: "Connections the pool may open.", registers }).set(max);
  new Gauge({
    name: "db_pool_connections_in_use",
    help: "Connections busy with a query.",
    registers,
    collect() {
      this.set(Math.min(inFlight, max));
    },
  });
  new Gauge({
    name: "db_pool_queries_waiting",
    help: "Queries waiting for a connection's turn.",
    registers,
    collect() {
      this.set(Math.max(0, inFlight - max));
    },
  });
  const errors = new Counter({ name: "db_errors_total", help: "Failed queries by SQLSTATE class.", labelNames: ["class"], registers });
  for (const known of ["connection", "23", "40", "57"]) errors.inc({ class: known }, 0);

  const settled = () => void inFlight--;
  const failed = (error: unknown) => {
    inFlight--;
    errors.inc({ class: errorClass(error) });
  };
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const query: unknown = Reflect.apply(target, thisArg, args);
      // Identifiers and helpers (`sql("name")`, `sql(rows)`) are no queries: only a Query is a Promise.
      if (!(query instanceof Promise)) return query;
      const then = query.then;
      let counted = false;
      query.then = function (this: Promise<unknown>, ...handlers: Parameters<Promise<unknown>["then"]>) {
        if (!counted) {
          counted = true;
          inFlight++;
          then.call(query, settled, failed);
        }
        return then.apply(this, handlers);
      } as typeof query.then;
      return query;
    },
  });
}
