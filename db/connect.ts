import postgres from "postgres";

export type Sql = postgres.Sql<{ bigint: bigint }>;

/**
 * The original service used SQLAlchemy URLs such as `postgresql+asyncpg://…`; postgres.js
 * only knows `postgres://` and `postgresql://`, so the driver suffix is dropped here, once.
 */
export function normalizeDatabaseUrl(url: string): string {
  return url.replace(/^postgres(ql)?\+[a-z0-9]+:\/\//i, "postgresql://");
}

export function isDatabaseUrl(url: string): boolean {
  try {
    const parsed = new URL(normalizeDatabaseUrl(url));
    return (parsed.protocol === "postgres:" || parsed.protocol === "postgresql:") && parsed.hostname !== "";
  } catch {
    return false;
  }
}

export interface ConnectOptions {
  max?: number;
  /** Migrations and tests want to see notices; services keep them out of the logs. */
  onnotice?: (notice: postgres.Notice) => void;
}

/**
 * One pool per database. `int8` columns come back as `bigint`, so money never passes through
 * a float on its way out of PostgreSQL.
 */
export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(normalizeDatabaseUrl(url), {
    max: options.max ?? 10,
    onnotice: options.onnotice ?? (() => {}),
    types: { bigint: postgres.BigInt },
    // A database that cannot be reached fails the request in seconds (a 503), not in 30.
    connect_timeout: 5,
    // Every query is a prepared statement, and left to itself PostgreSQL plans most of them
    // afresh on each execution (a custom plan, for the parameter values): for the history page
    // that planning cost as much as running it. A generic plan is made once per connection; the
    // queries here are all index lookups whose best plan does not depend on the values
    // (history-query.test.ts checks the history's generic plan). Halved the history query's
    // time on the 2-core machine (0.73 -> 0.38 ms at 1M transfers), and a page by before_id
    // now costs what the first page costs.
    connection: { application_name: "auth-trans-app", plan_cache_mode: "force_generic_plan" },
  }) as unknown as Sql;
}

/**
 * Runs `work` in one transaction. postgres.js types a transaction's `sql` apart from a pool's,
 * though it runs the same queries; handing it over as `Sql` lets the small query functions that
 * take `sql` first run inside a transaction or outside one alike.
 */
export function transaction<T>(sql: Sql, work: (tx: Sql) => Promise<T>): Promise<T> {
  return sql.begin((tx) => work(tx as unknown as Sql)) as Promise<T>;
}

/** The same server, another database: tests and `bun run dev` create one database per service. */
export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(normalizeDatabaseUrl(serverUrl));
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates the database unless it exists; the name is checked, since it cannot be a bind parameter. */
export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`bad database name: ${database}`);
  const admin = connect(withDatabase(serverUrl, "postgres"), { max: 1 });
  try {
    const [row] = await admin`SELECT 1 AS found FROM pg_database WHERE datname = ${database}`;
    if (!row) await admin.unsafe(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
