import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { login, post, type Answer } from "./test-client";
import { startAuthService, startSecondInstance, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

const PASSWORD = "password-123";
const WINDOW_SECONDS = 15 * 60;

function expectThrottled(answer: Answer) {
  expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 429, code: "too_many_attempts" });
  const retryAfter = answer.headers.get("retry-after") ?? "";
  expect(retryAfter).toMatch(/^[0-9]+$/);
  expect(Number(retryAfter)).toBeGreaterThan(0);
  expect(Number(retryAfter)).toBeLessThanOrEqual(WINDOW_SECONDS);
  expect(answer.headers.get("x-request-id")).toBeTruthy();
}

async function register(url: string, username: string) {
  const answer = await post(url, "/register", { json: { username, email: `${username}@example.com`, password: PASSWORD } });
  expect(answer.status).toBe(200);
}

async function fail(url: string, username: string, headers: Record<string, string> = {}) {
  const answer = await post(url, "/token", { form: { username, password: "wrong-password" }, headers });
  expect(answer.body.code).toBe("invalid_credentials");
}

describe("per-account throttling (3 failures per account)", () => {
  let auth: RunningAuth;
  beforeAll(async () => {
    auth = await startAuthService({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "3", LOGIN_MAX_FAILURES_PER_ADDRESS: "1000" });
    for (const name of ["alice", "bob", "carol", "erin", "gina"]) await register(auth.url, name);
  });
  afterAll(() => auth.stop());

  test("after 3 failures even the right password gets 429 too_many_attempts with Retry-After", async () => {
    for (let i = 0; i < 3; i++) await fail(auth.url, "alice");
    expectThrottled(await login(auth.url, "alice", PASSWORD));
    expectThrottled(await login(auth.url, "alice", "wrong-password"));
  });

  test("wrong old passwords at /change-password are throttled too, and count against logins", async () => {
    const token = (await login(auth.url, "gina", PASSWORD)).body.access_token as string;
    const change = (old_password: string) => post(auth.url, "/change-password", { token, json: { old_password, new_password: "another-password-1" } });
    for (let i = 0; i < 3; i++) expect((await change("wrong-password")).body.code).toBe("invalid_credentials");
    // A stolen token must not allow unlimited guesses at the password: the right one waits too.
    expectThrottled(await change(PASSWORD));
    expectThrottled(await login(auth.url, "gina", PASSWORD));
  });

  test("failures by username, by email and in any case count against the same account", async () => {
    await fail(auth.url, "bob");
    await fail(auth.url, "BOB@example.com");
    await fail(auth.url, "Bob");
    expectThrottled(await login(auth.url, "bob@example.com", PASSWORD));
  });

  test("another user from the same address is not locked out", async () => {
    expect((await login(auth.url, "carol", PASSWORD)).status).toBe(200);
  });

  test("a successful login clears the account's failures", async () => {
    await fail(auth.url, "erin");
    await fail(auth.url, "erin");
    expect((await login(auth.url, "erin", PASSWORD)).status).toBe(200);
    await fail(auth.url, "erin");
    await fail(auth.url, "erin");
    expect((await login(auth.url, "erin", PASSWORD)).status).toBe(200);
  });

  test("an unknown username is throttled like a known one, so throttling does not reveal who exists", async () => {
    for (let i = 0; i < 3; i++) await fail(auth.url, "ghost");
    expectThrottled(await login(auth.url, "GHOST", PASSWORD));
  });

  test("the failures are in the database: a second instance with its own pool refuses the locked account", async () => {
    const second = startSecondInstance(auth);
    try {
      expectThrottled(await login(second.url, "alice", PASSWORD));
      expect((await login(second.url, "carol", PASSWORD)).status).toBe(200);
      const [row] = await auth.db.sql<{ failures: number }[]>`
        SELECT count(*)::int AS failures FROM throttle_attempts WHERE scope = 'account' AND NOT pending AND key = (
          SELECT 'user:' || id FROM users WHERE username = 'alice')`;
      expect(row?.failures).toBe(3);
    } finally {
      await second.stop();
    }
  });
});

describe("per-address throttling (5 failures per address, behind a trusted proxy)", () => {
  let auth: RunningAuth;
  const office = { "x-forwarded-for": "203.0.113.7" };
  beforeAll(async () => {
    auth = await startAuthService({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000", LOGIN_MAX_FAILURES_PER_ADDRESS: "5", TRUST_PROXY: "1" });
    for (const name of ["alice", "bob"]) await register(auth.url, name);
  });
  afterAll(() => auth.stop());

  test("5 failures from one address, across users, block every user from that address", async () => {
    for (const name of ["alice", "ghost", "alice", "someone", "alice"]) await fail(auth.url, name, office);
    const form = { username: "bob", password: PASSWORD };
    expectThrottled(await post(auth.url, "/token", { form, headers: office }));
    expectThrottled(await post(auth.url, "/token", { form: { ...form, username: "nobody" }, headers: office }));
  });

  test("an address written by the client to the left of the proxy's entry does not get around the limit", async () => {
    const spoofed = { "x-forwarded-for": "198.51.100.9, 203.0.113.7" };
    expectThrottled(await post(auth.url, "/token", { form: { username: "bob", password: PASSWORD }, headers: spoofed }));
  });

  test("the same users from another address still log in", async () => {
    const elsewhere = { "x-forwarded-for": "203.0.113.7, 198.51.100.9" };
    expect((await post(auth.url, "/token", { form: { username: "bob", password: PASSWORD }, headers: elsewhere })).status).toBe(200);
    expect((await post(auth.url, "/token", { form: { username: "alice", password: PASSWORD }, headers: elsewhere })).status).toBe(200);
  });
});
