import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { Logger } from "../common/logger";
import { until } from "../scripts/processes";
import { connect, type Sql } from "../db/connect";
import { testDatabase, type TestDatabase } from "../db/testing";
import { loadTransactionConfig } from "./config";
import { purgeExpiredKeys, startKeyPurge } from "./key-purge";
import { transferMoney } from "./transfers";

// Real databases and thousands of rows take seconds on a small, busy machine.
setDefaultTimeout(30_000);

/** Idempotency keys live for the retention, then go, without ever holding up a transfer. */
let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await testDatabase("transaction");
  sql = connect(db.url, { max: 10 });
});
afterAll(async () => {
  await sql.end({ timeout: 5 });
  await db.drop();
});

let nextUid = 1n;
const newUser = () => {
  const uid = nextUid++;
  return { uid, username: `user_${uid}` };
};

function send(from: { uid: bigint; username: string }, to: { uid: bigint; username: string }, key: string) {
  return transferMoney(sql, {
    senderUid: from.uid,
    senderUsername: from.username,
    receiverUid: to.uid,
    receiverUsername: to.username,
    amountMinor: 100n,
    openingMinor: 100_000n,
    key,
    requestHash: "h",
    keyRetentionHours: 24,
  });
}

/** Keys of one transfer between two fresh accounts, `hoursOld` hours old, named `${prefix}<n>`. */
async function keys(count: number, hoursOld: number, prefix: string): Promise<bigint> {
  const [from, to] = [newUser(), newUser()];
  const first = await send(from, to, `${prefix}first`);
  if (first.outcome !== "done") throw new Error(first.outcome);
  await sql`
    INSERT INTO idempotency_keys (owner_uid, key, request_hash, transfer_id, created_at)
    SELECT ${from.uid}::bigint, ${prefix} || g, 'h', ${first.transfer.id}::bigint, now() - make_interval(hours => ${hoursOld}::int)
    FROM generate_series(1, ${count}::int) AS g`;
  await sql`UPDATE idempotency_keys SET created_at = now() - make_interval(hours => ${hoursOld}::int) WHERE key = ${`${prefix}first`}`;
  return from.uid;
}

const countKeys = async (prefix: string) => (await sql`SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE ${`${prefix}%`}`)[0]!.n as number;

describe("the retention of idempotency keys", () => {
  test("replays a key younger than the retention, and makes a new transfer for an older one", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const first = await send(alice, bob, "pay-1");
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE owner_uid = ${alice.uid}`;
    const young = await send(alice, bob, "pay-1");
    expect(young.outcome).toBe("replayed");
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE owner_uid = ${alice.uid}`;
    const old = await send(alice, bob, "pay-1");
    expect(old.outcome).toBe("done");
    if (first.outcome !== "done" || old.outcome !== "done") return;
    expect(old.transfer.id).not.toBe(first.transfer.id);
    // The key now names the new transfer, for its own full retention.
    expect((await send(alice, bob, "pay-1")).outcome).toBe("replayed");
    const [row] = await sql`SELECT transfer_id FROM idempotency_keys WHERE owner_uid = ${alice.uid} AND key = 'pay-1'`;
    expect(row!.transfer_id).toBe(old.transfer.id);
  });

  test("is IDEMPOTENCY_KEY_RETENTION_HOURS, 24 by default, and never less than 24", () => {
    const env = { TRANS_DATABASE_URL: "postgres://t@localhost/t", SECRET_KEY: "s".repeat(32) };
    expect(loadTransactionConfig(env).IDEMPOTENCY_KEY_RETENTION_HOURS).toBe(24);
    expect(loadTransactionConfig({ ...env, IDEMPOTENCY_KEY_RETENTION_HOURS: "72" }).IDEMPOTENCY_KEY_RETENTION_HOURS).toBe(72);
    expect(() => loadTransactionConfig({ ...env, IDEMPOTENCY_KEY_RETENTION_HOURS: "23" })).toThrow(/IDEMPOTENCY_KEY_RETENTION_HOURS/);
  });

  test("the function itself refuses a retention shorter than the 24 hours the IETF draft asks for", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const call = transferMoney(sql, {
      senderUid: alice.uid,
      senderUsername: alice.username,
      receiverUid: bob.uid,
      receiverUsername: bob.username,
      amountMinor: 1n,
      openingMinor: 100n,
      key: "k",
      requestHash: "h",
      keyRetentionHours: 23,
    });
    await expect(call).rejects.toMatchObject({ code: "23514" });
  });
});

describe("the purge", () => {
  test("deletes expired keys in batches of the given size, oldest first, and keeps live ones", async () => {
    await keys(1234, 30, "old-");
    await keys(50, 1, "live-");
    const batches = [];
    for (let n = -1; n !== 0; ) batches.push((n = await purgeExpiredKeys(sql, 24, 500)));
    expect(batches).toEqual([500, 500, 235, 0]);
    expect(await countKeys("old-")).toBe(0);
    expect(await countKeys("live-")).toBe(51);
  });

  test("never waits for a transfer that holds an expired key's row, and leaves that row alone", async () => {
    await keys(20, 30, "held-");
    let purged = -1;
    await sql.begin(async (tx) => {
      // What a transfer reusing an expired key holds while it runs: that key's row.
      await tx`SELECT 1 FROM idempotency_keys WHERE key = 'held-7' FOR UPDATE`;
      purged = await purgeExpiredKeys(sql, 24, 500);
    });
    expect(purged).toBe(20);
    expect(await countKeys("held-")).toBe(1);
  });

  test("never blocks a transfer while a batch is open", async () => {
    await keys(200, 30, "open-");
    const [alice, bob] = [newUser(), newUser()];
    await send(alice, bob, "live-key");
    await sql.begin(async (tx) => {
      expect(await purgeExpiredKeys(tx as unknown as Sql, 24, 500)).toBeGreaterThanOrEqual(201);
      // The batch's row locks are still held: new keys and live keys must not wait for them.
      const started = performance.now();
      const results = await Promise.all([send(alice, bob, "new-key"), send(alice, bob, "live-key")]);
      expect(results.map((r) => r.outcome)).toEqual(["done", "replayed"]);
      expect(performance.now() - started).toBeLessThan(2000);
    });
  });

  test("runs in the background until stopped, and logs what it purged", async () => {
    await keys(30, 30, "bg-");
    const file = `${mkdtempSync(`${tmpdir()}/purge-`)}/purge.log`;
    const log = new Logger({ file, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
    const purge = startKeyPurge(sql, log, { retentionHours: 24, everyMs: 50, batchSize: 7, pauseMs: 1 });
    expect(await until(async () => (await countKeys("bg-")) === 0, 5000, 20)).toBe(true);
    await purge.stop();
    log.close();
    const lines = (await Bun.file(file).text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.filter((l) => l.event === "idempotency_keys_purged").reduce((sum, l) => sum + l.count, 0)).toBeGreaterThanOrEqual(31);
  });
});
