import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Logger } from "../common/logger";
import { serve } from "../common/server";
import { until } from "../scripts/processes";
import { tempLogsDir } from "../common/testing";
import { connect } from "../db/connect";
import { tokenService } from "./access-tokens";
import { createAuthApp } from "./app";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";
import { verifyCache, type VerifyCache } from "./verify-cache";

// Two instances, hundreds of users and killed connections take seconds on a small, busy machine.
setDefaultTimeout(60_000);

/**
 * /verify from memory, still exact: instance A is the usual test server; instances B are built
 * here on the same database, each with its own pool, LISTEN connection and cache.
 */
let a: RunningAuth;
const stops: (() => Promise<void>)[] = [];

interface Instance {
  url: string;
  cache: VerifyCache;
}

async function instance(maxEntries = 10_000): Promise<Instance> {
  const sql = connect(a.db.url, { max: 5 });
  const log = new Logger({ file: `${tempLogsDir("auth-b")}/auth.log`, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
  const background: (() => Promise<void>)[] = [];
  const onShutdown = (stop: () => Promise<void>) => void background.push(stop);
  const cache = verifyCache({ sql, log, maxEntries, onShutdown });
  const app = createAuthApp({ sql, config: a.config, log, onShutdown, cache });
  const served = serve({
    fetch: app.fetch as never,
    port: 0,
    close: async () => {
      await Promise.all(background.map((stop) => stop()));
      await sql.end({ timeout: 1 });
    },
  });
  stops.push(served.shutdown);
  expect(await until(() => cache.users.isTrusted, 5000, 10)).toBe(true);
  return { url: `http://127.0.0.1:${served.port}`, cache };
}

const verify = (url: string, token: string) =>
  fetch(`${url}/verify`, { method: "POST", headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { id?: number; username?: string },
  }));

/** `count` users inserted straight into the database (no password hashing), each with a live session and a token. */
async function users(count: number, prefix: string): Promise<{ id: bigint; sid: string; token: string }[]> {
  const rows = await a.db.sql<{ id: bigint; token_version: number; sid: string }[]>`
    WITH u AS (
      INSERT INTO users (username, email, password_hash)
      SELECT ${prefix} || g, ${prefix} || g || '@example.com', 'not-a-hash' FROM generate_series(1, ${count}::int) AS g
      RETURNING id, token_version)
    INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, absolute_expires_at, client_address, user_agent)
    SELECT gen_random_uuid(), u.id, 'h', now() + interval '1 day', now() + interval '1 day', '127.0.0.1', 'test' FROM u
    RETURNING user_id AS id, id AS sid, 0 AS token_version`;
  return Promise.all(rows.map(async (row) => ({ id: row.id, sid: row.sid, token: await tokenFor(row.id, row.token_version, row.sid) })));
}

/** A token as the auth service issues it, for any user, version and session. */
const tokenFor = async (id: bigint, version: number, sid: string) =>
  (await tokenService(a.config, undefined as never).issue({ id, token_version: version }, sid)).access_token;

const percentile = (values: number[], p: number) => [...values].sort((x, y) => x - y)[Math.ceil((p / 100) * values.length) - 1]!;

beforeAll(async () => {
  a = await startAuthService();
});
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  await a.stop();
});

describe("/verify from memory", () => {
  test("answers from memory once a user is known: a change made without a notification goes unseen", async () => {
    const b = await instance();
    const [user] = await users(1, "quiet");
    expect((await verify(b.url, user!.token)).body.username).toBe("quiet1");
    expect(b.cache.users.size).toBe(1);
    // Proof that the memory is used, and that the notification is what keeps it exact.
    await a.db.sql.begin(async (tx) => {
      await tx`ALTER TABLE users DISABLE TRIGGER users_notify_changed`;
      await tx`UPDATE users SET username = 'renamed_quietly' WHERE id = ${user!.id}`;
      await tx`ALTER TABLE users ENABLE TRIGGER users_notify_changed`;
    });
    expect((await verify(b.url, user!.token)).body.username).toBe("quiet1");
    await a.db.sql`UPDATE users SET username = 'renamed_loudly' WHERE id = ${user!.id}`;
    expect(await until(async () => (await verify(b.url, user!.token)).body.username === "renamed_loudly", 2000, 1)).toBe(true);
  });

  test("a password change on instance A is refused at once on A, and on instance B as soon as the notification lands", async () => {
    const b = await instance();
    const { token: first } = await registerAndLogin(a.url, "changer", "password-0");
    let token = first;
    const propagationMs: number[] = [];
    for (let round = 1; round <= 5; round++) {
      expect((await verify(b.url, token)).status).toBe(200);
      const changed = await fetch(`${a.url}/change-password`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ old_password: `password-${round - 1}`, new_password: `password-${round}` }),
      });
      const answeredAt = performance.now();
      expect(changed.status).toBe(200);
      expect((await verify(a.url, token)).status).toBe(401);
      while ((await verify(b.url, token)).status !== 401) {
        if (performance.now() - answeredAt > 2000) throw new Error("instance B still accepts a revoked token after 2 s");
      }
      propagationMs.push(performance.now() - answeredAt);
      const login = await fetch(`${a.url}/token`, { method: "POST", body: new URLSearchParams({ username: "changer", password: `password-${round}` }) });
      token = ((await login.json()) as { access_token: string }).access_token;
    }
    console.log(`password change on A refused on B after: p50 ${percentile(propagationMs, 50).toFixed(2)} ms, max ${Math.max(...propagationMs).toFixed(2)} ms`);
  });

  test("the instance that changes a password forgets the old version itself, before answering", async () => {
    const b = await instance();
    const { token } = await registerAndLogin(a.url, "local", "password-0");
    expect((await verify(a.url, token)).status).toBe(200);
    expect((await verify(b.url, token)).status).toBe(200);
    // With no notification at all (a password change also ends every session), only B's own
    // bookkeeping can make it refuse the old token.
    await a.db.sql`ALTER TABLE users DISABLE TRIGGER users_notify_changed`;
    await a.db.sql`ALTER TABLE sessions DISABLE TRIGGER sessions_notify_changed`;
    try {
      const changed = await fetch(`${b.url}/change-password`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ old_password: "password-0", new_password: "password-1" }),
      });
      expect(changed.status).toBe(200);
      expect((await verify(b.url, token)).status).toBe(401);
      // A heard nothing, so it still answers from memory: what the trigger is there to prevent.
      expect((await verify(a.url, token)).status).toBe(200);
    } finally {
      await a.db.sql`ALTER TABLE users ENABLE TRIGGER users_notify_changed`;
      await a.db.sql`ALTER TABLE sessions ENABLE TRIGGER sessions_notify_changed`;
    }
  });

  test("a revocation committed anywhere reaches instance B within milliseconds (200 rounds, p99 reported)", async () => {
    const b = await instance();
    const [user] = await users(1, "revoked");
    const propagationMs: number[] = [];
    for (let version = 0; version < 200; version++) {
      const token = await tokenFor(user!.id, version, user!.sid);
      expect((await verify(b.url, token)).status).toBe(200);
      await a.db.sql`UPDATE users SET token_version = token_version + 1 WHERE id = ${user!.id}`;
      const committedAt = performance.now();
      while ((await verify(b.url, token)).status !== 401) {
        if (performance.now() - committedAt > 2000) throw new Error("instance B still accepts a revoked token after 2 s");
      }
      propagationMs.push(performance.now() - committedAt);
    }
    const p99 = percentile(propagationMs, 99);
    console.log(`revocation propagation to another instance: p50 ${percentile(propagationMs, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
    expect(p99).toBeLessThan(250);
  });

  test("a logout on instance A is refused at once on A, and on instance B as soon as the notification lands", async () => {
    const b = await instance();
    const { token } = await registerAndLogin(a.url, "leaver");
    expect((await verify(b.url, token)).status).toBe(200);
    const out = await fetch(`${a.url}/logout`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    const answeredAt = performance.now();
    expect(out.status).toBe(204);
    expect((await verify(a.url, token)).status).toBe(401);
    expect(await until(async () => (await verify(b.url, token)).status === 401, 2000, 1)).toBe(true);
    console.log(`logout on A refused on B after ${(performance.now() - answeredAt).toFixed(2)} ms`);
  });

  test("the instance that ends a session forgets it itself, before answering", async () => {
    const b = await instance();
    const { token } = await registerAndLogin(a.url, "quietleaver");
    expect((await verify(a.url, token)).status).toBe(200);
    expect((await verify(b.url, token)).status).toBe(200);
    await a.db.sql`ALTER TABLE sessions DISABLE TRIGGER sessions_notify_changed`;
    try {
      const out = await fetch(`${b.url}/logout`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
      expect(out.status).toBe(204);
      expect((await verify(b.url, token)).status).toBe(401);
      // A heard nothing, so it still answers from memory: what the trigger is there to prevent.
      expect((await verify(a.url, token)).status).toBe(200);
    } finally {
      await a.db.sql`ALTER TABLE sessions ENABLE TRIGGER sessions_notify_changed`;
    }
  });

  test("a session ended by any writer is refused by every instance; one past its expiry needs no notification", async () => {
    const b = await instance();
    const [ended, expiring] = await users(2, "sessionend");
    for (const u of [ended!, expiring!]) expect((await verify(b.url, u.token)).status).toBe(200);
    await a.db.sql`UPDATE sessions SET ended_at = now(), end_reason = 'deleted' WHERE id = ${ended!.sid}`;
    expect(await until(async () => (await verify(b.url, ended!.token)).status === 401, 2000, 1)).toBe(true);
    // Moving the expiry is announced like an ending; letting it pass is not, and needs not be.
    await a.db.sql`UPDATE sessions SET expires_at = now() + interval '1 second' WHERE id = ${expiring!.sid}`;
    expect(await until(async () => (await verify(b.url, expiring!.token)).status === 200 && b.cache.sessions.size > 0, 2000, 1)).toBe(true);
    await a.db.sql`ALTER TABLE sessions DISABLE TRIGGER sessions_notify_changed`;
    try {
      await Bun.sleep(1100);
      expect((await verify(b.url, expiring!.token)).status).toBe(401);
    } finally {
      await a.db.sql`ALTER TABLE sessions ENABLE TRIGGER sessions_notify_changed`;
    }
  });

  test("a LISTEN connection killed with pg_terminate_backend never lets a revoked token through", async () => {
    const b = await instance();
    const [user] = await users(1, "killed");
    for (let version = 0; version < 10; version++) {
      const token = await tokenFor(user!.id, version, user!.sid);
      expect(await until(() => b.cache.users.isTrusted, 10_000, 10)).toBe(true);
      expect((await verify(b.url, token)).status).toBe(200);
      expect([b.cache.users.size, b.cache.sessions.size]).toEqual([1, 1]);
      // Kill every listener on this database (A's too), wait until they are gone, then revoke:
      // the revocation's notification has nobody to reach.
      const killed = await a.db.sql`
        SELECT pg_terminate_backend(pid, 5000) AS done FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'auth-trans-app listener'`;
      expect(killed.length).toBeGreaterThanOrEqual(2);
      await a.db.sql`UPDATE users SET token_version = token_version + 1 WHERE id = ${user!.id}`;
      expect((await verify(b.url, token)).status).toBe(401);
      expect((await verify(a.url, token)).status).toBe(401);
    }
    // After the reconnect the memory is trusted again, starting empty.
    expect(await until(() => b.cache.users.isTrusted, 10_000, 10)).toBe(true);
  });

  test("holds no more users than its bound, however many ask, and answers each one right", async () => {
    const b = await instance(50);
    const many = await users(600, "many");
    let largest = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < many.length; i += 60) {
        const answers = await Promise.all(many.slice(i, i + 60).map((u) => verify(b.url, u.token)));
        answers.forEach((answer, j) => expect(answer.body.id).toBe(Number(many[i + j]!.id)));
        largest = Math.max(largest, b.cache.users.size);
      }
    }
    expect(largest).toBe(50);
    expect(b.cache.sessions.size).toBeLessThanOrEqual(50);
  });
});
