import type { Logger } from "../common/logger";
import type { OnShutdown } from "../common/server";
import type { Sql } from "../db/connect";
import { listen } from "../db/listener";
import { ExactCache } from "./exact-cache";
import { findCaller, findSessionState, type SessionState } from "./sessions";
import { findVerifiedUser, type VerifiedUser } from "./users";

/**
 * The channel the auth database's triggers notify on (migration 0002); payloads are
 * `user:<id>` (a user changed: password, version, name) and `session:<id>` (a session ended,
 * or its expiry moved).
 */
export const CHANGES_CHANNEL = "auth_changes";

/**
 * What /verify needs, from memory: each user's token version (and public fields) and the state
 * of each session, kept exact by LISTEN/NOTIFY. The triggers send the notification inside the
 * transaction that makes the change, so it is delivered exactly when the change commits, to
 * every instance listening. The instance that makes a change also forgets it itself before
 * answering (`forgetUser`, `forgetSessions`), so its own caller never sees the old state. While
 * the LISTEN connection is down nothing is answered from memory (one read of the database per
 * check, as before); when it is back, memory starts empty.
 *
 * A session's expiry needs no notification: the time it is live until is kept and compared
 * with this machine's clock (the database compares with its own; the two should agree to
 * well under a second, which is all an expiry of days can differ by).
 *
 * Built without `onShutdown` (a test's bare app), nothing listens, so memory is never trusted.
 */
export function verifyCache(deps: { sql: Sql; log: Logger; maxEntries: number; onShutdown?: OnShutdown }) {
  const { sql, log } = deps;
  const users = new ExactCache<VerifiedUser>(deps.maxEntries);
  const sessions = new ExactCache<SessionState>(deps.maxEntries);
  const both = [users, sessions];
  if (deps.onShutdown) {
    let lost = false;
    const listener = listen(sql, CHANGES_CHANNEL, {
      notify(payload) {
        const [kind, id] = payload.split(":");
        if (kind === "user" && id) return users.forget(id);
        if (kind === "session" && id) return sessions.forget(id);
        // A notification this code does not understand could be a change it must not miss.
        log.warn("unknown_notification", { channel: CHANGES_CHANNEL });
        for (const cache of both) cache.trust();
      },
      up() {
        for (const cache of both) cache.trust();
        // The first connect is routine; coming back after a loss is worth an operator's line.
        if (lost) log.info("verify_cache_listening_again");
        lost = false;
      },
      down() {
        if (users.isTrusted) {
          log.warn("verify_cache_not_listening");
          lost = true;
        }
        for (const cache of both) cache.distrust();
      },
    });
    deps.onShutdown(async () => {
      for (const cache of both) cache.distrust();
      await listener.stop();
    });
  }
  return {
    /** The token's user, and whether its session is live; undefined if there is no such user. */
    async caller(userId: string, sessionId: string): Promise<{ user: VerifiedUser; sessionLive: boolean } | undefined> {
      // Nothing to remember from: the one read that answers both, as without memory.
      if (!users.isTrusted) return findCaller(sql, userId, sessionId);
      const [user, session] = await Promise.all([
        users.get(userId, () => findVerifiedUser(sql, userId)),
        sessions.get(sessionId, () => findSessionState(sql, sessionId)),
      ]);
      if (!user) return undefined;
      return { user, sessionLive: session !== undefined && session.userId === userId && session.liveUntilMs > Date.now() };
    },
    /** This instance changed the user: forget it now, before its own notification arrives. */
    forgetUser: (id: string | bigint): void => users.forget(String(id)),
    /** This instance ended (or moved) these sessions: forget them now. */
    forgetSessions: (ids: string[]): void => {
      for (const id of ids) sessions.forget(id);
    },
    /** For tests: how much is held, and whether memory is trusted. */
    users,
    sessions,
  };
}
export type VerifyCache = ReturnType<typeof verifyCache>;
