import type { Sql } from "./connect";

/**
 * A fingerprint of every table of the database (row count and a hash of all rows), for the
 * tests that prove a refused request wrote nothing anywhere, whatever tables a later change adds.
 */
export async function tableSnapshot(sql: Sql): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }[]>`
    SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename`;
  const snapshot: Record<string, string> = {};
  for (const { name } of tables) {
    // The name comes from the catalogue, not from a request; it is quoted as an identifier.
    const [row] = await sql.unsafe(
      `SELECT count(*)::int AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS h FROM "${name.replace(/"/g, '""')}" t`,
    );
    snapshot[name] = `${row!.n} rows ${row!.h}`;
  }
  return snapshot;
}
