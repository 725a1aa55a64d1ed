import { describe, expect, test } from "bun:test";
import { problemsOf } from "./fuzzing";
import { responseChecker } from "./openapi-check";

/** The property-based tests are only as good as their judges: each must see what it is there to see. */
const doc = {
  openapi: "3.1.0",
  paths: {
    "/thing": {
      post: {
        responses: {
          200: { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } },
          204: { description: "nothing" },
          400: { description: "no", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        },
      },
    },
  },
  components: {
    schemas: {
      Thing: { type: "object", required: ["id"], properties: { id: { type: "integer" } } },
      Error: { type: "object", required: ["detail", "code"], properties: { detail: { type: "string" }, code: { type: "string" } } },
    },
  },
};
const check = responseChecker(doc);
const reply = (status: number, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) => ({
  status,
  headers: new Headers(headers),
  text: body === undefined ? "" : JSON.stringify(body),
});

describe("the OpenAPI response check", () => {
  test("accepts documented answers", () => {
    expect(check("POST", "/thing", reply(200, { id: 1 }))).toBeUndefined();
    expect(check("POST", "/thing", reply(400, { detail: "no", code: "nope" }))).toBeUndefined();
    expect(check("POST", "/thing", reply(204, undefined, {}))).toBeUndefined();
  });

  const wrong: [string, string, ReturnType<typeof reply>, RegExp][] = [
    ["an undocumented status", "/thing", reply(409, { detail: "x", code: "y" }), /does not list/],
    ["a body that breaks the schema", "/thing", reply(200, { id: "1" }), /does not match its schema/],
    ["a missing required field", "/thing", reply(400, { detail: "no" }), /does not match its schema/],
    ["another content type", "/thing", reply(200, { id: 1 }, { "content-type": "text/html" }), /text\/html/],
    ["a body where none is documented", "/thing", reply(204, { id: 1 }), /does not describe/],
    ["an undocumented path", "/other", reply(200, { id: 1 }), /not in the document/],
  ];
  for (const [name, path, answer, message] of wrong) {
    test(`finds ${name}`, () => {
      expect(check("POST", path, answer)).toMatch(message);
    });
  }
});

describe("what no answer may be", () => {
  const bad: [string, ReturnType<typeof reply>, RegExp][] = [
    ["a 500", reply(500, { detail: "Internal server error", code: "internal_error" }), /answered 500/],
    ["a stack frame", reply(400, { detail: "at handler (/app/auth/login.ts:12:5)", code: "x" }), /discloses/],
    ["SQL", reply(400, { detail: "SELECT id FROM users failed", code: "x" }), /discloses "SELECT"/],
    ["a PostgreSQL message", reply(400, { detail: 'duplicate key value violates unique constraint "users_email_key"', code: "x" }), /discloses/],
    ["an error class name", reply(400, { detail: "TypeError: x is undefined", code: "x" }), /discloses "TypeError"/],
    ["an internal host", reply(400, { detail: "connect ECONNREFUSED auth_service:8000", code: "x" }), /discloses/],
    ["a Server header", reply(200, { id: 1 }, { "content-type": "application/json", server: "Bun" }), /header server/],
    ["an X-Powered-By header", reply(200, { id: 1 }, { "content-type": "application/json", "x-powered-by": "Hono" }), /header x-powered-by/],
  ];
  for (const [name, answer, message] of bad) {
    test(`finds ${name}`, () => {
      expect(problemsOf(answer, undefined).join("\n")).toMatch(message);
    });
  }

  test("finds nothing in a plain refusal", () => {
    expect(
      problemsOf(reply(422, { detail: [{ loc: ["body", "amount"], msg: "Field required", type: "missing" }], code: "validation_error" }), undefined),
    ).toEqual([]);
  });
});
