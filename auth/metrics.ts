import { Counter, type Registry } from "prom-client";
import { labelledCounter } from "../common/metrics";

/**
 * The auth service's business counters. Each is a function, so that a route says what happened
 * (`metrics.login("throttled")`) and the metric names and label values live here only.
 */
export function authMetrics(registry: Registry) {
  const plain = (name: string, help: string) => {
    const counter = new Counter({ name, help, registers: [registry] });
    return (by = 1) => counter.inc(by);
  };
  return {
    registration: labelledCounter(registry, "auth_registrations_total", "Registrations, by outcome.", "outcome", [
      "created",
      "username_taken",
      "email_taken",
      // Registration is throttled per client address with issue 10.
      "throttled",
    ] as const),
    login: labelledCounter(registry, "auth_logins_total", "Password logins, by outcome.", "outcome", [
      "success",
      "wrong_password",
      "unknown_user",
      "throttled",
    ] as const),
    passwordChange: labelledCounter(registry, "auth_password_changes_total", "Password changes, by outcome.", "outcome", [
      "changed",
      "wrong_password",
      "throttled",
    ] as const),
    // Sessions (issue 10): a password login opens one, a refresh rotates it, and it ends by a
    // logout, a deletion, eviction by a newer session over the limit, a password change, or when
    // a spent refresh token comes back (the reasons are the ones its `session_ended` lines give).
    sessionCreated: plain("auth_sessions_created_total", "Sessions opened by a password login."),
    sessionRefreshed: plain("auth_sessions_refreshed_total", "Refresh-token grants answered (rotations, and retries within the grace window)."),
    refreshTokenReuse: plain("auth_refresh_token_reuse_total", "Spent refresh tokens presented again (reuse detected)."),
    sessionsEnded: labelledCounter(registry, "auth_sessions_ended_total", "Sessions ended, by why.", "reason", [
      "logout",
      "deleted",
      "evicted",
      "password_changed",
      "refresh_token_reused",
    ] as const),
  };
}
export type AuthMetrics = ReturnType<typeof authMetrics>;
export type SessionEndReason = Parameters<AuthMetrics["sessionsEnded"]>[0];
