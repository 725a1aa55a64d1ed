import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { testDatabase, type TestDatabase } from "../db/testing";
import { historyQuery, isOwnTransfer, listTransfers, type Page } from "./transfers";

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

  /**
   * Every scan of a history index in the plan as run, with how many rows it read and dropped.
   * `generic`: the plan made once for any parameter values, as the services' connections run
   * it (plan_cache_mode, db/connect.ts); otherwise EXPLAIN plans for these very values.
   */
  async function indexScans(page: Page, generic = false) {
    const query = historyQuery(big.sql, 7n, page);
    let plan: PlanNode;
    if (generic) {
      const { string } = await query.describe();
      const values = (query as unknown as { parameters: (bigint | null)[] }).parameters.map((v) => (v === null ? "NULL" : String(v)));
      plan = await big.sql.begin(async (tx) => {
        await tx.unsafe("SET LOCAL plan_cache_mode = force_generic_plan");
        await tx.unsafe(`PREPARE history_generic AS ${string}`);
        const [row] = await tx.unsafe(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE history_generic(${values.join(", ")})`);
        await tx.unsafe("DEALLOCATE history_generic");
        return row!["QUERY PLAN"][0].Plan as PlanNode;
      });
      // Parameters, not values, in the plan (uid = $1): it is the generic one.
      expect(JSON.stringify(plan)).toContain("$1");
    } else {
      const [row] = await big.sql<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`;
      plan = row!["QUERY PLAN"][0].Plan;
    }
    const scans: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      if (String(node["Index Name"]).includes("history_idx")) scans.push(node);
      node.Plans?.forEach(walk);
    };
    walk(plan);
    return scans;
  }

  test.each([
    [0, 50],
    [200, 50],
    [0, 1000],
  ])("the generic plan, made once for any values, reads both indexes in order, no further than the window (skip %p, limit %p)", async (skip, limit) => {
    const scans = await indexScans({ skip, limit }, true);
    expect(scans.map((scan) => `${scan["Node Type"]} ${scan["Index Name"]}`).sort()).toEqual([
      "Index Scan transfers_receiver_history_idx",
      "Index Scan transfers_sender_history_idx",
    ]);
    for (const scan of scans) expect(scan["Actual Rows"]).toBeLessThanOrEqual(skip + limit);
  });

  test("starts a before_id page right after the cursor in both indexes, at any depth", async () => {
    const all = await listTransfers(big.sql, 7n, { skip: 0, limit: 1000 });
    for (const depth of [10, 200, all.length - 20]) {
      const cursor = all[depth - 1]!.id;
      const page = await listTransfers(big.sql, 7n, { skip: 0, limit: 50, beforeId: cursor });
      expect(page.map((t) => t.id)).toEqual(all.slice(depth, depth + 50).map((t) => t.id));
      const scans = [...(await indexScans({ skip: 0, limit: 50, beforeId: cursor })), ...(await indexScans({ skip: 0, limit: 50, beforeId: cursor }, true))];
      expect(scans.map((scan) => scan["Index Name"]).sort()).toEqual([
        "transfers_receiver_history_idx",
        "transfers_receiver_history_idx",
        "transfers_sender_history_idx",
        "transfers_sender_history_idx",
      ]);
      for (const scan of scans) {
        // The cursor is part of the Index Cond, so nothing before it is read and dropped.
        expect(scan["Index Cond"]).toContain("created_at");
        expect(scan["Rows Removed by Filter"] ?? 0).toBe(0);
        expect(scan["Actual Rows"]).toBeLessThanOrEqual(50);
      }
    }
  });

  test("gives no page for a cursor that is not one of the user's transfers", async () => {
    const [other] = await big.sql`
      SELECT t.id FROM transfers t JOIN accounts a ON a.id IN (t.sender_id, t.receiver_id) WHERE a.uid = 8
      EXCEPT SELECT t.id FROM transfers t JOIN accounts a ON a.id IN (t.sender_id, t.receiver_id) WHERE a.uid = 7
      LIMIT 1`;
    expect(await listTransfers(big.sql, 7n, { skip: 0, limit: 50, beforeId: other!.id })).toEqual([]);
    expect(await isOwnTransfer(big.sql, 7n, other!.id)).toBe(false);
    expect(await listTransfers(big.sql, 7n, { skip: 0, limit: 50, beforeId: 10n ** 15n })).toEqual([]);
  });
});

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Actual Rows": number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}
