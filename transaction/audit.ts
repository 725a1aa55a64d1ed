import type postgres from "postgres";
import { connect, isDatabaseUrl, type Sql } from "../db/connect";

export type Violation =
  | { kind: "account"; accountId: bigint; uid: bigint; username: string; balanceMinor: bigint; expectedMinor: bigint }
  | { kind: "ledger"; totalBalanceMinor: bigint; totalOpeningMinor: bigint };

export interface AuditResult {
  accounts: number;
  violations: Violation[];
  totalBalanceMinor: bigint;
  totalOpeningMinor: bigint;
  ok: boolean;
}

type Tx = postgres.TransactionSql<{ bigint: bigint }>;

/** sum(bigint) is numeric in PostgreSQL; it travels as text so that no total passes through a float. */
async function ledgerTotals(tx: Tx) {
  const [row] = await tx<{ accounts: bigint; balance: string; opening: string }[]>`
    SELECT count(*)::bigint AS accounts,
      coalesce(sum(balance), 0)::text AS balance,
      coalesce(sum(opening_balance), 0)::text AS opening
    FROM accounts`;
  return { accounts: Number(row!.accounts), balanceMinor: BigInt(row!.balance), openingMinor: BigInt(row!.opening) };
}

/** Accounts whose balance is not opening + received − sent, reckoned from every transfer. */
async function accountViolations(tx: Tx): Promise<Violation[]> {
  const rows = await tx<{ id: bigint; uid: bigint; username: string; balance: bigint; expected: string }[]>`
    WITH sent AS (
      SELECT sender_id AS account_id, sum(amount) AS total FROM transfers GROUP BY sender_id
    ), received AS (
      SELECT receiver_id AS account_id, sum(amount) AS total FROM transfers GROUP BY receiver_id
    ), reckoned AS (
      SELECT a.id, a.uid, a.username, a.balance,
        a.opening_balance + coalesce(r.total, 0) - coalesce(s.total, 0) AS expected
      FROM accounts a
      LEFT JOIN sent s ON s.account_id = a.id
      LEFT JOIN received r ON r.account_id = a.id
    )
    SELECT id, uid, username, balance, expected::text AS expected
    FROM reckoned
    WHERE balance <> expected
    ORDER BY id`;
  return rows.map((row) => ({
    kind: "account",
    accountId: row.id,
    uid: row.uid,
    username: row.username,
    balanceMinor: row.balance,
    expectedMinor: BigInt(row.expected),
  }));
}

/**
 * Checks that money is conserved: each account's balance equals its opening plus what it
 * received minus what it sent, and all balances together equal all openings. Both checks read
 * one REPEATABLE READ snapshot, so transfers committing meanwhile cannot fake a violation.
 */
export async function auditLedger(sql: Sql): Promise<AuditResult> {
  return await sql.begin("isolation level repeatable read read only", async (tx) => {
    const totals = await ledgerTotals(tx);
    const violations = await accountViolations(tx);
    if (totals.balanceMinor !== totals.openingMinor) {
      violations.push({ kind: "ledger", totalBalanceMinor: totals.balanceMinor, totalOpeningMinor: totals.openingMinor });
    }
    return {
      accounts: totals.accounts,
      violations,
      totalBalanceMinor: totals.balanceMinor,
      totalOpeningMinor: totals.openingMinor,
      ok: violations.length === 0,
    };
  });
}

/** 123456n → "1234.56", exactly, however large. */
function formatMinor(minor: bigint): string {
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

function describeViolation(violation: Violation): string {
  if (violation.kind === "ledger") {
    return `ledger: balances total ${formatMinor(violation.totalBalanceMinor)}, openings total ${formatMinor(violation.totalOpeningMinor)}`;
  }
  return (
    `account ${violation.accountId} (uid ${violation.uid}, ${violation.username}): balance ` +
    `${formatMinor(violation.balanceMinor)}, expected ${formatMinor(violation.expectedMinor)} (opening + received - sent)`
  );
}

/**
 * Exit codes: 0 the ledger balances, 1 a violation was found, 2 the audit could not run. The
 * audit needs only the database, so it reads TRANS_DATABASE_URL itself rather than the whole
 * service configuration (which would also demand SECRET_KEY and the rest).
 */
async function main(): Promise<number> {
  const url = process.env.TRANS_DATABASE_URL;
  if (!url || !isDatabaseUrl(url)) {
    console.error(`audit: TRANS_DATABASE_URL ${url ? "is not a postgres:// URL" : "is not set"}`);
    return 2;
  }
  const sql = connect(url, { max: 1 });
  try {
    const result = await auditLedger(sql);
    console.log(
      `audit: ${result.accounts} accounts checked; balances total ${formatMinor(result.totalBalanceMinor)}, ` +
        `openings total ${formatMinor(result.totalOpeningMinor)}`,
    );
    for (const violation of result.violations) console.log(`audit: VIOLATION ${describeViolation(violation)}`);
    console.log(result.ok ? "audit: ok" : `audit: ${result.violations.length} violation(s)`);
    return result.ok ? 0 : 1;
  } catch (err) {
    console.error(`audit: could not run: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) process.exitCode = await main();
