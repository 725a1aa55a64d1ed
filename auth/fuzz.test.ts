import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { problemsOf, requests, routesOf, send, type Route } from "../common/fuzzing";
import { undocumentedParts } from "../common/openapi-conformance";
import { post } from "./test-client";
import { registerAndLogin, startAuthService } from "./test-server";

/**
 * Property-based: random bodies, headers, query strings and tokens against every route of the
 * auth service's own OpenAPI document. No answer may be a 5xx, disclose the implementation, or
 * fall outside the document; a refused request may not change a user.
 */
const PASSWORD = "password-123";
// The routes come from the served document, so the service starts while the file loads: a
// route added later is fuzzed without a change here.
// Throttling has tests of its own; here it would only lock the fuzzer out of the routes behind a login.
const auth = await startAuthService({
  LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000000",
  LOGIN_MAX_FAILURES_PER_ADDRESS: "1000000",
  REGISTRATION_MAX_PER_ADDRESS: "1000000",
});
afterAll(() => auth.stop());
const doc = (await (await fetch(`${auth.url}/openapi.json`)).json()) as Record<string, any>;
const tokens: string[] = [(await registerAndLogin(auth.url, "fuzzer", PASSWORD)).token];
const revoked = await registerAndLogin(auth.url, "fuzz_revoked", PASSWORD);
await post(auth.url, "/change-password", { json: { old_password: PASSWORD, new_password: "other-password-1" }, token: revoked.token });
tokens.push(revoked.token, `${tokens[0]!.slice(0, -2)}xx`);

const users = async () =>
  (
    await auth.db.sql<{ s: string }[]>`
    SELECT coalesce(string_agg(id || ':' || username || ':' || email || ':' || password_hash || ':' || token_version, ',' ORDER BY id), '') AS s FROM users`
  )[0]!.s;

/** Values that pass validation, so that random requests also reach the routes' logic. */
const plausible: Record<string, unknown[]> = {
  username: ["fuzzer", "FUZZER", "fuzzer@example.com", "fresh_user", "nobody"],
  email: ["fresh@example.com", "fuzzer@example.com", "Upper@Example.com"],
  password: [PASSWORD, "wrong-password-1", "short"],
  old_password: ["wrong-password-1"],
  new_password: ["new-password-456", "short"],
  grant_type: ["password", "refresh_token", "client_credentials"],
  refresh_token: ["not-a-refresh-token"],
  scope: ["", "local", "global", "others"],
  query: ["local", "global", "others", "0", "1"],
};

// Password hashing (argon2id) makes the routes that check or set a password slower per request.
// So does a logout that succeeds: the fuzzer logs in again after it.
const RUNS: Record<string, number> = { "/register": 80, "/token": 120, "/change-password": 100, "/logout": 80 };
/** Answers that only say the request never reached the route's own logic. */
const GATEKEEPING = new Set([401, 413, 415, 422]);

async function property(route: Route): Promise<void> {
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(
      requests(route, plausible, () => tokens),
      async (request) => {
        const before = await users();
        const reply = await send(auth.url, route, request);
        statuses.add(reply.status);
        const problems = problemsOf(reply, undocumentedParts(doc, route.method, request.path, reply));
        if (reply.status >= 300 && (await users()) !== before) problems.push(`a refused request (${reply.status}) changed a user`);
        // A session ended by the fuzz itself (a logout with the good token) is started again.
        if (reply.status < 300 && (route.path === "/logout" || route.method === "DELETE")) {
          tokens[0] = (await post(auth.url, "/token", { form: { username: "fuzzer", password: PASSWORD } })).body.access_token;
        }
        expect({ request, status: reply.status, problems }).toEqual({ request, status: reply.status, problems: [] });
      },
    ),
    { numRuns: RUNS[route.path] ?? 200 },
  );
  // Random input that never got past validation and authentication would prove little.
  expect({ route: route.path, reachedLogic: [...statuses].some((s) => !GATEKEEPING.has(s)) }).toEqual({ route: route.path, reachedLogic: true });
}

describe("random requests to every route of the auth service's document", () => {
  test("the document has the routes of the contract", () => {
    expect(routesOf(doc).length).toBeGreaterThanOrEqual(7);
  });

  for (const route of routesOf(doc)) {
    test(`${route.method} ${route.path}: never a 5xx, a disclosure, an undocumented answer or a refused write`, () => property(route), 60_000);
  }
});
