import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { decodeJwt } from "jose";
import { del, get, login, post, refresh } from "./test-client";
import { startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

const PASSWORD = "password-123";

let auth: RunningAuth;
beforeAll(async () => {
  auth = await startAuthService({ TRUST_PROXY: "1" });
  for (const name of ["alice", "bob", "carol", "dave", "erin"]) {
    await post(auth.url, "/register", { json: { username: name, email: `${name}@example.com`, password: PASSWORD } });
  }
});
afterAll(() => auth.stop());

type Tokens = { access_token: string; refresh_token: string; sid: string };

async function sessionOf(name: string, headers: Record<string, string> = {}): Promise<Tokens> {
  const answer = await post(auth.url, "/token", { form: { username: name, password: PASSWORD }, headers });
  expect(answer.status).toBe(200);
  return { ...answer.body, sid: decodeJwt(answer.body.access_token).sid as string };
}

/** Whether the session's access token still passes /verify and its refresh token still refreshes. */
async function alive(tokens: Tokens): Promise<{ verify: number; refresh: number }> {
  const verify = (await post(auth.url, "/verify", { token: tokens.access_token })).status;
  const refreshed = await refresh(auth.url, tokens.refresh_token);
  if (refreshed.status === 200) tokens.refresh_token = refreshed.body.refresh_token;
  return { verify, refresh: refreshed.status };
}
const LIVE = { verify: 200, refresh: 200 };
const ENDED = { verify: 401, refresh: 400 };

describe("POST /logout", () => {
  test("scope=local (the default) ends this session only, at once", async () => {
    const [one, two] = [await sessionOf("alice"), await sessionOf("alice")];
    expect((await post(auth.url, "/logout", { token: one.access_token })).status).toBe(204);
    expect(await alive(one)).toEqual(ENDED);
    expect(await alive(two)).toEqual(LIVE);
  });

  test("scope=others ends every other session and keeps this one", async () => {
    const [one, two, three] = [await sessionOf("bob"), await sessionOf("bob"), await sessionOf("bob")];
    expect((await post(auth.url, "/logout?scope=others", { token: two.access_token })).status).toBe(204);
    expect([await alive(one), await alive(two), await alive(three)]).toEqual([ENDED, LIVE, ENDED]);
  });

  test("scope=global ends every session of the user, and no one else's", async () => {
    const [one, two, other] = [await sessionOf("carol"), await sessionOf("carol"), await sessionOf("dave")];
    expect((await post(auth.url, "/logout?scope=global", { token: one.access_token })).status).toBe(204);
    expect([await alive(one), await alive(two), await alive(other)]).toEqual([ENDED, ENDED, LIVE]);
  });

  test("refuses an unknown scope with 422, a missing token with 401, and an ended session's token with 401", async () => {
    const one = await sessionOf("erin");
    const wrong = await post(auth.url, "/logout?scope=everything", { token: one.access_token });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 422, code: "validation_error" });
    expect((await post(auth.url, "/logout")).status).toBe(401);
    await post(auth.url, "/logout", { token: one.access_token });
    const again = await post(auth.url, "/logout", { token: one.access_token });
    expect({ status: again.status, bearer: again.headers.get("www-authenticate") }).toEqual({ status: 401, bearer: "Bearer" });
  });
});

describe("GET /sessions", () => {
  test("lists the user's live sessions with address, user agent and which one is current", async () => {
    const phone = await sessionOf("dave", { "x-forwarded-for": "198.51.100.1", "user-agent": "Phone/1.0" });
    const laptop = await sessionOf("dave", { "x-forwarded-for": "198.51.100.2", "user-agent": "Laptop/2.0" });
    const answer = await get(auth.url, "/sessions", { token: laptop.access_token });
    expect(answer.status).toBe(200);
    const mine = answer.body.filter((s: { id: string }) => [phone.sid, laptop.sid].includes(s.id));
    expect(mine.map(({ id, client_address, user_agent, current }: Record<string, unknown>) => ({ id, client_address, user_agent, current }))).toEqual([
      { id: laptop.sid, client_address: "198.51.100.2", user_agent: "Laptop/2.0", current: true },
      { id: phone.sid, client_address: "198.51.100.1", user_agent: "Phone/1.0", current: false },
    ]);
    for (const session of answer.body) {
      expect(Object.keys(session).sort()).toEqual(["client_address", "created_at", "current", "id", "last_used_at", "user_agent"]);
      expect(new Date(session.created_at).toISOString()).toBe(session.created_at);
    }
  });

  test("moves last_used_at on a refresh, and drops a session once it has ended", async () => {
    const one = await sessionOf("alice");
    const two = await sessionOf("alice");
    const before = (await get(auth.url, "/sessions", { token: two.access_token })).body.find((s: { id: string }) => s.id === one.sid);
    await Bun.sleep(20);
    await refresh(auth.url, one.refresh_token);
    const after = (await get(auth.url, "/sessions", { token: two.access_token })).body.find((s: { id: string }) => s.id === one.sid);
    expect(Date.parse(after.last_used_at)).toBeGreaterThan(Date.parse(before.last_used_at));
    expect(after.created_at).toBe(before.created_at);
    await post(auth.url, "/logout", { token: one.access_token });
    const listed = (await get(auth.url, "/sessions", { token: two.access_token })).body.map((s: { id: string }) => s.id);
    expect(listed).not.toContain(one.sid);
    expect(listed).toContain(two.sid);
  });
});

describe("DELETE /sessions/{id}", () => {
  test("ends another of the user's own sessions at once", async () => {
    const [one, two] = [await sessionOf("erin"), await sessionOf("erin")];
    expect((await del(auth.url, `/sessions/${one.sid}`, { token: two.access_token })).status).toBe(204);
    expect([await alive(one), await alive(two)]).toEqual([ENDED, LIVE]);
  });

  test("ends the caller's own session when named", async () => {
    const one = await sessionOf("erin");
    expect((await del(auth.url, `/sessions/${one.sid.toUpperCase()}`, { token: one.access_token })).status).toBe(204);
    expect(await alive(one)).toEqual(ENDED);
  });

  test("answers 404 session_not_found for another user's session, which lives on", async () => {
    const [mine, theirs] = [await sessionOf("alice"), await sessionOf("bob")];
    const answer = await del(auth.url, `/sessions/${theirs.sid}`, { token: mine.access_token });
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 404, body: { detail: "Session not found", code: "session_not_found" } });
    expect(await alive(theirs)).toEqual(LIVE);
  });

  test("answers 404 for an ended session, an unknown id and an id that is no UUID; 401 without a token", async () => {
    const [mine, ended] = [await sessionOf("carol"), await sessionOf("carol")];
    await post(auth.url, "/logout", { token: ended.access_token });
    for (const id of [ended.sid, crypto.randomUUID(), "not-a-session", "' OR 1=1 --", "%00"]) {
      const answer = await del(auth.url, `/sessions/${encodeURIComponent(id)}`, { token: mine.access_token });
      expect({ id, status: answer.status, code: answer.body.code }).toEqual({ id, status: 404, code: "session_not_found" });
    }
    expect((await del(auth.url, `/sessions/${mine.sid}`)).status).toBe(401);
    expect(await alive(mine)).toEqual(LIVE);
  });
});

test("a client that ignores refresh tokens and logs in again works as before", async () => {
  const first = await login(auth.url, "dave", PASSWORD);
  const second = await login(auth.url, "dave", PASSWORD);
  for (const answer of [first, second]) expect((await post(auth.url, "/verify", { token: answer.body.access_token })).status).toBe(200);
});
