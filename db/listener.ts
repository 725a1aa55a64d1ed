import postgres from "postgres";
import type { Sql } from "./connect";

export interface ListenHandlers {
  /** A notification on the channel, in commit order. */
  notify(payload: string): void;
  /** LISTEN is in force (first connect, or after a reconnect): from now on no change goes unheard. */
  up(): void;
  /** The connection is gone: notifications may be missed from this moment until the next `up`. */
  down(): void;
}

const RETRY_MS = 1000;

/**
 * A LISTEN connection that says when it is listening and when it is not.
 *
 * postgres.js's own `sql.listen` re-subscribes after a reconnect and calls `onlisten` each time,
 * but it never says that the connection dropped, and a cache that trusts notifications must
 * know that at once. So this opens its own one-connection instance, with the pool's settings
 * (as `sql.listen` does), and reports `down` from its `onclose` and `up` once LISTEN has
 * succeeded again. While the database is unreachable it tries again every second.
 */
export function listen(sql: Sql, channel: string, handlers: ListenHandlers): { stop(): Promise<void> } {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name: ${channel}`);
  let stopped = false;
  let subscribing = false;
  const connection = postgres({
    ...(sql.options as unknown as postgres.Options<{}>),
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    fetch_types: false,
    // Tests find it by this name to kill it; an operator sees what it is.
    connection: { ...sql.options.connection, application_name: "auth-trans-app listener" },
    onnotify: (name: string, payload: string) => name === channel && handlers.notify(payload),
    onclose: () => {
      if (stopped) return;
      handlers.down();
      void subscribe();
    },
  } as unknown as postgres.Options<{}>);

  async function subscribe(): Promise<void> {
    // onclose and a failed attempt may both ask; one subscription at a time.
    if (subscribing) return;
    subscribing = true;
    while (!stopped) {
      try {
        await connection.unsafe(`LISTEN ${channel}`);
        if (!stopped) handlers.up();
        break;
      } catch {
        await Bun.sleep(RETRY_MS);
      }
    }
    subscribing = false;
  }
  void subscribe();

  return {
    /** Closes the connection; no handler is called after this. */
    async stop() {
      stopped = true;
      await connection.end({ timeout: 1 });
    },
  };
}
