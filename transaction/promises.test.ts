import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTransactionService, type RunningTransaction } from "./test-server";
import { account, history, logLines, registerUsers, request, startServices, transfer, type Services, type User } from "./test-client";

/** What the README promises of the transaction service that no other test holds it to. */
let services: Services;
let alice: User;
let bob: User;
const url = () => services.trans.url;

// A non-default opening balance and page size, to prove the settings are read, not assumed.
beforeAll(async () => {
  services = await startServices({ DEFAULT_BALANCE: "12.34", TRANSACTIONS_DEFAULT_LIMIT: "3" });
  [alice, bob] = (await registerUsers(services.auth.url, "alice", "bob")) as [User, User];
}, 30_000);
afterAll(() => services.stop(), 30_000);

describe("configuration", () => {
  test("DEFAULT_BALANCE=12.34 opens accounts with 12.34, and 12.35 is more than alice has", async () => {
    expect((await account(url(), alice)).body.balance).toBe(12.34);
    expect((await transfer(url(), alice, { receiver_username: "bob", amount: 12.35 })).body.code).toBe("insufficient_funds");
    expect((await transfer(url(), alice, { receiver_username: "bob", amount: 12.34 })).status).toBe(200);
    expect((await account(url(), bob)).body.balance).toBe(24.68);
  });

  test("TRANSACTIONS_DEFAULT_LIMIT=3 is the page size when none is asked for; a limit asks for more", async () => {
    for (let i = 0; i < 4; i++) expect((await transfer(url(), bob, { receiver_username: "alice", amount: 1 })).status).toBe(200);
    expect((await history(url(), bob)).body).toHaveLength(3);
    expect((await history(url(), bob, "?limit=10")).body).toHaveLength(5);
  });
});

describe("the shared answers", () => {
  test("a known path with another method is 405 method_not_allowed naming the allowed one", async () => {
    for (const [method, path, allow] of [
      ["GET", "/transfer", "POST"],
      ["POST", "/transactions", "GET"],
      ["POST", "/account", "GET"],
    ] as const) {
      const answer = await request(url(), method, path, { token: alice.token });
      expect({ path, status: answer.status, code: answer.body.code, allow: answer.headers.get("allow") }).toEqual({
        path,
        status: 405,
        code: "method_not_allowed",
        allow,
      });
    }
  });

  test("a body that is not JSON is 415 unsupported_media_type", async () => {
    const answer = await request(url(), "POST", "/transfer", {
      raw: "receiver_username=bob&amount=1",
      contentType: "application/x-www-form-urlencoded",
      token: alice.token,
    });
    expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 415, code: "unsupported_media_type" });
  });
});

describe("the log", () => {
  let unreachable: RunningTransaction;
  afterAll(() => unreachable?.stop());

  test("auth_unavailable, with the request id and the auth route, when the auth service cannot be reached", async () => {
    unreachable = await startTransactionService("http://127.0.0.1:1", { AUTH_TIMEOUT_MS: "500" });
    const answer = await request(unreachable.url, "GET", "/account", { token: alice.token, headers: { "x-request-id": "no-auth" } });
    expect(answer.body.code).toBe("auth_unavailable");
    const line = (await logLines(unreachable.logFile)).find((l) => l.event === "auth_unavailable");
    expect(line).toMatchObject({ level: "warn", request_id: "no-auth", path: "/verify" });
  });
});
