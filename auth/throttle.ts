import type { Sql } from "../db/connect";
import { reserveAttempt, settleFailure, settleSuccess, type Limit } from "./attempts";
import type { AuthConfig } from "./config";

/**
 * How long an attempt waits for the checks in flight when only they fill a limit: longer than a
 * burst of argon2id checks takes on a busy machine, short enough for a client to wait.
 */
const PENDING_WAIT_MS = 10_000;

/** A password check that was let through: say how it went, so that its reservation settles. */
export interface PasswordCheck {
  failed(): Promise<void>;
  succeeded(): Promise<void>;
}

/**
 * Password guessing is throttled wherever a password is checked: at login, and at
 * /change-password, where a stolen token would otherwise allow unlimited guesses at the old
 * password. Attempts count per account and per client address, in the database, and each is
 * counted before its password is checked.
 */
export function passwordThrottle(sql: Sql, config: AuthConfig) {
  const windowMinutes = config.LOGIN_FAILURE_WINDOW_MINUTES;
  return {
    /**
     * Reserves one check, or answers the seconds to wait. The account is `user:<id>` for a known
     * user, whether named by username or email.
     */
    async reserve(account: string, address: string): Promise<PasswordCheck | { retryAfter: number }> {
      const limits: Limit[] = [
        { scope: "account", key: account, max: config.LOGIN_MAX_FAILURES_PER_ACCOUNT, windowMinutes },
        { scope: "address", key: address, max: config.LOGIN_MAX_FAILURES_PER_ADDRESS, windowMinutes },
      ];
      const reservation = await reserveAttempt(sql, limits, true, PENDING_WAIT_MS);
      if (reservation.retryAfterSeconds > 0) return { retryAfter: reservation.retryAfterSeconds };
      return {
        failed: () => settleFailure(sql, reservation.ids),
        // A right password clears the account's failures; the address keeps its count.
        succeeded: () => settleSuccess(sql, reservation.ids, account),
      };
    },
  };
}
export type PasswordThrottle = ReturnType<typeof passwordThrottle>;

/**
 * Registrations per client address: each one that gets past validation counts, whether it
 * succeeds or finds its name taken, so that the limit also bounds how fast names can be probed.
 * Answers the seconds to wait, or 0.
 */
export function registrationThrottle(sql: Sql, config: AuthConfig) {
  return async (address: string): Promise<number> => {
    const limit: Limit = {
      scope: "registration",
      key: address,
      max: config.REGISTRATION_MAX_PER_ADDRESS,
      windowMinutes: config.REGISTRATION_WINDOW_MINUTES,
    };
    return (await reserveAttempt(sql, [limit], false)).retryAfterSeconds;
  };
}
export type RegistrationThrottle = ReturnType<typeof registrationThrottle>;
