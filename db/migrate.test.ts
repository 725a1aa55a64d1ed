import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, ensureDatabase, withDatabase, type Sql } from "./connect";
import { migrate } from "./migrate";
import { dropDatabase, testServerUrl } from "./testing";

// Real databases, servers and subprocesses take seconds on a small, busy machine.
setDefaultTimeout(30_000);

const REPO_ROOT = join(import.meta.dir, "..");
const databases: string[] = [];
const pools: Sql[] = [];
const dirs: string[] = [];
let counter = 0;

afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end({ timeout: 5 })));
  for (const name of databases) await dropDatabase(testServerUrl(), name);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A database of its own for each test, so runs against a shared server never see each other. */
async function freshDatabase(): Promise<string> {
  const name = `test_migrate_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await ensureDatabase(testServerUrl(), name);
  databases.push(name);
  return withDatabase(testServerUrl(), name);
}

function pool(url: string): Sql {
  const sql = connect(url, { max: 2 });
  pools.push(sql);
  return sql;
}

function migrationDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "migrate-test-"));
  dirs.push(dir);
  writeMigrations(dir, files);
  return dir;
}

function writeMigrations(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

async function appliedNames(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`SELECT name FROM schema_migrations ORDER BY name`;
  return rows.map((row) => row.name);
}

async function tableExists(sql: Sql, table: string): Promise<boolean> {
  const [row] = await sql<{ found: string | null }[]>`SELECT to_regclass(${table})::text AS found`;
  return row?.found != null;
}

describe("migrate", () => {
  test("applies files in filename order once, then reports up to date", async () => {
    const sql = pool(await freshDatabase());
    // Written out of order on purpose: 0001 depends on 0000, so only lexical order succeeds.
    const dir = migrationDir({
      "0001_child.sql": "CREATE TABLE child (id int REFERENCES parent (id));",
      "0000_parent.sql": "CREATE TABLE parent (id int PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO parent VALUES (1);",
      "README.md": "not a migration",
    });
    const lines: string[] = [];
    expect(await migrate(sql, dir, (line) => lines.push(line))).toEqual({
      applied: ["0000_parent.sql", "0001_child.sql"],
    });
    expect(lines).toEqual(["applied 0000_parent.sql", "applied 0001_child.sql"]);
    expect(await appliedNames(sql)).toEqual(["0000_parent.sql", "0001_child.sql"]);
    const [parent] = await sql<{ count: bigint }[]>`SELECT count(*) AS count FROM parent`;
    expect(parent?.count).toBe(1n);

    const again: string[] = [];
    expect(await migrate(sql, dir, (line) => again.push(line))).toEqual({ applied: [] });
    expect(again).toEqual(["up to date (2 migrations)"]);
  });

  test("two concurrent runners apply each file exactly once", async () => {
    const url = await freshDatabase();
    const dir = migrationDir({
      // The sleep keeps the first runner inside the lock long enough for the second to queue on it.
      "0000_slow.sql": "SELECT pg_sleep(0.3);\n--> statement-breakpoint\nCREATE TABLE first_table (id int);",
      "0001_second.sql": "CREATE TABLE second_table (id int);",
    });
    const observer = pool(url);
    const runs = Promise.all([migrate(pool(url), dir, () => {}), migrate(pool(url), dir, () => {})]);
    let done = false;
    void runs.finally(() => (done = true));
    // Proof that the runs overlapped: one of them was seen queued on the advisory lock.
    let waited = false;
    while (!done && !waited) {
      const [row] = await observer<{ waiting: boolean }[]>`
        SELECT exists(
          SELECT 1 FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        ) AS waiting`;
      waited = row?.waiting === true;
      await Bun.sleep(10);
    }
    const [a, b] = await runs;
    expect(waited).toBe(true);
    expect([...a.applied, ...b.applied].sort()).toEqual(["0000_slow.sql", "0001_second.sql"]);
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, 2]);
    expect(await appliedNames(observer)).toEqual(["0000_slow.sql", "0001_second.sql"]);
    expect(await tableExists(observer, "first_table")).toBe(true);
    expect(await tableExists(observer, "second_table")).toBe(true);
  });

  test("a failing file rolls back only itself and the error names it", async () => {
    const sql = pool(await freshDatabase());
    const dir = migrationDir({
      "0001_good.sql": "CREATE TABLE good (id int);",
      "0002_bad.sql": "CREATE TABLE partial (id int);\n--> statement-breakpoint\nINSERT INTO missing_table VALUES (1);",
      "0003_later.sql": "CREATE TABLE later (id int);",
    });
    const lines: string[] = [];
    const error = await migrate(sql, dir, (line) => lines.push(line)).catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("0002_bad.sql");
    expect((error as Error).message).toContain('relation "missing_table" does not exist');
    expect((error as Error).message).toContain("line 3");
    expect(lines).toEqual(["applied 0001_good.sql"]);
    expect(await appliedNames(sql)).toEqual(["0001_good.sql"]);
    expect(await tableExists(sql, "good")).toBe(true);
    expect(await tableExists(sql, "partial")).toBe(false);
    expect(await tableExists(sql, "later")).toBe(false);
  });

  test("the error carries PostgreSQL's detail when there is one", async () => {
    const sql = pool(await freshDatabase());
    const dir = migrationDir({
      "0001_table.sql": "CREATE TABLE unique_ids (id int PRIMARY KEY);\nINSERT INTO unique_ids VALUES (1);",
      "0002_duplicate.sql": "INSERT INTO unique_ids VALUES (1);",
    });
    const error = await migrate(sql, dir, () => {}).catch((err: Error) => err);
    expect((error as Error).message).toContain("0002_duplicate.sql");
    expect((error as Error).message).toContain("duplicate key value violates unique constraint");
    expect((error as Error).message).toContain("detail: Key (id)=(1) already exists.");
  });

  test("refuses an applied file that was edited and applies nothing new", async () => {
    const sql = pool(await freshDatabase());
    const dir = migrationDir({
      "0001_a.sql": "CREATE TABLE a (id int);",
      "0002_b.sql": "CREATE TABLE b (id int);",
    });
    await migrate(sql, dir, () => {});
    writeMigrations(dir, {
      "0001_a.sql": "CREATE TABLE a (id int, name text);",
      "0003_c.sql": "CREATE TABLE c (id int);",
    });
    const error = await migrate(sql, dir, () => {}).catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("0001_a.sql was edited after it was applied");
    expect(await appliedNames(sql)).toEqual(["0001_a.sql", "0002_b.sql"]);
    expect(await tableExists(sql, "c")).toBe(false);
  });

  test("warns about an applied migration whose file is gone", async () => {
    const sql = pool(await freshDatabase());
    const dir = migrationDir({ "0001_a.sql": "CREATE TABLE a (id int);", "0002_b.sql": "CREATE TABLE b (id int);" });
    await migrate(sql, dir, () => {});
    rmSync(join(dir, "0002_b.sql"));
    const lines: string[] = [];
    expect(await migrate(sql, dir, (line) => lines.push(line))).toEqual({ applied: [] });
    expect(lines).toEqual([`warning: 0002_b.sql is recorded as applied but is missing from ${dir}`, "up to date (2 migrations)"]);
  });
});

describe("bun db/migrate.ts", () => {
  async function run(args: string[], env: Record<string, string | undefined>) {
    const base: Record<string, string | undefined> = { ...process.env };
    delete base.AUTH_DATABASE_URL;
    delete base.TRANS_DATABASE_URL;
    const proc = Bun.spawn(["bun", "db/migrate.ts", ...args], {
      cwd: REPO_ROOT,
      env: { ...base, ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { stdout, stderr, code };
  }

  test("applies auth/migrations to an asyncpg-style AUTH_DATABASE_URL", async () => {
    const url = await freshDatabase();
    const asyncpg = url.replace(/^postgres(ql)?:\/\//, "postgresql+asyncpg://");
    const first = await run(["auth"], { AUTH_DATABASE_URL: asyncpg });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const { hostname, port, pathname, password } = new URL(url);
    expect(first.stdout).toContain(`migrate auth: target ${hostname}:${port || "5432"}${pathname}`);
    if (password) expect(first.stdout).not.toContain(`:${password}@`);

    // The service's own files may still be empty; the bookkeeping must match whatever is there.
    const files = readdirSync(join(REPO_ROOT, "auth/migrations"))
      .filter((name) => name.endsWith(".sql"))
      .sort();
    expect(await appliedNames(pool(url))).toEqual(files);
    const second = await run(["auth"], { AUTH_DATABASE_URL: asyncpg });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`migrate auth: up to date (${files.length} migrations)`);
  });

  test("a failing migration exits 1 with PostgreSQL's error and leaves nothing of that file behind", async () => {
    const url = await freshDatabase();
    const sql = pool(url);
    // A table the first auth migration creates late in the file makes that file fail midway.
    await sql`CREATE TABLE users (id int)`;
    const result = await run(["auth"], { AUTH_DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^migrate auth: 0000_init\.sql failed: relation "users" already exists/);
    expect(await appliedNames(sql)).toEqual([]);
    // Its first statement created login_failures; the file's transaction took it back.
    expect(await tableExists(sql, "login_failures")).toBe(false);
  });

  test("a missing service argument or an unknown service exits 2", async () => {
    const none = await run([], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("usage: bun db/migrate.ts <auth|transaction>");
    const unknown = await run(["billing"], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"billing"');
  });

  test("a missing or malformed database URL exits 2 and names the variable", async () => {
    const missing = await run(["auth"], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe("migrate auth: AUTH_DATABASE_URL is not set");
    const malformed = await run(["transaction"], { TRANS_DATABASE_URL: "mysql://root:hunter2@db/trans" });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr.trim()).toBe("migrate transaction: TRANS_DATABASE_URL is not a postgres:// URL");
  });

  test("a database that cannot be reached exits 1 without printing the password", async () => {
    // Depending on the server's auth method this fails on the password or on the missing database.
    const url = new URL(withDatabase(testServerUrl(), `missing_${process.pid}_${Date.now().toString(36)}`));
    url.password = "s3cret-never-printed";
    const result = await run(["auth"], { AUTH_DATABASE_URL: url.toString() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^migrate auth: (database ".*" does not exist|password authentication failed)/);
    expect(result.stdout + result.stderr).not.toContain("s3cret-never-printed");
  });
});
