/** One database read in flight; a change to its key while it runs makes its answer unfit to keep. */
interface Read {
  stale: boolean;
}

/**
 * A bounded map of database rows that is only trusted while someone vouches that every change
 * to those rows is being heard (a LISTEN connection: `trust()` / `distrust()`), and that forgets
 * a row the moment a change to it is heard (`forget(key)`).
 *
 * The subtle case is a read that is in flight when a change commits: it may bring back the
 * old row after the change's notification has already been handled, and keeping that row would
 * keep the old state for good. So every read registers itself, `forget` marks the reads of its
 * key as stale, `distrust` marks all of them, and a stale read answers its caller but is never
 * kept. A read that starts after a notification was handled sees the change (the notification
 * is sent only once the change has committed).
 *
 * Bounded by `maxEntries`, evicting the least recently used entry.
 */
export class ExactCache<V> {
  private readonly entries = new Map<string, V>();
  private readonly reads = new Map<string, Set<Read>>();
  private trusted = false;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether answers may come from memory: false until the first `trust()`, and after `distrust()`. */
  get isTrusted(): boolean {
    return this.trusted;
  }

  /** The row for `key`, from memory when trusted, otherwise from `load` (and kept, if still fit). */
  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.trusted) {
      const hit = this.entries.get(key);
      if (hit !== undefined) {
        // Re-inserting moves the entry to the end of the Map's order: the most recently used.
        this.entries.delete(key);
        this.entries.set(key, hit);
        return hit;
      }
    }
    const read: Read = { stale: !this.trusted };
    let pending = this.reads.get(key);
    if (!pending) this.reads.set(key, (pending = new Set()));
    pending.add(read);
    try {
      const value = await load();
      if (value !== undefined && !read.stale && this.trusted) this.keep(key, value);
      return value;
    } finally {
      pending.delete(read);
      if (pending.size === 0 && this.reads.get(key) === pending) this.reads.delete(key);
    }
  }

  /** A change to `key` was heard (or made here): drop it, and any read of it now in flight. */
  forget(key: string): void {
    this.entries.delete(key);
    for (const read of this.reads.get(key) ?? []) read.stale = true;
  }

  /** Changes are heard from now on; what was kept before may have missed some, so it goes. */
  trust(): void {
    this.clear();
    this.trusted = true;
  }

  /** Changes may go unheard from now on: answer from the database only, and keep nothing. */
  distrust(): void {
    this.trusted = false;
    this.clear();
  }

  private clear(): void {
    this.entries.clear();
    for (const pending of this.reads.values()) for (const read of pending) read.stale = true;
  }

  private keep(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }
}
