import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { ServedForTest } from "../common/testing";
import { post, type Call } from "./test-client";
import { registerAndLogin, startAuthService, startSecondInstance, type RunningAuth } from "./test-server";

// Sixty argon2id checks at once on a small, busy machine take seconds.
setDefaultTimeout(60_000);

/**
 * Bursts of simultaneous guesses, spread over two instances of the service on one database. The
 * limit is reserved before a password is checked, so however the requests interleave, no more
 * passwords are checked than the limit: the rest are 429 without a check.
 */
const BURST = 60;
const PASSWORD = "password-123";

let auth: RunningAuth;
let second: ServedForTest;

beforeAll(async () => {
  auth = await startAuthService({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "10", LOGIN_MAX_FAILURES_PER_ADDRESS: "20", TRUST_PROXY: "1" });
  second = startSecondInstance(auth);
});
afterAll(async () => {
  await second.stop();
  await auth.stop();
});

/**
 * Fires every call at once from one client address (each test its own, as a trusted proxy
 * reports it), alternating between the two instances, and counts the answers.
 */
async function burst(path: string, address: string, calls: Call[]) {
  const headers = { "x-forwarded-for": address };
  const answers = await Promise.all(calls.map((call, i) => post(i % 2 ? second.url : auth.url, path, { ...call, headers })));
  const counts: Record<string, number> = {};
  for (const { status, body } of answers) counts[`${status} ${body.code}`] = (counts[`${status} ${body.code}`] ?? 0) + 1;
  return counts;
}

describe(`${BURST} simultaneous wrong passwords at two instances`, () => {
  test("for one account: exactly 10 are checked (400), the other 50 are 429 without a check", async () => {
    await registerAndLogin(auth.url, "alice", PASSWORD);
    const calls = Array.from({ length: BURST }, (_, i) => ({ form: { username: "alice", password: `wrong-${i}` } }));
    expect(await burst("/token", "198.51.100.1", calls)).toEqual({ "400 invalid_credentials": 10, "429 too_many_attempts": BURST - 10 });
  });

  test("for one address, across accounts: exactly 20 are checked", async () => {
    const calls = Array.from({ length: BURST }, (_, i) => ({ form: { username: `ghost${i}`, password: "wrong-password" } }));
    expect(await burst("/token", "198.51.100.2", calls)).toEqual({ "400 invalid_credentials": 20, "429 too_many_attempts": BURST - 20 });
  });

  test("at /change-password with one token: exactly 10 old passwords are checked", async () => {
    const { token } = await registerAndLogin(auth.url, "bob", PASSWORD);
    const calls = Array.from({ length: BURST }, (_, i) => ({ token, json: { old_password: `wrong-${i}`, new_password: "new-password-1" } }));
    expect(await burst("/change-password", "198.51.100.3", calls)).toEqual({ "400 invalid_credentials": 10, "429 too_many_attempts": BURST - 10 });
  });
});

describe("simultaneous right passwords at two instances: the limits count failures, not logins", () => {
  test("30 logins to one account (limit 10) all succeed: the ones beyond the limit wait for the checks in flight", async () => {
    await registerAndLogin(auth.url, "frank", PASSWORD);
    const calls = Array.from({ length: 30 }, () => ({ form: { username: "frank", password: PASSWORD } }));
    expect(await burst("/token", "198.51.100.4", calls)).toEqual({ "200 undefined": 30 });
  });

  test("30 logins to different accounts from one address (limit 20) all succeed", async () => {
    for (let i = 0; i < 30; i++)
      await post(auth.url, "/register", {
        json: { username: `gus${i}`, email: `gus${i}@example.com`, password: PASSWORD },
        headers: { "x-forwarded-for": `198.51.100.${100 + i}` },
      });
    const calls = Array.from({ length: 30 }, (_, i) => ({ form: { username: `gus${i}`, password: PASSWORD } }));
    expect(await burst("/token", "198.51.100.5", calls)).toEqual({ "200 undefined": 30 });
  });
});
