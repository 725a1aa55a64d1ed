import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import type { Sql } from "../db/connect";
import type { AuthConfig } from "./config";
import { clearAccountFailures, recordFailure, retryAfterSeconds } from "./login-failures";

export interface ThrottleKeys {
  account: string;
  address: string;
}

/**
 * Password guessing is throttled wherever a password is checked: at login, and at
 * /change-password, where a stolen token would otherwise allow unlimited guesses at the old
 * password. Failures count per account and per client address, in the database.
 */
export function passwordThrottle(sql: Sql, config: AuthConfig) {
  const limits = {
    perAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    perAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
    windowMinutes: config.LOGIN_FAILURE_WINDOW_MINUTES,
  };
  return {
    /** The account is `user:<id>` for a known user, whether named by username or email. */
    keys(c: Context, account: string): ThrottleKeys {
      const forwarded = config.TRUST_PROXY ? c.req.header("x-forwarded-for")?.split(",")[0]?.trim() : undefined;
      return { account, address: (forwarded || getConnInfo(c).remote.address || "unknown").slice(0, 64) };
    },

    /** Seconds to wait while either key is over its limit, else 0. */
    retryAfter: (keys: ThrottleKeys) => retryAfterSeconds(sql, keys, limits),

    failed: (keys: ThrottleKeys) => recordFailure(sql, keys, limits.windowMinutes),

    /** A right password clears the account's failures; the address keeps its count. */
    succeeded: (keys: ThrottleKeys) => clearAccountFailures(sql, keys.account),
  };
}
export type PasswordThrottle = ReturnType<typeof passwordThrottle>;
