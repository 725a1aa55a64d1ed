import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { until } from "../scripts/processes";
import { registerAndLogin, type RunningAuth } from "./test-server";
import { percentile, verify, verifyTestbed } from "./test-verify-cache";

// Two instances, hundreds of users and killed connections take seconds on a small, busy machine.
setDefaultTimeout(60_000);

let bed: Awaited<ReturnType<typeof verifyTestbed>>;
let a: RunningAuth;
const instance = (maxEntries?: number) => bed.instance(maxEntries);
const users = (count: number, prefix: string) => bed.users(count, prefix);
const tokenFor = (id: bigint, version: number, sid: string) => bed.tokenFor(id, version, sid);

beforeAll(async () => {
  bed = await verifyTestbed();
  a = bed.a;
});
afterAll(() => bed.stop());

/** /verify from memory, still exact: users and their token versions, across instances. */
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
