import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { decodeJwt } from "jose";
import { get, login, post, refresh, type Answer } from "./test-client";
import type { ServedForTest } from "../common/testing";
import { startAuthService, startSecondInstance, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

const PASSWORD = "password-123";

/** A grace window long enough for any test here (10 s, the default), and one that ends quickly. */
let auth: RunningAuth;
let quick: RunningAuth;
/** Another instance of `auth` on the same database, as behind a load balancer. */
let second: ServedForTest;

beforeAll(async () => {
  [auth, quick] = await Promise.all([startAuthService(), startAuthService({ REFRESH_REUSE_GRACE_SECONDS: "1" })]);
  second = startSecondInstance(auth);
  for (const name of ["alice", "bob", "carol", "dave", "erin"]) {
    for (const service of [auth, quick]) {
      await post(service.url, "/register", { json: { username: name, email: `${name}@example.com`, password: PASSWORD } });
    }
  }
});
afterAll(async () => {
  await second.stop();
  await Promise.all([auth.stop(), quick.stop()]);
});

async function loggedIn(url: string, name: string) {
  const answer = await login(url, name, PASSWORD);
  expect(answer.status).toBe(200);
  return answer.body as { access_token: string; refresh_token: string };
}

function expectInvalidGrant(answer: Answer) {
  expect({ status: answer.status, body: answer.body }).toEqual({
    status: 400,
    body: { detail: "The refresh token is unknown, expired or spent, or its session has ended", code: "invalid_grant", error: "invalid_grant" },
  });
}

const verifyStatus = async (url: string, token: string) => (await post(url, "/verify", { token })).status;
const sid = (accessToken: string) => decodeJwt(accessToken).sid;

describe("refresh token rotation", () => {
  test("a refresh answers a new access token of the same session and a new refresh token; each refresh token works once", async () => {
    const first = await loggedIn(auth.url, "alice");
    const second = await refresh(auth.url, first.refresh_token);
    expect(second.status).toBe(200);
    expect(Object.keys(second.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
    expect(second.headers.get("cache-control")).toBe("no-store");
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(sid(second.body.access_token)).toBe(sid(first.access_token));
    expect(await verifyStatus(auth.url, second.body.access_token)).toBe(200);
    const third = await refresh(auth.url, second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(await verifyStatus(auth.url, third.body.access_token)).toBe(200);
  });

  test("the grant is accepted as JSON too", async () => {
    const first = await loggedIn(auth.url, "alice");
    const answer = await post(auth.url, "/token", { json: { grant_type: "refresh_token", refresh_token: first.refresh_token } });
    expect(answer.status).toBe(200);
  });

  test("only a hash of the refresh token is stored", async () => {
    const { refresh_token } = await loggedIn(auth.url, "alice");
    const rows = await auth.db.sql<{ text: string; refresh_token_hash: string }[]>`SELECT s::text AS text, refresh_token_hash FROM sessions s`;
    const secret = Buffer.from(refresh_token, "base64url").subarray(16);
    for (const { text } of rows) {
      expect(text).not.toContain(refresh_token);
      expect(text).not.toContain(secret.toString("hex"));
      expect(text).not.toContain(secret.toString("base64url"));
    }
    const hash = new Bun.CryptoHasher("sha256").update(refresh_token).digest("hex");
    expect(rows.map((row) => row.refresh_token_hash)).toContain(hash);
  });
});

describe("reuse of a spent refresh token", () => {
  test("after the grace window ends the whole session: the newest refresh token and access token stop working", async () => {
    const first = await loggedIn(quick.url, "bob");
    const second = (await refresh(quick.url, first.refresh_token)).body;
    await Bun.sleep(1500);
    expectInvalidGrant(await refresh(quick.url, first.refresh_token));
    expectInvalidGrant(await refresh(quick.url, second.refresh_token));
    expect(await verifyStatus(quick.url, second.access_token)).toBe(401);
    const [row] = await quick.db.sql`SELECT end_reason FROM sessions WHERE id = ${sid(first.access_token) as string}`;
    expect(row?.end_reason).toBe("refresh_token_reused");
  });

  test("a token spent two rotations ago ends the session even inside the grace window", async () => {
    const first = await loggedIn(auth.url, "bob");
    const second = (await refresh(auth.url, first.refresh_token)).body;
    const third = (await refresh(auth.url, second.refresh_token)).body;
    expectInvalidGrant(await refresh(auth.url, first.refresh_token));
    expectInvalidGrant(await refresh(auth.url, third.refresh_token));
    expect(await verifyStatus(auth.url, third.access_token)).toBe(401);
  });

  test("another session of the same user is not touched", async () => {
    const stolen = await loggedIn(quick.url, "carol");
    const other = await loggedIn(quick.url, "carol");
    await refresh(quick.url, stolen.refresh_token);
    await Bun.sleep(1500);
    expectInvalidGrant(await refresh(quick.url, stolen.refresh_token));
    expect(await verifyStatus(quick.url, other.access_token)).toBe(200);
    expect((await refresh(quick.url, other.refresh_token)).status).toBe(200);
  });
});

describe("two tabs refreshing at the same moment (inside the grace window)", () => {
  test("ten simultaneous refreshes with one token, at two instances, all succeed with the same successor, and the session lives on", async () => {
    const first = await loggedIn(auth.url, "dave");
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => refresh(i % 2 ? second.url : auth.url, first.refresh_token)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const successors = new Set(answers.map((a) => a.body.refresh_token));
    expect(successors.size).toBe(1);
    for (const answer of answers) expect(await verifyStatus(auth.url, answer.body.access_token)).toBe(200);
    // The successor was never spent by the repeats: it rotates once, like any token.
    const [successor] = [...successors] as string[];
    const next = await refresh(auth.url, successor!);
    expect(next.status).toBe(200);
    expect(await verifyStatus(auth.url, next.body.access_token)).toBe(200);
    const live = await get(auth.url, "/sessions", { token: next.body.access_token });
    expect(live.body.filter((s: { id: string }) => s.id === sid(first.access_token))).toHaveLength(1);
  });
});

describe("a password change", () => {
  test("ends every session of the user, the caller's too", async () => {
    const one = await loggedIn(auth.url, "erin");
    const two = await loggedIn(auth.url, "erin");
    const changed = await post(auth.url, "/change-password", { token: one.access_token, json: { old_password: PASSWORD, new_password: "new-password-2" } });
    expect(changed.status).toBe(200);
    for (const tokens of [one, two]) {
      expect(await verifyStatus(auth.url, tokens.access_token)).toBe(401);
      expectInvalidGrant(await refresh(auth.url, tokens.refresh_token));
    }
    const fresh = await login(auth.url, "erin", "new-password-2");
    const sessions = await get(auth.url, "/sessions", { token: fresh.body.access_token });
    expect(sessions.body.map((s: { current: boolean }) => s.current)).toEqual([true]);
  });
});
