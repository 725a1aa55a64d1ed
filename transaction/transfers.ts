import type postgres from "postgres";
import type { Sql } from "../db/connect";

/** A transfer as the SQL of this file returns it; `transactionOut` turns it into the API shape. */
export interface TransferRow {
  id: bigint;
  sender_id: bigint;
  receiver_id: bigint;
  amount: bigint;
  created_at: Date;
  sender_username: string;
  receiver_username: string;
}

export interface TransferInput {
  senderUid: bigint;
  senderUsername: string;
  /** Null to name the receiver only: transfer_money then looks for an account of that name. */
  receiverUid: bigint | null;
  receiverUsername: string;
  amountMinor: bigint;
  /** The balance an account is opened with if this transfer is its first use. */
  openingMinor: bigint;
  /** The client's Idempotency-Key, scoped to the sender, or null. */
  key: string | null;
  /** A hash of the request, so that a key reused with another body is told apart from a retry (with a key only). */
  requestHash: string | null;
  /** How long a key replays its transfer; an older one is treated as absent. */
  keyRetentionHours: number;
}

export type TransferResult =
  | { outcome: "done" | "replayed"; transfer: TransferRow }
  | { outcome: "insufficient_funds" | "idempotency_key_reused" | "receiver_unknown" };

type FunctionRow = { outcome: TransferResult["outcome"] } & TransferRow;

/**
 * Makes the transfer in one round trip: transfer_money (migrations 0001, 0003) checks the key, finds a
 * receiver given by name, opens both accounts on first use, locks them in a fixed order and
 * checks the balance before it writes anything. Refusals come back as outcomes; only a bug or an outage throws.
 */
export async function transferMoney(sql: Sql, input: TransferInput): Promise<TransferResult> {
  const [row] = await sql<FunctionRow[]>`
    SELECT outcome, id, sender_id, receiver_id, amount, created_at, sender_username, receiver_username
    FROM transfer_money(
      ${input.senderUid}::bigint, ${input.senderUsername}::text,
      ${input.receiverUid}::bigint, ${input.receiverUsername}::text,
      ${input.amountMinor}::bigint, ${input.openingMinor}::bigint,
      ${input.key}::text, ${input.requestHash}::text,
      make_interval(hours => ${input.keyRetentionHours}::int)
    )`;
  if (!row) throw new Error("transfer_money returned no row");
  const { outcome, ...transfer } = row;
  if (outcome === "done" || outcome === "replayed") return { outcome, transfer };
  return { outcome };
}

export interface Page {
  skip: number;
  limit: number;
  /** A keyset cursor: the page starts after this transfer (one of the user's) in newest-first order. */
  beforeId?: bigint;
}

/**
 * The user's transfers, sent and received, newest first (ties by id), as a query that is not
 * yet run, so that a test can EXPLAIN exactly what listTransfers runs.
 *
 * Each side of the UNION ALL is a range scan of its history index that stops after skip + limit
 * rows; the two short lists are merged, and only the rows of the page look up their usernames.
 * No transfer is in both lists (a CHECK forbids sending to oneself), so UNION ALL needs no
 * de-duplication. With 10,000 accounts and 20,000 transfers, or 1,000,000 transfers, ANALYZEd,
 * PostgreSQL 15 and 18 both plan it as (see history-query.test.ts):
 *
 *   Subquery Scan on p
 *     CTE me: Index Scan using accounts_uid_key (uid = $1), once
 *     CTE cursor: Index Scan using transfers_pkey (id = before_id), once, only with a cursor
 *     Limit                                  (offset skip, the page)
 *       Merge Append (created_at DESC, id DESC)
 *         Limit                              (skip + limit)
 *           Index Scan using transfers_sender_history_idx
 *             Index Cond: sender_id = me [AND ROW(created_at, id) < ROW(cursor)]
 *         Limit
 *           Index Scan using transfers_receiver_history_idx
 *             Index Cond: receiver_id = me [AND ROW(created_at, id) < ROW(cursor)]
 *     SubPlan: Index Scan using accounts_pkey (sender's username, once per row of the page)
 *     SubPlan: Index Scan using accounts_pkey (receiver's username, once per row of the page)
 *
 * So the cost grows with skip + limit, never with the size of either table. With `beforeId`,
 * the cursor's (created_at, id) is read once by primary key, and only if the transfer is the
 * user's own; `(created_at, id) < (…)` is a row comparison on the index's own columns, in its
 * own order, so it is part of the Index Cond and each scan starts right after the cursor,
 * reading no row before it: a page by cursor costs the same at any depth.
 */
export function historyQuery(sql: Sql, uid: bigint, page: Page): postgres.PendingQuery<TransferRow[]> {
  const windowSize = BigInt(page.skip) + BigInt(page.limit);
  // Without a cursor the CTE finds nothing and is never read; with one, it is read once.
  const after = page.beforeId === undefined ? sql`` : sql`AND (created_at, id) < ((SELECT created_at FROM cursor), (SELECT id FROM cursor))`;
  return sql<TransferRow[]>`
    WITH me AS MATERIALIZED (
      SELECT id FROM accounts WHERE uid = ${uid}::bigint
    ), cursor AS MATERIALIZED (
      SELECT c.created_at, c.id FROM transfers c, me
      WHERE c.id = ${page.beforeId ?? null}::bigint AND me.id IN (c.sender_id, c.receiver_id)
    ), mine AS (
      (SELECT id, sender_id, receiver_id, amount, created_at
       FROM transfers
       WHERE sender_id = (SELECT id FROM me) ${after}
       ORDER BY created_at DESC, id DESC
       LIMIT ${windowSize}::bigint)
      UNION ALL
      (SELECT id, sender_id, receiver_id, amount, created_at
       FROM transfers
       WHERE receiver_id = (SELECT id FROM me) ${after}
       ORDER BY created_at DESC, id DESC
       LIMIT ${windowSize}::bigint)
    ), page AS (
      SELECT * FROM mine
      ORDER BY created_at DESC, id DESC
      OFFSET ${BigInt(page.skip)}::bigint LIMIT ${BigInt(page.limit)}::bigint
    )
    SELECT p.id, p.sender_id, p.receiver_id, p.amount, p.created_at,
      (SELECT a.username FROM accounts a WHERE a.id = p.sender_id) AS sender_username,
      (SELECT a.username FROM accounts a WHERE a.id = p.receiver_id) AS receiver_username
    FROM page p
    ORDER BY p.created_at DESC, p.id DESC`;
}

/** A page of the user's history; a user who has never had an account gets []. */
export async function listTransfers(sql: Sql, uid: bigint, page: Page): Promise<TransferRow[]> {
  return await historyQuery(sql, uid, page);
}

/** Whether the transfer is one the user sent or received: a cursor must be, or it is refused. */
export async function isOwnTransfer(sql: Sql, uid: bigint, transferId: bigint): Promise<boolean> {
  const [row] = await sql`
    SELECT 1 AS found FROM transfers t JOIN accounts a ON a.id IN (t.sender_id, t.receiver_id)
    WHERE t.id = ${transferId}::bigint AND a.uid = ${uid}::bigint`;
  return row !== undefined;
}
