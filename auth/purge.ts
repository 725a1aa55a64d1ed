import type { Logger } from "../common/logger";
import { drainInBatches, everyInBackground } from "../db/batches";
import type { Sql } from "../db/connect";
import { purgeAttempts } from "./attempts";
import type { AuthConfig } from "./config";
import { purgeSessions } from "./sessions";

/** Rows per DELETE: small enough that each statement holds its locks for milliseconds. */
const BATCH = 500;
/** A pause between batches, so that a large backlog leaves the database to the requests. */
const PAUSE_MS = 20;

/**
 * Deletes expired sessions and attempts older than every throttling window, batch by batch
 * until none is left; answers how many rows of each went.
 */
export async function purgeOnce(sql: Sql, config: AuthConfig): Promise<{ sessions: number; attempts: number }> {
  const oldestWindow = Math.max(config.LOGIN_FAILURE_WINDOW_MINUTES, config.REGISTRATION_WINDOW_MINUTES);
  const batches = { batchSize: BATCH, pauseMs: PAUSE_MS };
  const sessions = await drainInBatches((batch) => purgeSessions(sql, batch), batches);
  const attempts = await drainInBatches((batch) => purgeAttempts(sql, oldestWindow, batch), batches);
  return { sessions, attempts };
}

/**
 * Runs the purge every PURGE_INTERVAL_SECONDS in the background of a running service; a failure
 * (the database away, say) is logged and the next round tries again. Answers the function that
 * stops it, which waits for a round in progress.
 */
export function startPurge(sql: Sql, config: AuthConfig, log: Logger): () => Promise<void> {
  return everyInBackground(async () => {
    try {
      const purged = await purgeOnce(sql, config);
      if (purged.sessions + purged.attempts > 0) log.info("purged", purged);
    } catch (error) {
      log.warn("purge_failed", { error: (error as Error).message });
    }
  }, config.PURGE_INTERVAL_SECONDS * 1000);
}
