import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { connect, type Sql } from "../db/connect";
import { random } from "../common/testing";
import { testDatabase, type TestDatabase } from "../db/testing";
import { openAccount, type Account } from "./accounts";
import { auditLedger } from "./audit";
import { listTransfers, transferMoney, type TransferResult } from "./transfers";

// Real databases, servers and subprocesses take seconds on a small, busy machine.
setDefaultTimeout(30_000);

const OPENING_MINOR = 100_000n; // 1000.00, the default starting balance

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await testDatabase("transaction");
  // Concurrency only shows when many transactions really run at once.
  sql = connect(db.url, { max: 20 });
});

afterAll(async () => {
  await sql.end({ timeout: 5 });
  await db.drop();
});

interface User {
  uid: bigint;
  username: string;
}

let nextUid = 1n;
/** A user the ledger has never seen; names are unique so tests never share an account. */
function newUser(name = "user"): User {
  const uid = nextUid++;
  return { uid, username: `${name}_${uid}` };
}

function send(from: User, to: User, amountMinor: bigint, key: string | null = null, requestHash = "h1"): Promise<TransferResult> {
  return transferMoney(sql, {
    senderUid: from.uid,
    senderUsername: from.username,
    receiverUid: to.uid,
    receiverUsername: to.username,
    amountMinor,
    openingMinor: OPENING_MINOR,
    key,
    requestHash,
    keyRetentionHours: 24,
  });
}

/** The account as it is, without opening one: the routes only ever open accounts. */
async function accountOf(sql: Sql, uid: bigint): Promise<Account | undefined> {
  const [account] = await sql<Account[]>`
    SELECT id, uid, username, balance, opening_balance, created_at FROM accounts WHERE uid = ${uid}::bigint`;
  return account;
}

async function balanceOf(user: User): Promise<bigint | undefined> {
  return (await accountOf(sql, user.uid))?.balance;
}

async function expectLedgerBalances() {
  const audit = await auditLedger(sql);
  expect(audit.violations).toEqual([]);
  expect(audit.ok).toBe(true);
}

describe("accounts", () => {
  test("opens an account on first use and records its opening balance", async () => {
    const alice = newUser("Alice");
    const account = await openAccount(sql, { uid: alice.uid, username: alice.username, openingMinor: OPENING_MINOR });
    expect(account).toMatchObject({ uid: alice.uid, username: alice.username, balance: OPENING_MINOR, opening_balance: OPENING_MINOR });
    const again = await openAccount(sql, { uid: alice.uid, username: alice.username, openingMinor: 1n });
    expect(again).toEqual(account);
  });

  test("pays a receiver named in any case when it holds their account, and says so when it does not", async () => {
    const alice = newUser("alice");
    const bob = newUser("Bob");
    await openAccount(sql, { uid: bob.uid, username: bob.username, openingMinor: OPENING_MINOR });
    const byName = (username: string) =>
      transferMoney(sql, {
        senderUid: alice.uid,
        senderUsername: alice.username,
        receiverUid: null,
        receiverUsername: username,
        amountMinor: 100n,
        openingMinor: OPENING_MINOR,
        key: null,
        requestHash: "h1",
        keyRetentionHours: 24,
      });
    const paid = await byName(bob.username.toUpperCase());
    expect(paid.outcome).toBe("done");
    expect(paid.outcome === "done" && paid.transfer.receiver_username).toBe(bob.username);
    expect(await balanceOf(bob)).toBe(OPENING_MINOR + 100n);
    expect((await byName("nobody_at_all")).outcome).toBe("receiver_unknown");
    expect(await balanceOf(alice)).toBe(OPENING_MINOR - 100n);
  });

  test("opens the same account once under 50 concurrent first uses", async () => {
    const carol = newUser("carol");
    const accounts = await Promise.all(
      Array.from({ length: 50 }, () => openAccount(sql, { uid: carol.uid, username: carol.username, openingMinor: OPENING_MINOR })),
    );
    expect(new Set(accounts.map((account) => account.id)).size).toBe(1);
  });
});

describe("transfers", () => {
  test("moves exact minor units and opens both accounts on first use", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const result = await send(alice, bob, 1999n);
    expect(result.outcome).toBe("done");
    if (result.outcome !== "done") return;
    expect(result.transfer).toMatchObject({ amount: 1999n, sender_username: alice.username, receiver_username: bob.username });
    for (let i = 0; i < 10; i++) expect((await send(alice, bob, 10n)).outcome).toBe("done");
    expect(await balanceOf(alice)).toBe(OPENING_MINOR - 1999n - 100n);
    expect(await balanceOf(bob)).toBe(OPENING_MINOR + 1999n + 100n);
    expect((await accountOf(sql, bob.uid))?.opening_balance).toBe(OPENING_MINOR);
  });

  test("refuses a transfer larger than the balance and writes no transfer", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const [before] = await sql`SELECT count(*)::int AS n FROM transfers`;
    expect(await send(alice, bob, OPENING_MINOR + 1n)).toEqual({ outcome: "insufficient_funds" });
    const [after] = await sql`SELECT count(*)::int AS n FROM transfers`;
    expect(after!.n).toBe(before!.n);
    expect(await balanceOf(alice)).toBe(OPENING_MINOR);
    expect(await balanceOf(bob)).toBe(OPENING_MINOR);
  });

  test("refuses a transfer to oneself before writing anything", async () => {
    const alice = newUser();
    await expect(send(alice, alice, 1n)).rejects.toMatchObject({ code: "23514" });
    expect(await accountOf(sql, alice.uid)).toBeUndefined();
  });

  test("replays a retried key with the same id and moves nothing", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const first = await send(alice, bob, 500n, "order-1");
    const again = await send(alice, bob, 500n, "order-1");
    expect(first.outcome).toBe("done");
    expect(again.outcome).toBe("replayed");
    if (first.outcome !== "done" || again.outcome !== "replayed") return;
    expect(again.transfer).toEqual(first.transfer);
    expect(await balanceOf(alice)).toBe(OPENING_MINOR - 500n);
  });

  test("refuses a key reused with another request and moves nothing", async () => {
    const [alice, bob] = [newUser(), newUser()];
    await send(alice, bob, 500n, "order-2", "hash-a");
    expect(await send(alice, bob, 700n, "order-2", "hash-b")).toEqual({ outcome: "idempotency_key_reused" });
    expect(await balanceOf(alice)).toBe(OPENING_MINOR - 500n);
  });

  test("scopes a key to its sender", async () => {
    const [alice, bob] = [newUser(), newUser()];
    expect((await send(alice, bob, 1n, "shared-key")).outcome).toBe("done");
    expect((await send(bob, alice, 1n, "shared-key")).outcome).toBe("done");
  });
});

describe("transfers under concurrency", () => {
  test("30 concurrent requests with one key move the money once", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const results = await Promise.all(Array.from({ length: 30 }, () => send(alice, bob, 1234n, "pay-once")));
    expect(results.filter((r) => r.outcome === "done")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "replayed")).toHaveLength(29);
    expect(new Set(results.map((r) => ("transfer" in r ? r.transfer.id : undefined))).size).toBe(1);
    expect(await balanceOf(alice)).toBe(OPENING_MINOR - 1234n);
    await expectLedgerBalances();
  });

  test("300 concurrent transfers from an account that can afford 100: exactly 100 succeed", async () => {
    const rich = newUser();
    const receivers = [newUser(), newUser(), newUser()];
    await openAccount(sql, { uid: rich.uid, username: rich.username, openingMinor: OPENING_MINOR });
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => send(rich, receivers[i % 3]!, 1000n)));
    expect(results.filter((r) => r.outcome === "done")).toHaveLength(100);
    expect(results.filter((r) => r.outcome === "insufficient_funds")).toHaveLength(200);
    expect(await balanceOf(rich)).toBe(0n);
    await expectLedgerBalances();
  });

  test("1000 concurrent random transfers among 5 accounts in both directions never deadlock", async () => {
    const users = Array.from({ length: 5 }, () => newUser("ring"));
    const next = random(42);
    const pick = () => users[Math.floor(next() * users.length)]!;
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => {
        const from = pick();
        let to = pick();
        while (to === from) to = pick();
        return send(from, to, BigInt(1 + Math.floor(next() * 5000)));
      }),
    );
    const done = results.filter((r) => r.outcome === "done").length;
    expect(done).toBeGreaterThan(0);
    const ids = (await Promise.all(users.map((u) => accountOf(sql, u.uid)))).map((a) => a!.id);
    const [row] = await sql`SELECT count(*)::int AS n FROM transfers WHERE sender_id IN ${sql(ids)}`;
    expect(row!.n).toBe(done);
    await expectLedgerBalances();
  });
});

describe("history", () => {
  test("lists sent and received transfers newest first, ties by id, with paging", async () => {
    const [alice, bob, carol] = [newUser(), newUser(), newUser()];
    const ids: bigint[] = [];
    for (const [from, to] of [
      [alice, bob],
      [bob, alice],
      [carol, alice],
      [alice, carol],
      [bob, carol],
    ] as const) {
      const result = await send(from, to, 100n);
      if (result.outcome !== "done") throw new Error(`setup transfer was ${result.outcome}`);
      ids.push(result.transfer.id);
    }
    const [aliceId, bobId] = [(await accountOf(sql, alice.uid))!.id, (await accountOf(sql, bob.uid))!.id];
    // Two transfers in the same instant are told apart by id; they cancel out, so the audit still balances.
    const tied = await sql<{ id: bigint }[]>`
      INSERT INTO transfers (sender_id, receiver_id, amount, created_at)
      VALUES (${aliceId}, ${bobId}, 1, now() + interval '1 hour'), (${bobId}, ${aliceId}, 1, now() + interval '1 hour')
      RETURNING id`;
    // The last setup transfer, bob to carol, is not alice's.
    const expected = [tied[1]!.id, tied[0]!.id, ...ids.slice(0, 4).reverse()];
    const all = await listTransfers(sql, alice.uid, { skip: 0, limit: 1000 });
    expect(all.map((t) => t.id)).toEqual(expected);
    expect(all[2]).toMatchObject({ amount: 100n, sender_username: alice.username, receiver_username: carol.username });
    expect((await listTransfers(sql, alice.uid, { skip: 2, limit: 3 })).map((t) => t.id)).toEqual(expected.slice(2, 5));
    expect(await listTransfers(sql, alice.uid, { skip: 6, limit: 10 })).toEqual([]);
    expect(await listTransfers(sql, newUser().uid, { skip: 0, limit: 10 })).toEqual([]);
  });
});

describe("audit", () => {
  test("reports an account whose balance does not match its transfers", async () => {
    const [alice, bob] = [newUser(), newUser()];
    await send(alice, bob, 100n);
    await sql`UPDATE accounts SET balance = balance + 1 WHERE uid = ${alice.uid}`;
    try {
      const audit = await auditLedger(sql);
      expect(audit.ok).toBe(false);
      expect(audit.violations).toContainEqual(expect.objectContaining({ kind: "account", uid: alice.uid, expectedMinor: OPENING_MINOR - 100n }));
      expect(audit.violations).toContainEqual(expect.objectContaining({ kind: "ledger" }));
      const run = Bun.spawnSync(["bun", `${import.meta.dir}/audit.ts`], { env: { ...process.env, TRANS_DATABASE_URL: db.url } });
      expect(run.exitCode).toBe(1);
      expect(run.stdout.toString()).toContain(alice.username);
    } finally {
      await sql`UPDATE accounts SET balance = balance - 1 WHERE uid = ${alice.uid}`;
    }
    const run = Bun.spawnSync(["bun", `${import.meta.dir}/audit.ts`], { env: { ...process.env, TRANS_DATABASE_URL: db.url } });
    expect(run.exitCode).toBe(0);
  });

  test("the audit command exits 2 with one clear line when TRANS_DATABASE_URL is missing", () => {
    const { TRANS_DATABASE_URL: _, ...env } = process.env;
    const run = Bun.spawnSync(["bun", `${import.meta.dir}/audit.ts`], { env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString().trim()).toBe("audit: TRANS_DATABASE_URL is not set");
  });
});
