import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { logsWritten } from "../common/testing";
import { logLines, registerUsers, startServices, transfer, type Services, type User } from "./test-client";

/** Request ids across both services, and what the transaction service's log says (and never says). */
let services: Services;
let alice: User, bob: User, poor: User;
const url = () => services.trans.url;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  services = await startServices();
  [alice, bob, poor] = (await registerUsers(services.auth.url, "alice", "bob", "poor")) as [User, User, User];
}, 30_000);
afterAll(() => services.stop(), 30_000);

const authCalls = async (requestId: string) =>
  (await logLines(services.auth.logFile)).filter((line) => line.event === "request" && line.request_id === requestId).map((line) => line.path);

describe("X-Request-Id", () => {
  test("a given id is echoed and forwarded to the auth service, which logs it for /verify and /check-user", async () => {
    const answer = await transfer(url(), alice, { receiver_username: "bob", amount: 1 }, { "X-Request-Id": "trace-42.a:b_c" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-request-id")).toBe("trace-42.a:b_c");
    expect(await authCalls("trace-42.a:b_c")).toEqual(["/verify", "/check-user"]);
    const own = (await logLines(services.trans.logFile)).filter((line) => line.request_id === "trace-42.a:b_c");
    expect(own.filter((line) => line.level !== "debug").map((line) => line.event)).toEqual(["transfer_done", "request"]);
    // With IS_DEBUG (as the tests run), each call to the auth service gets a debug line too.
    expect(own.filter((line) => line.event === "auth_call").map((line) => line.path)).toEqual(["/verify", "/check-user"]);
  });

  test("without one, a new id is made, answered, and forwarded all the same", async () => {
    const answer = await transfer(url(), alice, { receiver_username: "bob", amount: 1 });
    const requestId = answer.headers.get("x-request-id")!;
    expect(requestId).toMatch(UUID);
    // bob has an account by now, so the auth service is asked only to verify the token.
    expect(await authCalls(requestId)).toEqual(["/verify"]);
  });

  test("an id that is too long or has odd characters is replaced by a new one", async () => {
    for (const given of ["x".repeat(300), "has spaces in it", "semi;colon"]) {
      const answer = await transfer(url(), alice, { receiver_username: "bob", amount: 1 }, { "X-Request-Id": given });
      expect(answer.headers.get("x-request-id")).toMatch(UUID);
    }
  });

  test("every answer carries one, refusals included", async () => {
    const answers = [
      await transfer(url(), "garbage", { receiver_username: "bob", amount: 1 }, { "X-Request-Id": "refused-401" }),
      await transfer(url(), alice, { receiver_username: "bob", amount: "1" }, { "X-Request-Id": "refused-422" }),
      await transfer(url(), alice, { receiver_username: "nobody", amount: 1 }, { "X-Request-Id": "refused-404" }),
    ];
    expect(answers.map((answer) => [answer.status, answer.headers.get("x-request-id")])).toEqual([
      [401, "refused-401"],
      [422, "refused-422"],
      [404, "refused-404"],
    ]);
  });
});

describe("the transaction service's log", () => {
  test("records transfer_done and transfer_refused with the reason, and never a token", async () => {
    const done = await transfer(url(), poor, { receiver_username: "bob", amount: 12.34 }, { "X-Request-Id": "log-done" });
    expect(done.status).toBe(200);
    const refusals = {
      "log-funds": { receiver_username: "bob", amount: 999 },
      "log-self": { receiver_username: "POOR", amount: 1 },
      "log-nobody": { receiver_username: "nobody", amount: 1 },
    };
    for (const [requestId, body] of Object.entries(refusals)) await transfer(url(), poor, body, { "X-Request-Id": requestId });

    const lines = await logLines(services.trans.logFile);
    const event = (requestId: string, name: string) => lines.find((line) => line.request_id === requestId && line.event === name);
    expect(event("log-done", "transfer_done")).toMatchObject({
      level: "info",
      user_id: String(poor.id),
      transfer_id: String(done.body.id),
      amount_minor: "1234",
      receiver_id: String(done.body.receiver_id),
    });
    expect(event("log-funds", "transfer_refused")).toMatchObject({ user_id: String(poor.id), reason: "insufficient_funds" });
    expect(event("log-self", "transfer_refused")).toMatchObject({ user_id: String(poor.id), reason: "self_transfer" });
    expect(event("log-nobody", "transfer_refused")).toMatchObject({ user_id: String(poor.id), reason: "receiver_not_found" });
    expect(event("log-funds", "request")).toMatchObject({ method: "POST", path: "/transfer", status: 400, user_id: String(poor.id) });
    expect(typeof event("log-funds", "request")!.duration_ms).toBe("number");

    await logsWritten();
    const text = await Bun.file(services.trans.logFile).text();
    for (const user of [alice, bob, poor]) {
      expect(text).not.toContain(user.token);
      expect(text).not.toContain(user.token.split(".")[2]!);
    }
    expect(text.toLowerCase()).not.toContain("bearer");
    expect(text).not.toContain("password-123");
  });
});
