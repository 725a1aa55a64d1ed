import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditLedger } from "./audit";
import { account, balance, registerUsers, request, startServices, transfer, type Services, type User } from "./test-client";

/**
 * What the balances read through GET /account say after transfers made through POST /transfer.
 * Each test has users of its own, so that it reads balances nobody else moves.
 */
const NAMES = ["Erin", "frank", "grace", "heidi", "ivan", "judy", "ken", "mallory", "NiAj", "olivia", "peggy"] as const;
const users = {} as Record<Lowercase<(typeof NAMES)[number]>, User>;
let services: Services;
const url = () => services.trans.url;

beforeAll(async () => {
  services = await startServices();
  const registered = await registerUsers(services.auth.url, ...NAMES);
  NAMES.forEach((name, i) => (users[name.toLowerCase() as keyof typeof users] = registered[i]!));
}, 30_000);
afterAll(() => services.stop(), 30_000);

describe("GET /account", () => {
  test("opens the account on first use with DEFAULT_BALANCE and answers id, uid, username, balance, created_at", async () => {
    const { erin } = users;
    const answer = await account(url(), erin);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(["balance", "created_at", "id", "uid", "username"]);
    expect(answer.body).toMatchObject({ uid: erin.id, username: "Erin", balance: 1000 });
    expect(Number.isSafeInteger(answer.body.id)).toBe(true);
    expect(new Date(answer.body.created_at).toISOString()).toBe(answer.body.created_at);
    expect(Math.abs(Date.parse(answer.body.created_at) - Date.now())).toBeLessThan(60_000);
    // A second call finds the same account rather than opening another.
    expect((await account(url(), erin)).body).toEqual(answer.body);
  });

  test("refuses a request without a token or with a bad one (401 with WWW-Authenticate: Bearer)", async () => {
    for (const token of [undefined, "garbage"]) {
      const answer = await request(url(), "GET", "/account", { token });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe(token ? "invalid_token" : "not_authenticated");
      expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    }
  });
});

describe("exact decimal arithmetic", () => {
  test("ten transfers of 0.10 take exactly 1.00", async () => {
    const { frank, grace } = users;
    for (let i = 0; i < 10; i++) {
      const answer = await transfer(url(), frank, { receiver_username: "grace", amount: 0.1 });
      expect({ status: answer.status, amount: answer.body.amount }).toEqual({ status: 200, amount: 0.1 });
    }
    expect(await balance(url(), frank)).toBe(999);
    expect(await balance(url(), grace)).toBe(1001);
  });

  test("a transfer of 19.99 leaves exactly 980.01", async () => {
    const { heidi } = users;
    expect((await transfer(url(), heidi, { receiver_username: "ivan", amount: 19.99 })).status).toBe(200);
    expect(await balance(url(), heidi)).toBe(980.01);
  });

  test("the smallest and the largest amounts move exactly one cent and the whole balance", async () => {
    const { judy, ken } = users;
    expect((await transfer(url(), judy, { receiver_username: "ken", amount: 0.01 })).status).toBe(200);
    expect((await transfer(url(), judy, { receiver_username: "ken", amount: 999.99 })).status).toBe(200);
    expect(await balance(url(), judy)).toBe(0);
    expect(await balance(url(), ken)).toBe(2000);
    const audit = await auditLedger(services.trans.db.sql);
    expect(audit.violations).toEqual([]);
  });
});

describe("the receiver", () => {
  test("is found without regard to case and reported with the case it registered", async () => {
    const { mallory, niaj } = users;
    // The first transfer finds NiAj through the auth service, the second in this service's accounts.
    for (const name of ["niaj", "NIAJ"]) {
      const answer = await transfer(url(), mallory, { receiver_username: name, amount: 5 });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ sender_username: "mallory", receiver_username: "NiAj" });
    }
    expect(await balance(url(), niaj)).toBe(1010);
  });

  test("who never used the service gets an account opened with DEFAULT_BALANCE plus the amount", async () => {
    const { olivia, peggy } = users;
    const [row] = await services.trans.db.sql`SELECT count(*)::int AS n FROM accounts WHERE uid = ${peggy.id}`;
    expect(row!.n).toBe(0);
    const answer = await transfer(url(), olivia, { receiver_username: "peggy", amount: 12.34 });
    expect(answer.status).toBe(200);
    const opened = await account(url(), peggy);
    expect(opened.body).toMatchObject({ id: answer.body.receiver_id, uid: peggy.id, username: "peggy", balance: 1012.34 });
  });
});
