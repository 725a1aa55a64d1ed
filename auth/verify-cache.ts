import type { Logger } from "../common/logger";
import type { OnShutdown } from "../common/server";
import type { Sql } from "../db/connect";
import { listen } from "../db/listener";
import { ExactCache } from "./exact-cache";
import { findVerifiedUser, type VerifiedUser } from "./users";

/** The channel the auth database's triggers notify on (migration 0001); payloads are `user:<id>`. */
export const CHANGES_CHANNEL = "auth_changes";

/**
 * What /verify needs, from memory: each user's token version (and public fields), kept exact by
 * LISTEN/NOTIFY. The triggers send the notification inside the transaction that makes the
 * change, so it is delivered exactly when the change commits, to every instance listening.
 * The instance that makes a change also forgets it itself before answering (`changed`), so its
 * own caller never sees the old state. While the LISTEN connection is down nothing is answered
 * from memory; when it is back the memory starts empty.
 *
 * Built without `onShutdown` (a test's bare app), nothing listens, so every check reads the
 * database: the cache is never trusted.
 */
export function verifyCache(deps: { sql: Sql; log: Logger; maxEntries: number; onShutdown?: OnShutdown }) {
  const users = new ExactCache<VerifiedUser>(deps.maxEntries);
  if (deps.onShutdown) {
    let lost = false;
    const listener = listen(deps.sql, CHANGES_CHANNEL, {
      notify(payload) {
        const [kind, id] = payload.split(":");
        if (kind === "user" && id) return users.forget(id);
        // A notification this code does not understand could be a change it must not miss.
        deps.log.warn("unknown_notification", { channel: CHANGES_CHANNEL });
        users.distrust();
        users.trust();
      },
      up() {
        users.trust();
        // The first connect is routine; coming back after a loss is worth an operator's line.
        if (lost) deps.log.info("verify_cache_listening_again");
        lost = false;
      },
      down() {
        if (users.isTrusted) {
          deps.log.warn("verify_cache_not_listening");
          lost = true;
        }
        users.distrust();
      },
    });
    deps.onShutdown(async () => {
      users.distrust();
      await listener.stop();
    });
  }
  return {
    /** The user with the token version to check a token against, or undefined if there is none. */
    user: (id: string): Promise<VerifiedUser | undefined> => users.get(id, () => findVerifiedUser(deps.sql, id)),
    /** This instance changed the user: forget it now, before its own notification arrives. */
    changed: (id: string | bigint): void => users.forget(String(id)),
    /** For tests and logs: how many users are held, and whether memory is trusted. */
    users,
  };
}
export type VerifyCache = ReturnType<typeof verifyCache>;
