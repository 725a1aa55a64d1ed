/**
 * The shape both services' purges share: delete in small batches until one comes back short,
 * pausing between them, and do that in the background every so often, never two rounds at once.
 */

/**
 * Calls `step(batchSize)` (which deletes up to that many rows and answers how many) until a
 * batch comes back short or `keepGoing` says stop, pausing `pauseMs` between batches so that a
 * large backlog leaves the pool and the database to the requests. Answers the total deleted.
 */
export async function drainInBatches(
  step: (batchSize: number) => Promise<number>,
  { batchSize, pauseMs, keepGoing = () => true }: { batchSize: number; pauseMs: number; keepGoing?: () => boolean },
): Promise<number> {
  let total = 0;
  while (keepGoing()) {
    const deleted = await step(batchSize);
    total += deleted;
    if (deleted < batchSize) break;
    await Bun.sleep(pauseMs);
  }
  return total;
}

/**
 * Runs `round` every `everyMs` in the background of a running service, the next round timed from
 * the end of the last, so two never overlap. `round` handles its own failures. Answers the
 * function that stops it, which waits for a round in progress, so that the pool and the log are
 * closed only after it.
 */
export function everyInBackground(round: () => Promise<void>, everyMs: number): () => Promise<void> {
  let timer: Timer | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = () => {
    timer = setTimeout(() => {
      running = round().finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
    }, everyMs);
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
