import type { Context } from "hono";
import { getConnInfo } from "hono/bun";

/** The throttling keys and the sessions table hold at most this many characters of an address. */
const MAX_ADDRESS_LENGTH = 64;

/**
 * The address of the client, as far as the service can know it without believing the client.
 *
 * With no proxy in front (`trustedProxies` 0), it is the connection's address, and
 * X-Forwarded-For is ignored: anyone can write that header. Behind n proxies, each one appends
 * the address it received the request from, so the entry that the first of them (the one the
 * client connected to) appended, the n-th from the right, is the client's; everything to its left was written by the client
 * (or by proxies that are not ours) and is never used. A request whose header has fewer
 * entries than there are proxies did not come through all of them, so its connection's address
 * is used instead.
 */
export function clientAddress(c: Context, trustedProxies: number): string {
  const connection = getConnInfo(c).remote.address ?? "unknown";
  if (trustedProxies === 0) return connection.slice(0, MAX_ADDRESS_LENGTH);
  // Headers.get joins repeated X-Forwarded-For headers with ", ", in the order they came.
  const entries = (c.req.header("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const appended = entries.length >= trustedProxies ? entries[entries.length - trustedProxies] : undefined;
  return (appended ?? connection).slice(0, MAX_ADDRESS_LENGTH);
}
