import { transaction, type Sql } from "../db/connect";

/** A limit on attempts: at most `max` per key inside a sliding window of `windowMinutes`. */
export interface Limit {
  scope: "account" | "address" | "registration";
  key: string;
  max: number;
  windowMinutes: number;
}

export type Reservation = { ids: bigint[]; retryAfterSeconds: 0 } | { ids: []; retryAfterSeconds: number };

/**
 * Counts one attempt against every limit, or, when any of them is used up, none, and answers the
 * seconds until it frees up. Reading the count and recording the attempt happen under a
 * transaction-scoped advisory lock on each key, so concurrent attempts on one key, from any
 * instance, are admitted one after another and never more than `max`: a count read before
 * the others are recorded is what let every guess of a burst through.
 *
 * `pending` rows are attempts whose outcome is not known yet; they count like failures until
 * `settleFailure` or `settleSuccess` says what they were. A limit that is full only because of
 * pending attempts is not refused at once: they may all turn out right (eleven tabs logging in at
 * once is no attack), so the attempt waits, up to `waitMs`, for them to settle, and is admitted
 * if they freed room, or refused if they were failures.
 */
export async function reserveAttempt(sql: Sql, limits: Limit[], pending: boolean, waitMs = 0): Promise<Reservation> {
  const deadline = Date.now() + waitMs;
  for (let pause = 25; ; pause = Math.min(pause * 2, 200)) {
    const outcome = await tryReserve(sql, limits, pending);
    if (outcome !== "busy") return outcome;
    // Still busy at the deadline: the checks in flight are taking long; come back in a second.
    if (Date.now() + pause > deadline) return { ids: [], retryAfterSeconds: 1 };
    await Bun.sleep(pause + Math.random() * pause);
  }
}

async function tryReserve(sql: Sql, limits: Limit[], pending: boolean): Promise<Reservation | "busy"> {
  return transaction(sql, async (tx) => {
    // Every caller takes the locks in one order, so that two never wait on each other in a circle.
    for (const key of limits.map((l) => `throttle:${l.scope}:${l.key}`).sort()) {
      await tx`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
    }
    let wait = 0;
    for (const limit of limits) wait = Math.max(wait, await secondsUntilFree(tx, limit, "settled"));
    if (wait > 0) return { ids: [], retryAfterSeconds: wait } as const;
    for (const limit of limits) if ((await secondsUntilFree(tx, limit, "all")) > 0) return "busy";
    const rows = limits.map(({ scope, key }) => ({ scope, key, pending }));
    const inserted = await tx<{ id: bigint }[]>`INSERT INTO throttle_attempts ${tx(rows)} RETURNING id`;
    return { ids: inserted.map((row) => row.id), retryAfterSeconds: 0 } as const;
  });
}

/**
 * A key is used up while it has `max` attempts in the window, until the max-th newest leaves it.
 * `settled` counts only attempts known to have failed; `all` counts the pending ones too.
 */
async function secondsUntilFree(sql: Sql, limit: Limit, which: "settled" | "all"): Promise<number> {
  const window = `${limit.windowMinutes} minutes`;
  const [row] = await sql<{ seconds: number }[]>`
    SELECT ceil(extract(epoch FROM attempted_at + ${window}::interval - now()))::int AS seconds
    FROM throttle_attempts
    WHERE scope = ${limit.scope} AND key = ${limit.key} AND attempted_at > now() - ${window}::interval
      ${which === "settled" ? sql`AND NOT pending` : sql``}
    ORDER BY attempted_at DESC OFFSET ${limit.max - 1} LIMIT 1`;
  // now() is when this transaction began, so an attempt committed since then can look younger than
  // zero seconds: the answer never promises more than the window itself.
  return row ? Math.min(Math.max(row.seconds, 1), limit.windowMinutes * 60) : 0;
}

/** A wrong password: its reserved attempts stay, now as failures. */
export async function settleFailure(sql: Sql, ids: bigint[]): Promise<void> {
  await sql`UPDATE throttle_attempts SET pending = false WHERE id IN ${sql(ids)}`;
}

/**
 * A right password: its own attempts are released, and the account's earlier failures are
 * cleared. Other requests' pending attempts stay: clearing them would let the rest of a burst
 * that is still being checked go uncounted.
 */
export async function settleSuccess(sql: Sql, ids: bigint[], account: string): Promise<void> {
  await sql`
    DELETE FROM throttle_attempts
    WHERE id IN ${sql(ids)} OR (scope = 'account' AND key = ${account} AND NOT pending)`;
}

/** Deletes up to `batch` attempts older than any window looks back; answers how many. */
export async function purgeAttempts(sql: Sql, olderThanMinutes: number, batch: number): Promise<number> {
  const deleted = await sql`
    DELETE FROM throttle_attempts WHERE id IN (
      SELECT id FROM throttle_attempts WHERE attempted_at < now() - ${`${olderThanMinutes} minutes`}::interval
      LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;
  return deleted.count;
}
