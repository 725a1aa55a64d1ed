import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectValidationIssue } from "../common/testing";
import {
  account,
  balance,
  forgeToken,
  registerUsers,
  request,
  startServices,
  transfer,
  transferCount,
  type Answer,
  type Services,
  type User,
} from "./test-client";

/**
 * One row per outcome of POST /transfer in the contract's table, each a real HTTP request to a
 * transaction service that asks a real auth service. Every refusal is also checked to leave the
 * ledger as it was: no transfer row, and the sender's balance unchanged. The idempotency
 * outcomes are in idempotency.test.ts and 503 in auth-outage.test.ts.
 */
interface Context {
  alice: User;
  bob: User;
  /** Never receives anything, so his balance stays at the opening 1000.00. */
  dave: User;
  /** Changes her password. */
  carol: User;
  expired: string;
  wrongSecret: string;
  /** Validly signed, so only the auth service's /verify can refuse it. */
  unknownUser: string;
}
interface Row {
  name: string;
  /** The caller's token, or undefined for none. */
  token: (ctx: Context) => string | undefined;
  body: unknown;
  status: number;
  code?: string;
  check?: (answer: Answer, ctx: Context) => Promise<void> | void;
}

let services: Services;
let ctx: Context;

beforeAll(async () => {
  services = await startServices();
  const [alice, bob, dave, carol] = await registerUsers(services.auth.url, "alice", "Bob", "dave", "carol");
  const past = Math.floor(Date.now() / 1000) - 3600;
  ctx = {
    alice: alice!,
    bob: bob!,
    dave: dave!,
    carol: carol!,
    expired: await forgeToken(String(alice!.id), { iat: past, exp: past + 60 }),
    wrongSecret: await forgeToken(String(alice!.id), { secret: "another-secret-of-at-least-thirty-two-bytes" }),
    unknownUser: await forgeToken("999999"),
  };
}, 30_000);
afterAll(() => services.stop(), 30_000);

const url = () => services.trans.url;

async function expectTransferOut(answer: Answer, c: Context) {
  const body = answer.body;
  expect(Object.keys(body).sort()).toEqual(["amount", "id", "receiver_id", "receiver_username", "sender_id", "sender_username", "timestamp"]);
  expect(Number.isSafeInteger(body.id)).toBe(true);
  expect(body).toMatchObject({ amount: 19.99, sender_username: "alice", receiver_username: "Bob" });
  // The ids are this service's account ids, which GET /account also answers.
  expect(body.sender_id).toBe((await account(url(), c.alice)).body.id);
  expect(body.receiver_id).toBe((await account(url(), c.bob)).body.id);
  expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
  expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(60_000);
  expect(answer.headers.get("idempotent-replayed")).toBeNull();
}

const asAlice = (c: Context) => c.alice.token;
const asDave = (c: Context) => c.dave.token;
const toBob = (amount: unknown) => ({ receiver_username: "Bob", amount });

/** A 422 in FastAPI's shape whose issues name `field` of the body. */
const invalid = (name: string, body: unknown, field: string, type?: string): Row => ({
  name,
  token: asAlice,
  body,
  status: 422,
  code: "validation_error",
  check: ({ body }) => expectValidationIssue(body, field, type),
});

const rows: Row[] = [
  { name: "moves 19.99 and answers the transfer with account ids and usernames", token: asAlice, body: toBob(19.99), status: 200, check: expectTransferOut },
  { name: "refuses more than the balance", token: asDave, body: { receiver_username: "alice", amount: 1000.01 }, status: 400, code: "insufficient_funds" },
  {
    name: "refuses the largest amount when the balance is smaller",
    token: asDave,
    body: { receiver_username: "alice", amount: 1_000_000_000 },
    status: 400,
    code: "insufficient_funds",
  },
  { name: "refuses a transfer to oneself", token: asAlice, body: { receiver_username: "alice", amount: 1 }, status: 400, code: "self_transfer" },
  {
    name: "refuses a transfer to oneself named in another case",
    token: asAlice,
    body: { receiver_username: "ALICE", amount: 1 },
    status: 400,
    code: "self_transfer",
  },
  { name: "refuses a request without a token", token: () => undefined, body: toBob(1), status: 401, code: "not_authenticated" },
  { name: "refuses a garbage token", token: () => "garbage", body: toBob(1), status: 401, code: "invalid_token" },
  { name: "refuses an expired token", token: (c) => c.expired, body: toBob(1), status: 401, code: "invalid_token" },
  { name: "refuses a token signed with another secret", token: (c) => c.wrongSecret, body: toBob(1), status: 401, code: "invalid_token" },
  { name: "refuses a token for a user the auth service does not know", token: (c) => c.unknownUser, body: toBob(1), status: 401, code: "invalid_token" },
  {
    name: "answers receiver_not_found for a username nobody registered",
    token: asAlice,
    body: { receiver_username: "nobody", amount: 1 },
    status: 404,
    code: "receiver_not_found",
  },
  invalid("refuses an amount sent as a string", toBob("10"), "amount"),
  invalid("refuses an amount that is a boolean", toBob(true), "amount"),
  invalid("refuses an amount that is null", toBob(null), "amount"),
  invalid("refuses an amount of 0", toBob(0), "amount"),
  invalid("refuses a negative amount", toBob(-1), "amount"),
  invalid("refuses an amount with three decimals (1.005)", toBob(1.005), "amount"),
  invalid("refuses an amount below a cent (0.001)", toBob(0.001), "amount"),
  invalid("refuses an amount above 1,000,000,000.00", toBob(1_000_000_000.01), "amount"),
  invalid("refuses the float sum 0.1 + 0.2, which is not a two-decimal amount", toBob(0.1 + 0.2), "amount"),
  invalid("reports a missing amount as FastAPI's `missing`", { receiver_username: "Bob" }, "amount", "missing"),
  invalid("reports a missing receiver as FastAPI's `missing`", { amount: 1 }, "receiver_username", "missing"),
  invalid("refuses a receiver_username that is a number", { receiver_username: 42, amount: 1 }, "receiver_username"),
];

describe("POST /transfer", () => {
  for (const row of rows) {
    test(`${row.name} (${row.status}${row.code ? ` ${row.code}` : ""})`, async () => {
      const token = row.token(ctx);
      const sender = [ctx.alice, ctx.bob, ctx.dave].find((user) => user.token === token);
      const before = { transfers: await transferCount(services.trans), balance: sender && (await balance(url(), sender)) };

      const answer = await request(url(), "POST", "/transfer", { json: row.body, token });
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status: row.status });
      expect(answer.headers.get("content-type")).toContain("application/json");
      if (row.code) expect(answer.body.code).toBe(row.code);
      if (row.status === 401) expect(answer.headers.get("www-authenticate")).toBe("Bearer");
      if (row.status >= 400 && row.code !== "validation_error") expect(typeof answer.body.detail).toBe("string");
      await row.check?.(answer, ctx);

      if (row.status !== 200) {
        expect(await transferCount(services.trans)).toBe(before.transfers);
        if (sender) expect(await balance(url(), sender)).toBe(before.balance!);
      }
    });
  }
});

describe("a revoked token", () => {
  test("is refused by /transfer at once after the password change on the auth service", async () => {
    const { carol } = ctx;
    expect((await transfer(url(), carol, toBob(1))).status).toBe(200);
    const changed = await request(services.auth.url, "POST", "/change-password", {
      token: carol.token,
      json: { old_password: "password-123", new_password: "new-password-456" },
    });
    expect(changed.status).toBe(200);

    const before = await transferCount(services.trans);
    const answer = await transfer(url(), carol, toBob(1));
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe("invalid_token");
    expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    expect(await transferCount(services.trans)).toBe(before);
    expect((await account(url(), carol)).status).toBe(401);
  }, 30_000);
});
