import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { history, inParallel, registerUsers, request, startServices, transfer, type Services, type User } from "./test-client";

/** GET /transactions over HTTP: order, paging, the default limit and validation. */
let services: Services;
let alice: User, bob: User, carol: User, nobody: User;
const url = () => services.trans.url;

type Item = { id: number; sender_username: string; receiver_username: string; amount: number; timestamp: string };
const newestFirst = (a: Item, b: Item) => Date.parse(b.timestamp) - Date.parse(a.timestamp) || b.id - a.id;

beforeAll(async () => {
  services = await startServices();
  [alice, bob, carol, nobody] = (await registerUsers(services.auth.url, "alice", "bob", "carol", "nobody")) as [User, User, User, User];
  // Twelve transfers: alice sends three and receives six; three are between bob and carol only.
  const moves: [User, string][] = [
    [alice, "bob"],
    [bob, "alice"],
    [carol, "alice"],
    [bob, "carol"],
  ];
  for (let i = 0; i < 12; i++) {
    const [from, to] = moves[i % moves.length]!;
    const answer = await transfer(url(), from, { receiver_username: to, amount: i + 1 });
    if (answer.status !== 200) throw new Error(`seeding transfer ${i}: ${answer.status}`);
  }
}, 30_000);
afterAll(() => services.stop(), 30_000);

describe("GET /transactions", () => {
  test("lists the transfers the user sent and received, and no others, newest first", async () => {
    const answer = await history(url(), alice);
    expect(answer.status).toBe(200);
    const items = answer.body as Item[];
    expect(items).toHaveLength(9);
    for (const item of items) expect([item.sender_username, item.receiver_username]).toContain("alice");
    expect(items.filter((item) => item.sender_username === "alice")).toHaveLength(3);
    expect(items.filter((item) => item.receiver_username === "alice")).toHaveLength(6);
    expect(items).toEqual([...items].sort(newestFirst));
    expect(items[0]).toMatchObject({ sender_username: "carol", receiver_username: "alice", amount: 11 });
    expect(Object.keys(items[0]!).sort()).toEqual(["amount", "id", "receiver_id", "receiver_username", "sender_id", "sender_username", "timestamp"]);
  });

  test("orders transfers made at the same instant by id, newest first", async () => {
    const ids = ((await history(url(), alice)).body as Item[]).map((item) => item.id);
    // Transfers committed in the same microsecond are rare over HTTP, so some are made so.
    await services.trans.db.sql`UPDATE transfers SET created_at = '2030-01-01T00:00:00Z' WHERE id IN ${services.trans.db.sql(ids.slice(-4))}`;
    const items = (await history(url(), alice)).body as Item[];
    expect(items.slice(0, 4).map((item) => item.id)).toEqual([...ids.slice(-4)].sort((a, b) => b - a));
    expect(items.slice(0, 4).every((item) => item.timestamp === "2030-01-01T00:00:00.000Z")).toBe(true);
    expect(items).toEqual([...items].sort(newestFirst));
  });

  test("pages with skip and limit through exactly the whole list", async () => {
    const all = (await history(url(), alice, "?limit=1000")).body as Item[];
    const pages = [];
    for (let skip = 0; skip < all.length + 4; skip += 4) {
      const answer = await history(url(), alice, `?skip=${skip}&limit=4`);
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBeLessThanOrEqual(4);
      pages.push(...answer.body);
    }
    expect(pages).toEqual(all);
    expect((await history(url(), alice, "?skip=2&limit=3")).body).toEqual(all.slice(2, 5));
    expect((await history(url(), alice, "?skip=100")).body).toEqual([]);
  });

  test("pages with before_id through exactly the whole list, and skip applies after the cursor", async () => {
    const all = (await history(url(), alice, "?limit=1000")).body as Item[];
    const pages: Item[] = [];
    for (let page = (await history(url(), alice, "?limit=4")).body as Item[]; page.length > 0; ) {
      pages.push(...page);
      const next = await history(url(), alice, `?limit=4&before_id=${page.at(-1)!.id}`);
      expect(next.status).toBe(200);
      page = next.body;
    }
    expect(pages).toEqual(all);
    expect((await history(url(), alice, `?before_id=${all[1]!.id}&skip=2&limit=3`)).body).toEqual(all.slice(4, 7));
    expect((await history(url(), alice, `?before_id=${all.at(-1)!.id}`)).body).toEqual([]);
  });

  test("refuses a before_id that is not one of the user's transfers (422 on before_id)", async () => {
    const bobs = (await history(url(), bob)).body as Item[];
    const notAlices = bobs.find((item) => item.sender_username !== "alice" && item.receiver_username !== "alice")!;
    for (const id of [notAlices.id, 999_999_999]) {
      const answer = await history(url(), alice, `?before_id=${id}`);
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe("validation_error");
      expect(answer.body.detail).toEqual([{ loc: ["query", "before_id"], msg: "is not one of your transfers", type: "unknown_cursor" }]);
    }
  });

  test("answers [] to a user who never had an account, and opens none", async () => {
    const answer = await history(url(), nobody);
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: [] });
    const [row] = await services.trans.db.sql`SELECT count(*)::int AS n FROM accounts WHERE uid = ${nobody.id}`;
    expect(row!.n).toBe(0);
  });

  test("answers 1000 transfers by default, as the original did", async () => {
    const [sender] = await registerUsers(services.auth.url, "dora", "erik");
    const answers = await inParallel(1001, 50, () => transfer(url(), sender!, { receiver_username: "erik", amount: 0.01 }));
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(((await history(url(), sender!)).body as Item[]).length).toBe(1000);
    expect(((await history(url(), sender!, "?skip=1000")).body as Item[]).length).toBe(1);
  }, 30_000);

  for (const [name, query, field] of [
    ["a negative skip", "?skip=-1", "skip"],
    ["a limit of 0", "?limit=0", "limit"],
    ["a limit of 1001", "?limit=1001", "limit"],
    ["a limit that is not a number", "?limit=abc", "limit"],
    ["a skip that is not a number", "?skip=abc", "skip"],
    ["a fractional limit", "?limit=1.5", "limit"],
    ["a before_id of 0", "?before_id=0", "before_id"],
    ["a negative before_id", "?before_id=-5", "before_id"],
    ["a fractional before_id", "?before_id=1.5", "before_id"],
    ["a before_id that is not a number", "?before_id=abc", "before_id"],
    ["a before_id beyond bigint", "?before_id=9223372036854775808", "before_id"],
  ] as const) {
    test(`refuses ${name} (422 validation_error)`, async () => {
      const answer = await history(url(), alice, query);
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe("validation_error");
      expect(answer.body.detail.map((issue: { loc: unknown[] }) => issue.loc)).toContainEqual(["query", field]);
    });
  }

  test("refuses a request without a token or with a bad one (401 with WWW-Authenticate: Bearer)", async () => {
    for (const token of [undefined, "garbage"]) {
      const answer = await request(url(), "GET", "/transactions", { token });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe(token ? "invalid_token" : "not_authenticated");
      expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    }
  });
});
