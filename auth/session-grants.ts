import type { Context } from "hono";
import { refuse } from "../common/errors";
import type { AppEnv } from "../common/request-context";
import { transaction } from "../db/connect";
import { clientAddress } from "./client-address";
import type { AuthDeps } from "./deps";
import type { SessionEndReason } from "./metrics";
import { hashRefreshToken, newRefreshToken, openSuccessor, sealSuccessor, sessionIdOf } from "./refresh-tokens";
import { createSession, endSessions, lockSessionForRefresh, rotateSession, touchSession } from "./sessions";
import { REFUSALS } from "./refusals";

const MAX_USER_AGENT_LENGTH = 512;

/** What /token answers: today's fields, and the refresh token that a client may ignore. */
export type Tokens = Awaited<ReturnType<AuthDeps["tokens"]["issue"]>> & { refresh_token: string };

/** Starts a session for a user who just proved their password, and answers its first tokens. */
export async function startSession(c: Context<AppEnv>, deps: AuthDeps, user: { id: bigint; token_version: number }): Promise<Tokens> {
  const { sql, config, log, tokens, metrics } = deps;
  const sessionId = crypto.randomUUID();
  const refreshToken = newRefreshToken(sessionId);
  const created = await createSession(sql, {
    id: sessionId,
    userId: user.id,
    tokenVersion: user.token_version,
    refreshTokenHash: hashRefreshToken(refreshToken),
    clientAddress: clientAddress(c, config.TRUST_PROXY),
    userAgent: (c.req.header("user-agent") ?? "").slice(0, MAX_USER_AGENT_LENGTH),
    refreshDays: config.REFRESH_TOKEN_EXPIRE_DAYS,
    lifetimeDays: config.SESSION_LIFETIME_DAYS,
    maxPerUser: config.MAX_SESSIONS_PER_USER,
  });
  const requestId = c.get("requestId");
  // The password this login checked was changed meanwhile: it is no longer the password.
  if (!created) {
    log.info("login_failed", { request_id: requestId, user_id: String(user.id), reason: "password_changed" });
    // The password it checked is no longer the user's: a wrong password now.
    metrics.login("wrong_password");
    throw refuse(REFUSALS.invalid_credentials);
  }
  recordEnded(deps, requestId, user.id, "evicted", created.evicted);
  log.info("session_created", { request_id: requestId, user_id: String(user.id), session_id: sessionId });
  metrics.sessionCreated();
  return { ...(await tokens.issue(user, sessionId)), refresh_token: refreshToken };
}

/**
 * The refresh_token grant (RFC 6749 §6), decided under a lock on the session's row:
 *
 * - the session's current token is spent and replaced (rotation);
 * - the token that the latest rotation spent, presented again within
 *   REFRESH_REUSE_GRACE_SECONDS, gets a fresh access token and that rotation's successor, the
 *   very token the first refresh received, so two tabs that refreshed at once end up holding the
 *   same token and neither is logged out; nothing is spent or ended;
 * - any other token of the session (spent earlier, or spent last but after the grace window)
 *   is reuse: a stolen token, or a thief racing the owner, so the whole session ends;
 * - a token of an ended, expired or unknown session is refused.
 */
export async function refreshSession(c: Context<AppEnv>, deps: AuthDeps, presented: string): Promise<Tokens> {
  const { sql, config, log, tokens } = deps;
  const requestId = c.get("requestId");
  const sessionId = sessionIdOf(presented);
  if (!sessionId) throw refuse(REFUSALS.invalid_grant, { reason: "malformed_refresh_token" });
  const hash = hashRefreshToken(presented);
  const outcome = await transaction(sql, async (tx) => {
    const session = await lockSessionForRefresh(tx, sessionId, config.REFRESH_REUSE_GRACE_SECONDS);
    if (!session) return { refused: "unknown_session" } as const;
    if (!session.live) return { refused: "session_ended" } as const;
    if (hash === session.refresh_token_hash) {
      const successor = newRefreshToken(sessionId);
      const successorBox = await sealSuccessor(presented, successor);
      await rotateSession(tx, {
        id: sessionId,
        newHash: hashRefreshToken(successor),
        spentHash: hash,
        successorBox,
        refreshDays: config.REFRESH_TOKEN_EXPIRE_DAYS,
      });
      return { session, refreshToken: successor, grace: false };
    }
    if (hash === session.previous_token_hash && session.within_grace && session.successor_box) {
      await touchSession(tx, sessionId);
      return { session, refreshToken: await openSuccessor(presented, session.successor_box), grace: true };
    }
    await endSessions(tx, { userId: session.user_id, only: sessionId, reason: "refresh_token_reused" });
    return { refused: "refresh_token_reused", userId: session.user_id } as const;
  });
  if ("refused" in outcome) {
    if (outcome.refused === "refresh_token_reused") {
      log.warn("refresh_token_reused", { request_id: requestId, user_id: String(outcome.userId), session_id: sessionId });
      deps.metrics.refreshTokenReuse();
      recordEnded(deps, requestId, outcome.userId, "refresh_token_reused", [sessionId]);
    }
    throw refuse(REFUSALS.invalid_grant, { reason: outcome.refused });
  }
  const { session } = outcome;
  // A rotation moved the session's expiry: what this instance remembers of it is out of date.
  deps.cache.forgetSessions([sessionId]);
  c.set("userId", String(session.user_id));
  log.info("token_refreshed", { request_id: requestId, user_id: String(session.user_id), session_id: sessionId, within_grace: outcome.grace });
  deps.metrics.sessionRefreshed();
  const user = { id: session.user_id, token_version: session.token_version };
  return { ...(await tokens.issue(user, sessionId)), refresh_token: outcome.refreshToken };
}

/**
 * For every act that ends sessions, whatever ended them: this instance forgets them at once
 * (before it answers; the others hear of it by notification), a count, and one `session_ended` line.
 */
export function recordEnded(
  { log, metrics, cache }: Pick<AuthDeps, "log" | "metrics" | "cache">,
  requestId: string,
  userId: bigint | string,
  reason: SessionEndReason,
  sessionIds: string[],
): void {
  if (sessionIds.length === 0) return;
  cache.forgetSessions(sessionIds);
  metrics.sessionsEnded(reason, sessionIds.length);
  log.info("session_ended", { request_id: requestId, user_id: String(userId), reason, sessions: sessionIds.length, session_ids: sessionIds.slice(0, 20) });
}
