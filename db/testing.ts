import { connect, ensureDatabase, withDatabase, type Sql } from "./connect";
import { migrate } from "./migrate";

/** The server the suite runs against; db/test-preload.ts guarantees it is set. */
export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("TEST_DATABASE_URL is not set: run the tests with `bun test`");
  return url;
}

export interface TestDatabase {
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

let counter = 0;

/** A fresh database with the service's migrations applied, for one test file. */
export async function testDatabase(service: "auth" | "transaction"): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `test_${service}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await ensureDatabase(server, name);
  const url = withDatabase(server, name);
  const sql = connect(url);
  await migrate(sql, `${import.meta.dir}/../${service}/migrations`, () => {});
  return {
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await dropDatabase(server, name);
    },
  };
}

/** Drops a database the tests made; the name is checked, since it cannot be a bind parameter. */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`bad database name: ${database}`);
  const admin = connect(withDatabase(serverUrl, "postgres"), { max: 1 });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
