import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { until } from "../scripts/processes";
import { registerAndLogin, type RunningAuth } from "./test-server";
import { verify, verifyTestbed } from "./test-verify-cache";

// Two instances, hundreds of users and killed connections take seconds on a small, busy machine.
setDefaultTimeout(60_000);

let bed: Awaited<ReturnType<typeof verifyTestbed>>;
let a: RunningAuth;
const instance = (maxEntries?: number) => bed.instance(maxEntries);
const users = (count: number, prefix: string) => bed.users(count, prefix);

beforeAll(async () => {
  bed = await verifyTestbed();
  a = bed.a;
});
afterAll(() => bed.stop());

/** /verify from memory, still exact: sessions, across instances. */
describe("/verify from memory, sessions", () => {
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
});
