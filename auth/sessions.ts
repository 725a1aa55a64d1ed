import type { Sql } from "../db/connect";
import type { VerifiedUser } from "./users";

/**
 * The caller of a Bearer route: the token's user and the session the token belongs to. No
 * password hash: this is what /verify keeps in memory; the one route that needs the hash reads it.
 */
export type Caller = VerifiedUser & { session_id: string };

/** Why a session ended; logged, and kept in `end_reason` until the purge. */
export type EndReason = "logout" | "deleted" | "refresh_token_reused" | "password_changed" | "evicted";

/**
 * The one read behind /verify and every Bearer route: the token's user, and whether the token's
 * session is still live, in one primary-key lookup of each table. It is the whole of the state a
 * token's validity depends on besides its signature (the user's token version and the session),
 * so a cache of it stays correct if it is dropped whenever a password changes or a session ends.
 */
export async function findCaller(sql: Sql, userId: string, sessionId: string): Promise<{ user: VerifiedUser; sessionLive: boolean } | undefined> {
  const [row] = await sql<(VerifiedUser & { session_live: boolean })[]>`
    SELECT u.id, u.username, u.email, u.created_at, u.token_version, s.id IS NOT NULL AS session_live
    FROM users u
    LEFT JOIN sessions s ON s.id = ${sessionId} AND s.user_id = u.id AND s.ended_at IS NULL AND s.expires_at > now()
    WHERE u.id = ${userId}`;
  if (!row) return undefined;
  const { session_live, ...user } = row;
  return { user, sessionLive: session_live };
}

/** A session as /verify's memory keeps it: whose it is, and until when it is live (0: ended). */
export interface SessionState {
  userId: string;
  liveUntilMs: number;
}

export async function findSessionState(sql: Sql, sessionId: string): Promise<SessionState | undefined> {
  const [row] = await sql<{ user_id: bigint; live_until: Date | null }[]>`
    SELECT user_id, CASE WHEN ended_at IS NULL THEN expires_at END AS live_until FROM sessions WHERE id = ${sessionId}`;
  return row && { userId: String(row.user_id), liveUntilMs: row.live_until?.getTime() ?? 0 };
}

export interface NewSession {
  id: string;
  userId: bigint;
  /** The user's token version when the password was checked: the session is for that password. */
  tokenVersion: number;
  refreshTokenHash: string;
  clientAddress: string;
  userAgent: string;
  refreshDays: number;
  lifetimeDays: number;
  maxPerUser: number;
}

/**
 * Starts a session for the password checked under `tokenVersion`, then ends the user's least
 * recently used ones beyond `maxPerUser`, so that a client that logs in for every request cannot
 * grow the table without bound (two simultaneous logins may briefly leave one more). Answers
 * undefined, and starts nothing, when the password changed after it was checked: a login that
 * checked the old password while /change-password ran must not leave a session behind, which
 * its refresh token would keep alive under the new password. FOR SHARE makes the insert wait
 * for a password change in progress and then see its new version; a change that comes later
 * waits for this insert and ends the session with the others.
 */
export async function createSession(sql: Sql, session: NewSession): Promise<{ evicted: string[] } | undefined> {
  const lifetime = `${session.lifetimeDays} days`;
  const inserted = await sql`
    INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, absolute_expires_at, client_address, user_agent)
    SELECT ${session.id}, u.id, ${session.refreshTokenHash},
      least(now() + ${lifetime}::interval, now() + ${`${session.refreshDays} days`}::interval),
      now() + ${lifetime}::interval, ${session.clientAddress}, ${session.userAgent}
    FROM (SELECT id FROM users WHERE id = ${session.userId} AND token_version = ${session.tokenVersion} FOR SHARE) u`;
  if (inserted.count === 0) return undefined;
  const evicted = await sql<{ id: string }[]>`
    UPDATE sessions SET ended_at = now(), expires_at = now(), end_reason = 'evicted'
    WHERE id IN (
      SELECT id FROM sessions WHERE user_id = ${session.userId} AND ended_at IS NULL AND expires_at > now() AND id <> ${session.id}
      ORDER BY last_used_at DESC, created_at DESC OFFSET ${session.maxPerUser - 1})
    RETURNING id`;
  return { evicted: evicted.map((row) => row.id) };
}

export interface SessionForRefresh {
  id: string;
  user_id: bigint;
  token_version: number;
  refresh_token_hash: string;
  previous_token_hash: string | null;
  successor_box: string | null;
  /** Whether the previous token was spent within the grace window. */
  within_grace: boolean;
  live: boolean;
}

/**
 * The session a refresh token names, locked until the caller's transaction ends, so that two
 * refreshes of one session are decided one after the other.
 */
export async function lockSessionForRefresh(sql: Sql, sessionId: string, graceSeconds: number): Promise<SessionForRefresh | undefined> {
  const [row] = await sql<SessionForRefresh[]>`
    SELECT s.id, s.user_id, u.token_version, s.refresh_token_hash, s.previous_token_hash, s.successor_box,
      coalesce(s.rotated_at > now() - ${`${graceSeconds} seconds`}::interval, false) AS within_grace,
      s.ended_at IS NULL AND s.expires_at > now() AS live
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${sessionId}
    FOR UPDATE OF s`;
  return row;
}

/** Spends the current refresh token for a new one, which also pushes the refresh expiry back. */
export async function rotateSession(
  sql: Sql,
  rotation: { id: string; newHash: string; spentHash: string; successorBox: string; refreshDays: number },
): Promise<void> {
  await sql`
    UPDATE sessions SET
      refresh_token_hash = ${rotation.newHash}, previous_token_hash = ${rotation.spentHash},
      successor_box = ${rotation.successorBox}, rotated_at = now(), last_used_at = now(),
      expires_at = least(absolute_expires_at, now() + ${`${rotation.refreshDays} days`}::interval)
    WHERE id = ${rotation.id}`;
}

export async function touchSession(sql: Sql, id: string): Promise<void> {
  await sql`UPDATE sessions SET last_used_at = now() WHERE id = ${id}`;
}

/**
 * Ends the user's live sessions: only one (`only`), or all but one (`except`), or all. Answers
 * the ids it ended. `expires_at` is pulled to now, so the purge takes ended sessions too.
 */
export async function endSessions(sql: Sql, end: { userId: bigint | string; reason: EndReason; only?: string; except?: string }): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    UPDATE sessions SET ended_at = now(), expires_at = now(), end_reason = ${end.reason}
    WHERE user_id = ${end.userId} AND ended_at IS NULL AND expires_at > now()
      ${end.only ? sql`AND id = ${end.only}` : sql``}
      ${end.except ? sql`AND id <> ${end.except}` : sql``}
    RETURNING id`;
  return rows.map((row) => row.id);
}

export interface SessionListing {
  id: string;
  created_at: Date;
  last_used_at: Date;
  client_address: string;
  user_agent: string;
}

/** The user's live sessions, most recently used first. */
export async function listSessions(sql: Sql, userId: bigint | string): Promise<SessionListing[]> {
  return sql<SessionListing[]>`
    SELECT id, created_at, last_used_at, client_address, user_agent FROM sessions
    WHERE user_id = ${userId} AND ended_at IS NULL AND expires_at > now()
    ORDER BY last_used_at DESC, created_at DESC, id`;
}

/**
 * Deletes up to `batch` ended or expired sessions (their refresh token hashes go with them);
 * SKIP LOCKED leaves rows a refresh is holding, so the purge never makes a request wait.
 */
export async function purgeSessions(sql: Sql, batch: number): Promise<number> {
  const deleted = await sql`
    DELETE FROM sessions WHERE id IN (
      SELECT id FROM sessions WHERE expires_at <= now() LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;
  return deleted.count;
}
