import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { get, post } from "./test-client";
import { startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * The client address as the service records it, read back from GET /sessions. With n trusted
 * proxies it is the n-th X-Forwarded-For entry from the right, the one that the first of our
 * proxies (the one the client connected to) appended; whatever the client wrote to its left is
 * ignored.
 */
const PASSWORD = "password-123";
const services: Record<string, RunningAuth> = {};

beforeAll(async () => {
  for (const proxies of ["0", "1", "2"]) {
    const auth = (services[proxies] = await startAuthService({ TRUST_PROXY: proxies }));
    await post(auth.url, "/register", { json: { username: "alice", email: "alice@example.com", password: PASSWORD } });
  }
});
afterAll(() => Promise.all(Object.values(services).map((auth) => auth.stop())));

async function recordedAddress(proxies: string, forwardedFor?: string): Promise<string> {
  const { url } = services[proxies]!;
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor };
  const token = (await post(url, "/token", { form: { username: "alice", password: PASSWORD }, headers })).body.access_token;
  const sessions = (await get(url, "/sessions", { token })).body as { current: boolean; client_address: string }[];
  return sessions.find((s) => s.current)!.client_address;
}

describe.each([
  ["0", undefined, "127.0.0.1", "no proxy: the connection's address"],
  ["0", "203.0.113.9", "127.0.0.1", "no proxy: X-Forwarded-For is ignored, anyone can write it"],
  ["1", "203.0.113.9", "203.0.113.9", "one proxy: the entry it appended"],
  ["1", "6.6.6.6, 203.0.113.9", "203.0.113.9", "one proxy: a spoofed leftmost entry is ignored"],
  ["1", "6.6.6.6,7.7.7.7 ,  203.0.113.9", "203.0.113.9", "one proxy: spacing does not matter"],
  ["2", "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9", "two proxies: the second entry from the right"],
  ["2", "203.0.113.9", "127.0.0.1", "two proxies but one entry: the connection's address, since no entry is surely ours"],
  ["1", undefined, "127.0.0.1", "one proxy but no header: the connection's address"],
])("TRUST_PROXY=%s, X-Forwarded-For %p", (proxies, forwardedFor, expected, name) => {
  test(`${name} (${expected})`, async () => {
    expect(await recordedAddress(proxies, forwardedFor)).toBe(expected);
  });
});
