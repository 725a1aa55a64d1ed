import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { registerAndLogin, startAuthService, type RunningAuth } from "../auth/test-server";
import { startTransactionService, type RunningTransaction } from "../transaction/test-server";
import { undocumentedParts } from "./openapi-conformance";
import { MAX_BODY_BYTES } from "./refusals";
import { request, type Call } from "./testing";

// Real databases and servers take seconds on a small, busy machine.
setDefaultTimeout(60_000);

/**
 * Every answer `request` gets from a service is checked against that service's own
 * /openapi.json (common/testing.ts), so every test of the suite, each outcome of the contract
 * and each malformed request, also checks that the document tells the truth. This file proves
 * that the check can fail, and sends what no other test sends: every method to every path, and
 * the bodies the shared plumbing refuses, to every route.
 */

type Json = Record<string, any>;
let auth: RunningAuth;
let transaction: RunningTransaction;
let authDoc: Json;

beforeAll(async () => {
  auth = await startAuthService();
  transaction = await startTransactionService(auth.url);
  await registerAndLogin(auth.url, "conformer");
  authDoc = (await (await fetch(`${auth.url}/openapi.json`)).json()) as Json;
});
afterAll(async () => {
  await transaction?.stop();
  await auth?.stop();
});

const headers = (entries: Record<string, string>) => new Headers({ "x-request-id": "r1", "content-type": "application/json", ...entries });
const invalidToken = { detail: "Could not validate credentials", code: "invalid_token" };

describe("the conformance check", () => {
  test("accepts a response the document describes", () => {
    const response = { status: 401, headers: headers({ "www-authenticate": "Bearer" }), body: invalidToken };
    expect(undocumentedParts(authDoc, "POST", "/verify", response)).toEqual([]);
  });

  test("refuses a status the route does not document", () => {
    const response = { status: 409, headers: headers({}), body: { detail: "x", code: "conflict" } };
    expect(undocumentedParts(authDoc, "POST", "/verify", response)).toEqual(["status 409 is not documented"]);
  });

  test("refuses a code the status does not list", () => {
    const response = { status: 401, headers: headers({ "www-authenticate": "Bearer" }), body: { detail: "x", code: "user_not_found" } };
    expect(undocumentedParts(authDoc, "POST", "/verify", response).join()).toContain("must be equal to one of the allowed values");
  });

  test("refuses a missing or wrong header", () => {
    const missing = { status: 401, headers: headers({}), body: invalidToken };
    expect(undocumentedParts(authDoc, "POST", "/verify", missing)).toEqual(["header WWW-Authenticate is missing"]);
    const wrong = { status: 401, headers: headers({ "www-authenticate": "Basic" }), body: invalidToken };
    expect(undocumentedParts(authDoc, "POST", "/verify", wrong).join()).toContain("header WWW-Authenticate: Basic");
    const retryAfter = { status: 429, headers: headers({ "retry-after": "soon" }), body: { detail: "x", code: "too_many_attempts" } };
    expect(undocumentedParts(authDoc, "POST", "/token", retryAfter).join()).toContain("header Retry-After: soon");
  });

  test("refuses a body of another shape or media type", () => {
    const noCode = { status: 200, headers: headers({}), body: { id: "1", username: "a" } };
    expect(undocumentedParts(authDoc, "POST", "/verify", noCode).join()).toContain("must have required property");
    const text = { status: 200, headers: headers({ "content-type": "text/plain" }), body: "ok" };
    expect(undocumentedParts(authDoc, "POST", "/verify", text)).toEqual(["media type text/plain is not documented (application/json)"]);
  });

  test("holds an unknown path to the 404 and an unserved method to the 405 with Allow", () => {
    const notFound = { status: 404, headers: headers({}), body: { detail: "Not Found", code: "not_found" } };
    expect(undocumentedParts(authDoc, "GET", "/nowhere", notFound)).toEqual([]);
    expect(undocumentedParts(authDoc, "GET", "/nowhere", { ...notFound, status: 200 })).toEqual(["no such path"]);
    const noAllow = { status: 405, headers: headers({}), body: { detail: "Method Not Allowed", code: "method_not_allowed" } };
    expect(undocumentedParts(authDoc, "PUT", "/verify", noAllow)).toEqual(["header Allow is missing"]);
  });
});

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const big = JSON.stringify({ username: "x".repeat(MAX_BODY_BYTES) });

/** What the shared plumbing answers whatever the route: no body, a body too large, one of no known type, no token. */
const CALLS: [string, Call][] = [
  ["nothing", {}],
  ["a token", { token: "" }],
  ["a body too large", { raw: big, contentType: "application/json", token: "" }],
  [
    "a body too large, streamed",
    {
      get raw() {
        return new Blob([big]).stream();
      },
      contentType: "application/json",
      token: "",
    },
  ],
  ["a body of no known type", { raw: "<a/>", contentType: "application/xml", token: "" }],
  ["a body with no type", { raw: new TextEncoder().encode('{"username": "x"}'), token: "" }],
  ["a broken multipart body", { raw: "--x\r\nbroken", contentType: "multipart/form-data; boundary=x", token: "" }],
  ["a garbage token", { json: {}, token: "garbage" }],
];

for (const side of ["auth", "transaction"] as const) {
  test(`${side}: every method on every path, and every body the plumbing refuses, gets a documented answer`, async () => {
    const url = side === "auth" ? auth.url : transaction.url;
    // A session of its own for each side: the auth side's barrage logs its session out (POST /logout).
    const login = await request(auth.url, "POST", "/token", { form: { username: "conformer", password: "password-123" } });
    const token = login.body.access_token as string;
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as Json;
    const paths = [...Object.keys(doc.paths), "/nowhere", "/docs", "/openapi.json"];
    const statuses = new Set<number>();
    for (const path of paths) {
      for (const method of METHODS) {
        for (const [, call] of CALLS) {
          // A GET or HEAD cannot carry a body; fetch refuses to send one.
          if ((method === "GET" || method === "HEAD") && (call.raw !== undefined || call.json !== undefined)) continue;
          const answer = await request(url, method, path, call.token === "" ? { ...call, token } : call);
          statuses.add(answer.status);
          expect(answer.status).toBeLessThan(500);
        }
      }
    }
    // What the barrage must have reached, so that a plumbing answer cannot go unchecked.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 401, 404, 405, 413, 415, 422]));
  });
}
