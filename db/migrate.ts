import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, isDatabaseUrl, normalizeDatabaseUrl, type Sql } from "./connect";
import { grantServiceRole } from "./service-role";

/**
 * The key of the session advisory lock that serialises runners. PostgreSQL scopes advisory locks
 * to the current database, so one fixed key is enough for every service and every test database.
 */
const LOCK_KEY = 7_264_010_531_855_401_223n;

interface MigrationFile {
  name: string;
  text: string;
  checksum: string;
}

function readMigrations(dir: string): MigrationFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => {
      const text = readFileSync(join(dir, name), "utf8");
      return { name, text, checksum: new Bun.CryptoHasher("sha256").update(text).digest("hex") };
    });
}

/**
 * PostgreSQL reports the error position as a 1-based character offset into the whole file, so it
 * is turned into a line number as well, which is what a person editing the file can use.
 */
function failure(file: MigrationFile, err: unknown): Error {
  if (!(err instanceof Error)) return new Error(`${file.name} failed: ${String(err)}`);
  const pg = err as Error & { position?: string; detail?: string; hint?: string };
  const extra: string[] = [];
  if (pg.position) {
    const line = file.text.slice(0, Number(pg.position) - 1).split("\n").length;
    extra.push(`line ${line}, position ${pg.position}`);
  }
  if (pg.detail) extra.push(`detail: ${pg.detail}`);
  if (pg.hint) extra.push(`hint: ${pg.hint}`);
  const suffix = extra.length > 0 ? ` (${extra.join("; ")})` : "";
  return new Error(`${file.name} failed: ${err.message}${suffix}`, { cause: err });
}

/**
 * Applies the `*.sql` files of `dir` that `schema_migrations` does not list yet, in filename order.
 * A session advisory lock lives on one connection, so the whole run is held on a reserved one;
 * a second runner waits on the lock and then finds everything applied.
 */
export async function migrate(sql: Sql, dir: string, log: (line: string) => void): Promise<{ applied: string[] }> {
  const files = readMigrations(dir);
  const conn = await sql.reserve();
  try {
    await conn`SELECT pg_advisory_lock(${LOCK_KEY})`;
    try {
      await conn`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          name text PRIMARY KEY,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`;
      const rows = await conn<{ name: string; checksum: string }[]>`SELECT name, checksum FROM schema_migrations`;
      const recorded = new Map(rows.map((row) => [row.name, row.checksum]));

      // Every check runs before the first file is applied, so a refused run changes nothing.
      for (const file of files) {
        const checksum = recorded.get(file.name);
        if (checksum !== undefined && checksum !== file.checksum) {
          throw new Error(`${file.name} was edited after it was applied; add a new migration instead`);
        }
      }
      const onDisk = new Set(files.map((file) => file.name));
      for (const name of recorded.keys()) {
        if (!onDisk.has(name)) log(`warning: ${name} is recorded as applied but is missing from ${dir}`);
      }

      const pending = files.filter((file) => !recorded.has(file.name));
      if (pending.length === 0) {
        log(`up to date (${recorded.size} migrations)`);
        return { applied: [] };
      }
      const applied: string[] = [];
      for (const file of pending) {
        // The file and its bookkeeping row commit together, so a failed file leaves no trace.
        await conn.unsafe("BEGIN");
        try {
          await conn.unsafe(file.text);
          await conn`INSERT INTO schema_migrations (name, checksum) VALUES (${file.name}, ${file.checksum})`;
          await conn.unsafe("COMMIT");
        } catch (err) {
          await conn.unsafe("ROLLBACK");
          throw failure(file, err);
        }
        applied.push(file.name);
        log(`applied ${file.name}`);
      }
      return { applied };
    } finally {
      await conn`SELECT pg_advisory_unlock(${LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}

const SERVICES: Record<string, string> = { auth: "AUTH_DATABASE_URL", transaction: "TRANS_DATABASE_URL" };
/** The login role the service connects as, when it is not the owner (docker-compose.yml sets it). */
const ROLES: Record<string, string> = { auth: "AUTH_DB_SERVICE_USER", transaction: "TRANS_DB_SERVICE_USER" };

/** Exit codes: 0 applied or up to date, 1 the migration failed, 2 the command was called wrongly. */
async function main(args: string[]): Promise<number> {
  const [service] = args;
  const envName = service === undefined ? undefined : SERVICES[service];
  if (args.length !== 1 || service === undefined || envName === undefined) {
    const got = service === undefined ? "no service" : `"${args.join(" ")}"`;
    console.error(`usage: bun db/migrate.ts <${Object.keys(SERVICES).join("|")}> (got ${got})`);
    return 2;
  }
  const url = process.env[envName];
  // Both or nothing: a `.env` copied from `.env_example` names the role but leaves its password
  // to docker compose, and a run by hand then migrates as before, with no role.
  const role = process.env[ROLES[service]!],
    rolePassword = process.env[ROLES[service]!.replace(/_USER$/, "_PASSWORD")];
  if (!url) {
    console.error(`migrate ${service}: ${envName} is not set`);
    return 2;
  }
  if (!isDatabaseUrl(url)) {
    console.error(`migrate ${service}: ${envName} is not a postgres:// URL`);
    return 2;
  }
  // Only host, port and database are ever printed: the URL may carry a password.
  const target = new URL(normalizeDatabaseUrl(url));
  const password = decodeURIComponent(target.password);
  const log = (line: string) => console.log(`migrate ${service}: ${line}`);
  log(`target ${target.hostname}:${target.port || "5432"}${target.pathname}`);
  const sql = connect(url, { max: 2, onnotice: () => {} });
  try {
    await migrate(sql, `${import.meta.dir}/../${service}/migrations`, log);
    if (role && rolePassword) {
      await grantServiceRole(sql, role, rolePassword);
      log(`role ${role} may read and write the tables and run the functions, nothing more`);
    }
    return 0;
  } catch (err) {
    // Driver errors do not normally quote a password, but a leak here would land in CI logs.
    let message = err instanceof Error ? err.message : String(err);
    for (const secret of [password, rolePassword]) if (secret) message = message.replaceAll(secret, "***");
    console.error(`migrate ${service}: ${message}`);
    return 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
