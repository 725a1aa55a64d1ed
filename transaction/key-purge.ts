import type { Logger } from "../common/logger";
import { drainInBatches, everyInBackground } from "../db/batches";
import type { Sql } from "../db/connect";

/**
 * Deletes up to `batchSize` of the oldest keys past their retention, and answers how many.
 *
 * Small batches keep each DELETE a few milliseconds long. The rows are taken FOR UPDATE SKIP
 * LOCKED, so the purge never waits for a transfer (nor for another instance's purge). A transfer
 * waits for the purge only if it reuses, at that very moment, an expired key of the batch being
 * deleted (its INSERT … ON CONFLICT meets the purge's row lock): for one short batch at most.
 * Every other key the purge does not touch, and transfer_money ignores expired keys whether
 * or not they are deleted yet, so the purge decides nothing about idempotency: it only frees space.
 */
export async function purgeExpiredKeys(sql: Sql, retentionHours: number, batchSize: number): Promise<number> {
  const deleted = await sql`
    DELETE FROM idempotency_keys
    WHERE (owner_uid, key) IN (
      SELECT owner_uid, key FROM idempotency_keys
      WHERE created_at <= now() - make_interval(hours => ${retentionHours}::int)
      ORDER BY created_at
      LIMIT ${batchSize}::int
      FOR UPDATE SKIP LOCKED)`;
  return deleted.count;
}

export interface PurgeOptions {
  retentionHours: number;
  /** How often the purge looks for expired keys. */
  everyMs: number;
  batchSize: number;
  /** The pause between two batches, so that a large backlog never hogs the pool or the database. */
  pauseMs: number;
}

export const DEFAULT_PURGE: Omit<PurgeOptions, "retentionHours"> = { everyMs: 60_000, batchSize: 500, pauseMs: 50 };

/**
 * Runs the purge in the background every `everyMs`, batch after batch until a batch comes back
 * short. Every instance may run it: SKIP LOCKED shares the work. A failure (the database is
 * down) is logged and the next round tries again. `stop` waits for a running batch to finish.
 */
export function startKeyPurge(sql: Sql, log: Logger, options: PurgeOptions): { stop(): Promise<void> } {
  let stopped = false;
  const stopRounds = everyInBackground(async () => {
    let total = 0;
    try {
      // Counted batch by batch, so that a failure halfway still says how many went.
      await drainInBatches(
        async (batch) => {
          const deleted = await purgeExpiredKeys(sql, options.retentionHours, batch);
          total += deleted;
          return deleted;
        },
        { batchSize: options.batchSize, pauseMs: options.pauseMs, keepGoing: () => !stopped },
      );
      if (total > 0) log.info("idempotency_keys_purged", { count: total });
    } catch (error) {
      log.warn("idempotency_key_purge_failed", { error: (error as Error).message, purged: total });
    }
  }, options.everyMs);
  return {
    async stop() {
      stopped = true;
      await stopRounds();
    },
  };
}
