import type { Sql } from "../db/connect";

export interface ThrottleLimits {
  perAccount: number;
  perAddress: number;
  windowMinutes: number;
}

/**
 * Seconds until the caller may try again, or 0. A key is blocked while it has `limit` failures
 * inside the window; it frees up when the limit-th newest of them leaves the window.
 */
export async function retryAfterSeconds(
  sql: Sql,
  keys: { account: string; address: string },
  limits: ThrottleLimits,
): Promise<number> {
  const window = `${limits.windowMinutes} minutes`;
  const [row] = await sql<{ seconds: number | null }[]>`
    SELECT ceil(extract(epoch FROM greatest(
      (SELECT failed_at FROM login_failures
        WHERE scope = 'account' AND key = ${keys.account} AND failed_at > now() - ${window}::interval
        ORDER BY failed_at DESC OFFSET ${limits.perAccount - 1} LIMIT 1),
      (SELECT failed_at FROM login_failures
        WHERE scope = 'address' AND key = ${keys.address} AND failed_at > now() - ${window}::interval
        ORDER BY failed_at DESC OFFSET ${limits.perAddress - 1} LIMIT 1)
    ) + ${window}::interval - now()))::int AS seconds`;
  return Math.max(row?.seconds ?? 0, 0);
}

/** Records one failure against both keys, and drops rows that no window can see any more. */
export async function recordFailure(
  sql: Sql,
  keys: { account: string; address: string },
  windowMinutes: number,
): Promise<void> {
  await sql`
    WITH purged AS (
      DELETE FROM login_failures WHERE failed_at < now() - ${`${windowMinutes} minutes`}::interval
    )
    INSERT INTO login_failures (scope, key) VALUES ('account', ${keys.account}), ('address', ${keys.address})`;
}

/** A successful login clears the account's failures; the address keeps its count. */
export async function clearAccountFailures(sql: Sql, account: string): Promise<void> {
  await sql`DELETE FROM login_failures WHERE scope = 'account' AND key = ${account}`;
}
