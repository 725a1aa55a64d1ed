import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { problemsOf, requests, routesOf, send, type Route } from "../common/fuzzing";
import { undocumentedParts } from "../common/openapi-conformance";
import { auditLedger } from "./audit";
import { account, registerUsers, startServices } from "./test-client";

/**
 * Property-based: random bodies, headers, query strings and tokens against every route of the
 * transaction service's own OpenAPI document. No answer may be a 5xx, disclose the
 * implementation or fall outside the document, and a refused request may not move money.
 */
// The routes come from the served document, so the services start while the file loads.
const services = await startServices();
afterAll(() => services.stop());
const url = services.trans.url;
const doc = (await (await fetch(`${url}/openapi.json`)).json()) as Record<string, any>;
const [fuzzer, payee] = await registerUsers(services.auth.url, "fuzzer", "payee");
await account(url, fuzzer!);
await account(url, payee!);
const tokens = [fuzzer!.token, `${fuzzer!.token.slice(0, -2)}xx`, payee!.token];

/** Every account's balance and the number of transfers: what a refused request must leave alone. */
const ledger = async () =>
  (
    await services.trans.db.sql<{ s: string }[]>`
    SELECT (SELECT count(*) FROM transfers) || '|' || coalesce((SELECT string_agg(id || ':' || balance, ',' ORDER BY id) FROM accounts), '') AS s`
  )[0]!.s;

const plausible: Record<string, unknown[]> = {
  receiver_username: ["payee", "PAYEE", "fuzzer", "nobody", "payee\u0000"],
  amount: [1, 0.01, 10.5, 1.005, 0, -1, 1e9, 1e9 + 0.01, 1e12],
  query: ["0", "1", "1000", "1001", "-1", "abc", "1e3"],
};

const GATEKEEPING = new Set([401, 413, 415, 422]);

async function property(route: Route): Promise<void> {
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(
      requests(route, plausible, () => tokens),
      async (request) => {
        const before = await ledger();
        const reply = await send(url, route, request);
        statuses.add(reply.status);
        const problems = problemsOf(reply, undocumentedParts(doc, route.method, request.path, reply));
        // GET /account opens an account on first use; any other 200 is a transfer or a read.
        if (reply.status !== 200 && (await ledger()) !== before) problems.push(`a refused request (${reply.status}) changed the ledger`);
        expect({ request, status: reply.status, problems }).toEqual({ request, status: reply.status, problems: [] });
      },
    ),
    { numRuns: 150 },
  );
  expect({ route: route.path, reachedLogic: [...statuses].some((s) => !GATEKEEPING.has(s)) }).toEqual({ route: route.path, reachedLogic: true });
}

describe("random requests to every route of the transaction service's document", () => {
  test("the document has the routes of the contract", () => {
    expect(routesOf(doc).length).toBeGreaterThanOrEqual(5);
  });

  for (const route of routesOf(doc)) {
    test(`${route.method} ${route.path}: never a 5xx, a disclosure, an undocumented answer or money moved by a refusal`, () => property(route), 60_000);
  }

  test("after all of it the ledger balances", async () => {
    const audit = await auditLedger(services.trans.db.sql);
    expect(audit.violations).toEqual([]);
  });
});
