import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { transferMoney } from "../transaction/transfers";
import { connect, type Sql } from "./connect";
import { grantServiceRole } from "./service-role";
import { testDatabase, testServerUrl, type TestDatabase } from "./testing";

// Real databases on a small, busy machine take seconds.
setDefaultTimeout(30_000);

// Roles belong to the whole server, which other runs may share: each run names its own.
const ROLE = `svc_test_${process.pid}_${Date.now().toString(36)}`;
const PASSWORD = "first-password-of-the-role-0123456789";
let db: TestDatabase;
let asRole: Sql;

/** The test database's URL with the role's name and password in place of the owner's. */
function urlAs(role: string, password: string): string {
  const url = new URL(db.url);
  [url.username, url.password] = [role, encodeURIComponent(password)];
  return url.toString();
}

/** The SQLSTATE of a statement that must fail; "ok" when it did not. */
const refusal = (run: () => Promise<unknown>) =>
  run().then(
    () => "ok",
    (error: { code?: string }) => error.code ?? String(error),
  );

beforeAll(async () => {
  db = await testDatabase("transaction");
  await grantServiceRole(db.sql, ROLE, PASSWORD);
  asRole = connect(urlAs(ROLE, PASSWORD), { max: 2 });
});

afterAll(async () => {
  await asRole.end({ timeout: 5 });
  await db.drop();
  const admin = connect(testServerUrl(), { max: 1 });
  await admin.unsafe(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin.end({ timeout: 5 });
});

describe("the service's login role", () => {
  test("is a login role with a SCRAM password, not a superuser, and owns nothing", async () => {
    const [role] = await db.sql`
      SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolpassword LIKE 'SCRAM-SHA-256$%' AS scram
      FROM pg_authid WHERE rolname = ${ROLE}`;
    expect(role).toEqual({ rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolbypassrls: false, scram: true });
    const [owned] = await db.sql`SELECT count(*)::int AS n FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = ${ROLE})`;
    expect(owned!.n).toBe(0);
  });

  test("reads and writes the tables and runs the functions: a whole transfer", async () => {
    const base = {
      senderUsername: "alice",
      receiverUsername: "bob",
      amountMinor: 250n,
      openingMinor: 1000n,
      key: null,
      requestHash: "h",
      keyRetentionHours: 24,
    };
    const result = await transferMoney(asRole, { ...base, senderUid: 1n, receiverUid: 2n });
    expect(result.outcome).toBe("done");
    const [row] = await asRole`SELECT balance FROM accounts WHERE username = 'bob'`;
    expect(row!.balance).toBe(1250n);
    expect(await refusal(() => asRole`UPDATE accounts SET balance = balance WHERE username = 'bob'`)).toBe("ok");
    expect(await refusal(() => asRole`DELETE FROM idempotency_keys WHERE false`)).toBe("ok");
  });

  const refused: [string, string][] = [
    ["CREATE TABLE", "CREATE TABLE intruder (id int)"],
    ["CREATE TEMP TABLE", "CREATE TEMP TABLE intruder (id int)"],
    ["CREATE FUNCTION", "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'"],
    ["ALTER TABLE", "ALTER TABLE accounts ADD COLUMN intruder int"],
    ["DROP TABLE", "DROP TABLE transfers"],
    ["TRUNCATE", "TRUNCATE transfers"],
    ["a read of the migration bookkeeping", "SELECT * FROM schema_migrations"],
    ["CREATE SCHEMA", "CREATE SCHEMA intruder"],
    ["CREATE ROLE", "CREATE ROLE intruder"],
  ];
  for (const [name, statement] of refused) {
    test(`is refused ${name}`, async () => {
      expect(await refusal(() => asRole.unsafe(statement))).toBe("42501");
    });
  }

  test("can use a table that a later migration adds once the grant runs again, and one the owner adds by hand at once", async () => {
    await db.sql`CREATE TABLE later_table (id bigserial PRIMARY KEY, note text)`;
    expect(await refusal(() => asRole`INSERT INTO later_table (note) VALUES ('x')`)).toBe("ok");
    await grantServiceRole(db.sql, ROLE, PASSWORD);
    expect(await refusal(() => asRole`SELECT count(*) FROM later_table`)).toBe("ok");
  });

  test("is granted idempotently by concurrent runners, and a new password replaces the old one", async () => {
    const [before] = await db.sql`SELECT rolpassword FROM pg_authid WHERE rolname = ${ROLE}`;
    const owners = [connect(db.url, { max: 1 }), connect(db.url, { max: 1 })];
    try {
      await Promise.all(owners.map((sql) => grantServiceRole(sql, ROLE, "second-password-of-the-role-0123456789")));
    } finally {
      await Promise.all(owners.map((sql) => sql.end({ timeout: 5 })));
    }
    const [after] = await db.sql`SELECT rolpassword FROM pg_authid WHERE rolname = ${ROLE}`;
    expect(after!.rolpassword).not.toBe(before!.rolpassword);
    await grantServiceRole(db.sql, ROLE, PASSWORD);
  });

  test("is never the owner who migrates", async () => {
    const [me] = await db.sql<{ name: string }[]>`SELECT current_user AS name`;
    expect(
      await grantServiceRole(db.sql, me!.name, PASSWORD).then(
        () => "granted",
        (e: Error) => e.message,
      ),
    ).toContain("must not be the owner");
  });
});
