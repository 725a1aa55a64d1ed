import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { decodeJwt } from "jose";
import { Logger } from "../common/logger";
import { logLines } from "../common/testing";
import { purgeOnce, startPurge } from "./purge";
import { get, login, post, refresh } from "./test-client";
import { startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

const PASSWORD = "password-123";
const DAY_MS = 24 * 3600 * 1000;

let auth: RunningAuth;
let userId: bigint;
beforeAll(async () => {
  auth = await startAuthService({ REFRESH_TOKEN_EXPIRE_DAYS: "30", SESSION_LIFETIME_DAYS: "45", MAX_SESSIONS_PER_USER: "3" });
  for (const name of ["alice", "bob"]) {
    await post(auth.url, "/register", { json: { username: name, email: `${name}@example.com`, password: PASSWORD } });
  }
  userId = (await auth.db.sql<{ id: bigint }[]>`SELECT id FROM users WHERE username = 'bob'`)[0]!.id;
});
afterAll(() => auth.stop());

async function session(name = "alice") {
  const answer = await login(auth.url, name, PASSWORD);
  return { ...answer.body, sid: decodeJwt(answer.body.access_token).sid as string } as { access_token: string; refresh_token: string; sid: string };
}
const expiry = async (sid: string) =>
  (await auth.db.sql<{ expires_at: Date; absolute_expires_at: Date }[]>`SELECT expires_at, absolute_expires_at FROM sessions WHERE id = ${sid}`)[0]!;
const near = (date: Date, msFromNow: number) => expect(Math.abs(date.getTime() - (Date.now() + msFromNow))).toBeLessThan(60_000);

describe("expiry", () => {
  test("a session expires REFRESH_TOKEN_EXPIRE_DAYS after its last refresh, and never later than SESSION_LIFETIME_DAYS after login", async () => {
    const { sid, refresh_token } = await session();
    near((await expiry(sid)).expires_at, 30 * DAY_MS);
    near((await expiry(sid)).absolute_expires_at, 45 * DAY_MS);
    // As if the session had been refreshed for 44 days: its absolute end is one day away.
    await auth.db.sql`UPDATE sessions SET expires_at = now() + interval '1 hour', absolute_expires_at = now() + interval '1 day' WHERE id = ${sid}`;
    expect((await refresh(auth.url, refresh_token)).status).toBe(200);
    near((await expiry(sid)).expires_at, DAY_MS);
  });

  test("an expired session's access and refresh tokens are refused, and it is no longer listed", async () => {
    const expired = await session();
    const other = await session();
    await auth.db.sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ${expired.sid}`;
    expect((await post(auth.url, "/verify", { token: expired.access_token })).status).toBe(401);
    expect((await refresh(auth.url, expired.refresh_token)).body.code).toBe("invalid_grant");
    const listed = (await get(auth.url, "/sessions", { token: other.access_token })).body.map((s: { id: string }) => s.id);
    expect(listed).not.toContain(expired.sid);
  });

  test("beyond MAX_SESSIONS_PER_USER live sessions, a login ends the least recently used", async () => {
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await session("bob"));
    const listed = (await get(auth.url, "/sessions", { token: sessions[4]!.access_token })).body.map((s: { id: string }) => s.id);
    expect(listed).toEqual([sessions[4]!.sid, sessions[3]!.sid, sessions[2]!.sid]);
    for (const ended of sessions.slice(0, 2)) expect((await post(auth.url, "/verify", { token: ended.access_token })).status).toBe(401);
  });
});

/** Sessions of bob that ended or expired, as many as asked, straight into the table. */
async function deadSessions(count: number): Promise<void> {
  await auth.db.sql`
    INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, absolute_expires_at, ended_at, client_address, user_agent)
    SELECT gen_random_uuid(), ${userId}, md5(i::text), now() - interval '1 minute', now(), CASE WHEN i % 2 = 0 THEN now() END, '127.0.0.1', ''
    FROM generate_series(1, ${count}) AS i`;
}
const count = async (table: "sessions" | "throttle_attempts") =>
  (await auth.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${auth.db.sql(table)}`)[0]!.n;

describe("the purge", () => {
  test("deletes ended and expired sessions and old attempts in batches, and keeps live sessions and attempts in a window", async () => {
    await auth.db.sql`DELETE FROM sessions WHERE expires_at <= now()`;
    const live = await count("sessions");
    await deadSessions(1234);
    await auth.db.sql`
      INSERT INTO throttle_attempts (scope, key, attempted_at, pending)
      SELECT 'address', 'old-' || i, now() - interval '2 hours', false FROM generate_series(1, 700) AS i`;
    await login(auth.url, "alice", "wrong-password");
    const recent = await count("throttle_attempts");
    expect(await purgeOnce(auth.db.sql, auth.config)).toEqual({ sessions: 1234, attempts: 700 });
    expect(await count("sessions")).toBe(live);
    expect(await count("throttle_attempts")).toBe(recent - 700);
  });

  test("skips a session a request holds locked instead of waiting for it", async () => {
    await deadSessions(3);
    const [locked] = await auth.db.sql<{ id: string }[]>`SELECT id FROM sessions WHERE expires_at <= now() LIMIT 1`;
    let release!: () => void;
    const held = auth.db.sql.begin(async (tx) => {
      await tx`SELECT 1 FROM sessions WHERE id = ${locked!.id} FOR UPDATE`;
      await new Promise<void>((resolve) => (release = resolve));
    });
    await Bun.sleep(100);
    const started = performance.now();
    expect(await purgeOnce(auth.db.sql, auth.config)).toMatchObject({ sessions: 2 });
    expect(performance.now() - started).toBeLessThan(2000);
    release();
    await held;
    expect(await purgeOnce(auth.db.sql, auth.config)).toMatchObject({ sessions: 1 });
  });

  test("runs in the background every PURGE_INTERVAL_SECONDS, and stops when told", async () => {
    await deadSessions(10);
    const log = new Logger({ file: `${auth.logFile}.purge`, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
    const stop = startPurge(auth.db.sql, { ...auth.config, PURGE_INTERVAL_SECONDS: 1 }, log);
    try {
      for (let i = 0; i < 40 && (await auth.db.sql`SELECT 1 FROM sessions WHERE expires_at <= now()`).length > 0; i++) await Bun.sleep(100);
      expect((await auth.db.sql`SELECT 1 FROM sessions WHERE expires_at <= now()`).length).toBe(0);
    } finally {
      await stop();
      log.close();
    }
    expect((await logLines(`${auth.logFile}.purge`)).map((line) => line.event)).toContain("purged");
  });
});
