import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { testDatabase, type TestDatabase } from "../db/testing";
import { historyQuery, listTransfers } from "./transfers";

// Building and analysing a table of 20,000 transfers takes seconds on a small, busy machine.
setDefaultTimeout(30_000);

/** The history query's cost must not grow with the table: its plan reads only the account's index ranges. */
describe("history on a large table", () => {
  let big: TestDatabase;
  beforeAll(async () => {
    big = await testDatabase("transaction");
    // 10,000 accounts, the first 100 of which share 20,000 transfers (about 400 each): big
    // enough that a scan of either table costs more than the indexes, if they serve the query.
    await big.sql`
      INSERT INTO accounts (uid, username, balance, opening_balance)
      SELECT g, 'bulk_' || g, 0, 0 FROM generate_series(1, 10000) AS g`;
    await big.sql`
      WITH ids AS (SELECT array_agg(id ORDER BY id) AS a FROM accounts WHERE uid <= 100)
      INSERT INTO transfers (sender_id, receiver_id, amount, created_at)
      SELECT a[1 + g % 100], a[1 + (g + 1 + (g / 100) % 99) % 100], 1, now() - g * interval '1 second'
      FROM ids, generate_series(1, 20000) AS g`;
    await big.sql`ANALYZE`;
  });
  afterAll(() => big.drop());

  test.each([
    [0, 100],
    [0, 1000],
    [200, 50],
  ])("reads one account's history through its indexes (skip %p, limit %p)", async (skip, limit) => {
    const plan = await big.sql<{ "QUERY PLAN": string }[]>`EXPLAIN ${historyQuery(big.sql, 7n, { skip, limit })}`;
    const text = plan.map((row) => row["QUERY PLAN"]).join("\n");
    expect(text).not.toContain("Seq Scan");
    expect(text).toContain("transfers_sender_history_idx");
    expect(text).toContain("transfers_receiver_history_idx");
    const [mine] = await big.sql`
      SELECT count(*)::int AS n FROM transfers t JOIN accounts a ON a.id IN (t.sender_id, t.receiver_id) WHERE a.uid = 7`;
    expect(await listTransfers(big.sql, 7n, { skip, limit })).toHaveLength(Math.min(limit, mine!.n - skip));
  });
});
