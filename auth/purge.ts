import type { Logger } from "../common/logger";
import type { Sql } from "../db/connect";
import { purgeAttempts } from "./attempts";
import type { AuthConfig } from "./config";
import { purgeSessions } from "./sessions";

/** Rows per DELETE: small enough that each statement holds its locks for milliseconds. */
const BATCH = 500;
/** A pause between batches, so that a large backlog leaves the database to the requests. */
const PAUSE_MS = 20;

/**
 * Deletes ended and expired sessions and attempts older than every throttling window, batch by
 * batch until none is left; answers how many rows of each went.
 */
export async function purgeOnce(sql: Sql, config: AuthConfig): Promise<{ sessions: number; attempts: number }> {
  const oldestWindow = Math.max(config.LOGIN_FAILURE_WINDOW_MINUTES, config.REGISTRATION_WINDOW_MINUTES);
  const total = { sessions: 0, attempts: 0 };
  for (let deleted = BATCH; deleted === BATCH; await Bun.sleep(PAUSE_MS)) {
    deleted = await purgeSessions(sql, BATCH);
    total.sessions += deleted;
  }
  for (let deleted = BATCH; deleted === BATCH; await Bun.sleep(PAUSE_MS)) {
    deleted = await purgeAttempts(sql, oldestWindow, BATCH);
    total.attempts += deleted;
  }
  return total;
}

/**
 * Runs the purge every PURGE_INTERVAL_SECONDS in the background of a running service, never two
 * at once; a failure (the database away, say) is logged and the next round tries again.
 * Answers the function that stops it, which waits for a round in progress, so that the pool
 * and the log are closed only after it.
 */
export function startPurge(sql: Sql, config: AuthConfig, log: Logger): () => Promise<void> {
  let timer: Timer | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const round = async () => {
    try {
      const purged = await purgeOnce(sql, config);
      if (purged.sessions + purged.attempts > 0) log.info("purged", purged);
    } catch (error) {
      log.warn("purge_failed", { error: (error as Error).message });
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = round().finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
    }, config.PURGE_INTERVAL_SECONDS * 1000);
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
