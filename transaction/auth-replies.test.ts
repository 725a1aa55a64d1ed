import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { forgeToken, logLines, request, transfer, transferCount } from "./test-client";
import { startTransactionService, type RunningTransaction } from "./test-server";

setDefaultTimeout(30_000);

/**
 * A fake auth service that answers whatever the current test sets: the transaction service must
 * parse its replies, and answer anything it cannot use with 503 auth_unavailable and a log line,
 * never a 500, and move no money.
 */
const ALICE = { id: 1, username: "alice", email: "alice@example.com", created_at: "2026-01-01T00:00:00.000Z" };
type Reply = () => Response;
let verifyReply: Reply = () => Response.json(ALICE);
let checkUserReply: Reply = () => Response.json({ id: 2, username: "bob" });

const fake = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: (req) => (new URL(req.url).pathname === "/verify" ? verifyReply() : checkUserReply()),
});

let trans: RunningTransaction;
let token: string;
beforeAll(async () => {
  trans = await startTransactionService(fake.url.origin);
  token = await forgeToken("1");
});
afterAll(async () => {
  await trans.stop();
  await fake.stop(true);
});

const json = (body: unknown) => () => Response.json(body);
const text =
  (body: string, type = "text/plain") =>
  () =>
    new Response(body, { headers: { "content-type": type } });

const malformed: [string, Reply][] = [
  ["an empty object", json({})],
  ["the id as a string", json({ ...ALICE, id: "1" })],
  ["a fractional id", json({ ...ALICE, id: 1.5 })],
  ["an id beyond 2^53", json({ ...ALICE, id: 1e30 })],
  ["a negative id", json({ ...ALICE, id: -1 })],
  ["no username", json({ id: 1 })],
  ["a username as a number", json({ ...ALICE, username: 42 })],
  ["a 500-character username", json({ ...ALICE, username: "a".repeat(500) })],
  ["a username with SQL in it", json({ ...ALICE, username: "alice'; DROP TABLE accounts; --" })],
  ["null", json(null)],
  ["an array", json([ALICE])],
  ["a string", json("alice")],
  ["text that is not JSON", text("all good")],
  ["HTML", text("<html><body>Gateway</body></html>", "text/html")],
  ["an empty body", text("")],
  ["truncated JSON", text('{"id": 1, "userna', "application/json")],
  ["a 403", () => Response.json(ALICE, { status: 403 })],
  ["a 204", () => new Response(null, { status: 204 })],
];

async function expectUnavailable(answer: { status: number; body: any }) {
  expect({ status: answer.status, body: answer.body }).toEqual({
    status: 503,
    body: { detail: "The auth service is unavailable; nothing was done, try again", code: "auth_unavailable" },
  });
}

describe("a /verify reply the service cannot use", () => {
  for (const [name, reply] of malformed) {
    test(`${name}: GET /account and POST /transfer answer 503 auth_unavailable and move nothing`, async () => {
      verifyReply = reply;
      try {
        await expectUnavailable(await request(trans.url, "GET", "/account", { token }));
        await expectUnavailable(await transfer(trans.url, token, { receiver_username: "bob", amount: 1 }));
        expect(await transferCount(trans)).toBe(0);
      } finally {
        verifyReply = json(ALICE);
      }
    });
  }
});

describe("a /check-user reply the service cannot use", () => {
  for (const [name, reply] of malformed) {
    test(`${name}: a transfer to a receiver the service has not seen answers 503 auth_unavailable`, async () => {
      checkUserReply = reply;
      try {
        await expectUnavailable(await transfer(trans.url, token, { receiver_username: "bob", amount: 1 }));
        expect(await transferCount(trans)).toBe(0);
      } finally {
        checkUserReply = json({ id: 2, username: "bob" });
      }
    });
  }
});

test("the replies above are logged as auth_unavailable with the path, no 500 was answered, and the good replies work", async () => {
  expect((await request(trans.url, "GET", "/account", { token })).status).toBe(200);
  const lines = await logLines(trans.logFile);
  const unavailable = lines.filter((line) => line.event === "auth_unavailable");
  expect(unavailable.filter((line) => line.path === "/verify").length).toBeGreaterThanOrEqual(malformed.length);
  expect(unavailable.filter((line) => line.path === "/check-user").length).toBe(malformed.length);
  expect(JSON.stringify(unavailable)).not.toContain("DROP TABLE");
  expect(lines.filter((line) => line.level === "error" || (line.event === "request" && line.status >= 500 && line.status !== 503))).toEqual([]);
});
