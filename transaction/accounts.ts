import type { Sql } from "../db/connect";

/** A row of `accounts`; money in integer minor units. */
export interface Account {
  id: bigint;
  uid: bigint;
  username: string;
  balance: bigint;
  opening_balance: bigint;
  created_at: Date;
}

/**
 * The user's account, opened with `openingMinor` if this is its first use. The database
 * function (migration 0002) does it in one round trip and is safe against concurrent openers.
 */
export async function openAccount(sql: Sql, input: { uid: bigint; username: string; openingMinor: bigint }): Promise<Account> {
  const [account] = await sql<Account[]>`
    SELECT id, uid, username, balance, opening_balance, created_at
    FROM open_account(${input.uid}::bigint, ${input.username}::text, ${input.openingMinor}::bigint)`;
  if (!account) throw new Error("open_account returned no row");
  return account;
}
