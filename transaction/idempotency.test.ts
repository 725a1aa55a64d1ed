import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditLedger } from "./audit";
import { balance, registerUsers, startServices, transfer, transferCount, type Services, type User } from "./test-client";

/** Idempotency-Key over HTTP: a retried transfer is answered again and never moves money twice. */
let services: Services;
const url = () => services.trans.url;
const key = (value: string) => ({ "Idempotency-Key": value });

/** Each test has a sender and a receiver of its own, so that it reads balances nobody else moves. */
const NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken", "leo", "mia"] as const;
const users = {} as Record<(typeof NAMES)[number], User>;

beforeAll(async () => {
  services = await startServices();
  const registered = await registerUsers(services.auth.url, ...NAMES);
  NAMES.forEach((name, i) => (users[name] = registered[i]!));
}, 30_000);
afterAll(() => services.stop(), 30_000);

describe("Idempotency-Key", () => {
  test("the same key with the same body answers the first transfer again and moves the money once", async () => {
    const { alice, bob } = users;
    const first = await transfer(url(), alice, { receiver_username: "bob", amount: 25.5 }, key("order-1"));
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    // The receiver named in another case is the same request.
    for (const name of ["bob", "BOB"]) {
      const again = await transfer(url(), alice, { receiver_username: name, amount: 25.5 }, key("order-1"));
      expect(again.status).toBe(200);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.body).toEqual(first.body);
    }
    expect(await balance(url(), alice)).toBe(974.5);
    expect(await balance(url(), bob)).toBe(1025.5);
  });

  test("the same key with another body is refused with idempotency_key_reused and moves nothing", async () => {
    const { carol } = users;
    expect((await transfer(url(), carol, { receiver_username: "dave", amount: 10 }, key("k"))).status).toBe(200);
    const before = await transferCount(services.trans);
    for (const body of [
      { receiver_username: "dave", amount: 10.01 },
      { receiver_username: "erin", amount: 10 },
    ]) {
      const answer = await transfer(url(), carol, body, key("k"));
      expect(answer.status).toBe(422);
      expect(answer.body).toEqual({ detail: "This Idempotency-Key was used with another request body", code: "idempotency_key_reused" });
    }
    expect(await transferCount(services.trans)).toBe(before);
    expect(await balance(url(), carol)).toBe(990);
  });

  test("is scoped to the sender: another sender may use the same key", async () => {
    const { frank, grace } = users;
    const byFrank = await transfer(url(), frank, { receiver_username: "grace", amount: 1 }, key("shared-key"));
    const byGrace = await transfer(url(), grace, { receiver_username: "frank", amount: 2 }, key("shared-key"));
    expect([byFrank.status, byGrace.status]).toEqual([200, 200]);
    expect(byGrace.headers.get("idempotent-replayed")).toBeNull();
    expect(byGrace.body.id).not.toBe(byFrank.body.id);
    expect(await balance(url(), frank)).toBe(1001);
  });

  test("accepts a key of 255 characters and refuses one of 256 or an empty one (422)", async () => {
    const { heidi } = users;
    expect((await transfer(url(), heidi, { receiver_username: "ivan", amount: 1 }, key("k".repeat(255)))).status).toBe(200);
    const before = await transferCount(services.trans);
    for (const value of ["k".repeat(256), ""]) {
      const answer = await transfer(url(), heidi, { receiver_username: "ivan", amount: 1 }, key(value));
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe("validation_error");
      expect(answer.body.detail.map((issue: { loc: unknown[] }) => issue.loc)).toContainEqual(["header", "idempotency-key"]);
    }
    expect(await transferCount(services.trans)).toBe(before);
  });

  test("30 concurrent requests with the same key all answer the same transfer and move the money once", async () => {
    const { judy, ken } = users;
    const answers = await Promise.all(Array.from({ length: 30 }, () => transfer(url(), judy, { receiver_username: "ken", amount: 7.77 }, key("once"))));
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(200));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.headers.get("idempotent-replayed") === null)).toHaveLength(1);
    expect(answers.filter((answer) => answer.headers.get("idempotent-replayed") === "true")).toHaveLength(29);
    expect(await balance(url(), judy)).toBe(992.23);
    expect(await balance(url(), ken)).toBe(1007.77);
    const audit = await auditLedger(services.trans.db.sql);
    expect(audit.violations).toEqual([]);
    expect(audit.ok).toBe(true);
  }, 30_000);

  test("a retry after the retention (24 hours by default) is a new transfer", async () => {
    const { leo, mia } = users;
    const first = await transfer(url(), leo, { receiver_username: "mia", amount: 3 }, key("late"));
    await services.trans.db.sql`UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 second' WHERE key = 'late'`;
    const late = await transfer(url(), leo, { receiver_username: "mia", amount: 3 }, key("late"));
    expect(late.status).toBe(200);
    expect(late.headers.get("idempotent-replayed")).toBeNull();
    expect(late.body.id).not.toBe(first.body.id);
    expect(await balance(url(), mia)).toBe(1006);
  });
});
