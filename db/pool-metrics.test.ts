import { afterAll, describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { parseExposition } from "../common/test-metrics";
import { freePort, until } from "../scripts/processes";
import { connect } from "./connect";
import { errorClass, instrumentSql } from "./pool-metrics";
import { testDatabase } from "./testing";

const db = await testDatabase("auth");
afterAll(() => db.drop());

/** A pool of its own, so that its size is known and no other test's query is counted. */
function measuredPool(max: number) {
  const registry = new Registry();
  const raw = connect(db.url, { max });
  const sql = instrumentSql(raw, registry);
  const read = async () => parseExposition(await registry.metrics());
  return { sql, read, end: () => raw.end({ timeout: 5 }) };
}

describe("errorClass", () => {
  const cases: [unknown, string][] = [
    [{ code: "23505" }, "23"],
    [{ code: "22012" }, "22"],
    [{ code: "40001" }, "40"],
    [{ code: "57P01" }, "57"],
    [{ code: "XX000" }, "XX"],
    [{ code: "ECONNREFUSED" }, "connection"],
    [{ code: "EPIPE" }, "connection"],
    [{ code: "CONNECT_TIMEOUT" }, "connection"],
    [{ code: "CONNECTION_CLOSED" }, "connection"],
    [{ code: "UNDEFINED_VALUE" }, "other"],
    [{ code: 42 }, "other"],
    [new Error("no code"), "other"],
    [null, "other"],
  ];
  for (const [error, expected] of cases) {
    test(`${error instanceof Error ? "an error without a code" : JSON.stringify(error)} is class ${expected}`, () => {
      expect(errorClass(error)).toBe(expected);
    });
  }
});

describe("instrumentSql", () => {
  test("answers exactly what the pool answers, bigints and fragments included", async () => {
    const pool = measuredPool(2);
    try {
      const [row] = await pool.sql<{ n: bigint; s: string }[]>`SELECT ${9007199254740993n}::int8 AS n, ${"x"} ${pool.sql`|| 'y'`} AS s`;
      expect(row).toEqual({ n: 9007199254740993n, s: "xy" });
      // The nested fragment was never run on its own, so nothing is left counted as in flight.
      const at = await pool.read();
      expect(at.value("db_pool_connections_in_use")).toBe(0);
      expect(at.value("db_pool_queries_waiting")).toBe(0);
      expect(at.value("db_pool_max_connections")).toBe(2);
    } finally {
      await pool.end();
    }
  });

  test("shows the connections in use and the queries waiting while queries run, and 0 after", async () => {
    const pool = measuredPool(2);
    try {
      const sleeping = Array.from({ length: 5 }, () => pool.sql`SELECT pg_sleep(0.6)`);
      const running = Promise.all(sleeping);
      const busy = await until(async () => (await pool.read()).value("db_pool_connections_in_use") === 2, 2000, 20);
      const during = await pool.read();
      expect(busy).toBe(true);
      expect(during.value("db_pool_queries_waiting")).toBe(3);
      await running;
      const after = await pool.read();
      expect([after.value("db_pool_connections_in_use"), after.value("db_pool_queries_waiting")]).toEqual([0, 0]);
    } finally {
      await pool.end();
    }
  });

  test("counts failed queries by SQLSTATE class, and the query still fails as before", async () => {
    const pool = measuredPool(1);
    try {
      await pool.sql`CREATE TEMP TABLE t (id int PRIMARY KEY)`;
      await pool.sql`INSERT INTO t VALUES (1)`;
      const duplicate = await pool.sql`INSERT INTO t VALUES (1)`.catch((e: { code: string }) => e.code);
      const division = await pool.sql`SELECT 1 / 0`.catch((e: { code: string }) => e.code);
      expect([duplicate, division]).toEqual(["23505", "22012"]);
      const at = await pool.read();
      expect(at.value("db_errors_total", { class: "23" })).toBe(1);
      expect(at.value("db_errors_total", { class: "22" })).toBe(1);
      expect(at.value("db_errors_total", { class: "40" })).toBe(0);
      expect(at.value("db_pool_connections_in_use")).toBe(0);
    } finally {
      await pool.end();
    }
  });

  test("counts a database that cannot be reached as class connection", async () => {
    const registry = new Registry();
    const raw = connect(`postgres://postgres@127.0.0.1:${freePort()}/none`, { max: 1 });
    const sql = instrumentSql(raw, registry);
    try {
      expect(
        await sql`SELECT 1`.then(
          () => "answered",
          (e: { code: string }) => e.code,
        ),
      ).toBe("ECONNREFUSED");
      const at = parseExposition(await registry.metrics());
      expect(at.value("db_errors_total", { class: "connection" })).toBe(1);
      expect(at.value("db_pool_connections_in_use")).toBe(0);
    } finally {
      await raw.end({ timeout: 1 });
    }
  });
});
