import { describe, expect, test } from "bun:test";
import { problemsOf } from "./fuzzing";

/**
 * The property-based tests are only as good as their judge: it must see each thing it is there
 * to see. (Whether an answer is documented is common/openapi-conformance.ts's job, tested there.)
 */
const reply = (status: number, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) => ({
  status,
  headers: new Headers(headers),
  text: JSON.stringify(body),
  body,
});

describe("what no answer may be", () => {
  const bad: [string, ReturnType<typeof reply>, RegExp][] = [
    ["a 500", reply(500, { detail: "Internal server error", code: "internal_error" }), /answered 500/],
    ["a 502", reply(502, { detail: "Bad gateway", code: "x" }), /answered 502/],
    ["a stack frame", reply(400, { detail: "at handler (/app/auth/login.ts:12:5)", code: "x" }), /discloses/],
    ["a source path", reply(400, { detail: "in node_modules/hono/dist/hono.js", code: "x" }), /discloses/],
    ["SQL", reply(400, { detail: "SELECT id FROM users failed", code: "x" }), /discloses "SELECT"/],
    ["a PostgreSQL message", reply(400, { detail: 'duplicate key value violates unique constraint "users_email_key"', code: "x" }), /discloses/],
    ["an error class name", reply(400, { detail: "TypeError: x is undefined", code: "x" }), /discloses "TypeError"/],
    ["the framework's name", reply(404, { detail: "Hono: no route", code: "x" }), /discloses "Hono"/],
    ["an internal host", reply(503, { detail: "connect ECONNREFUSED auth_service:8000", code: "x" }), /discloses/],
    ["a loopback address", reply(503, { detail: "cannot reach 127.0.0.1:5432", code: "x" }), /discloses/],
    ["a Server header", reply(200, { id: 1 }, { "content-type": "application/json", server: "Bun" }), /header server/],
    ["an X-Powered-By header", reply(200, { id: 1 }, { "content-type": "application/json", "x-powered-by": "Hono" }), /header x-powered-by/],
  ];
  for (const [name, answer, message] of bad) {
    test(`finds ${name}`, () => {
      expect(problemsOf(answer, []).join("\n")).toMatch(message);
    });
  }

  test("passes on what the document check found", () => {
    expect(problemsOf(reply(200, { id: 1 }), ["status 299 is not documented"])).toEqual(["status 299 is not documented"]);
  });

  test("finds nothing in plain refusals (every service is up during the fuzz, so even a 503 counts)", () => {
    const refusals = [
      reply(422, { detail: [{ loc: ["body", "amount"], msg: "Field required", type: "missing" }], code: "validation_error" }),
      reply(401, { detail: "Could not validate credentials", code: "invalid_token" }),
      reply(404, { detail: "Receiver not found", code: "receiver_not_found" }),
    ];
    for (const answer of refusals) expect(problemsOf(answer, [])).toEqual([]);
  });
});
