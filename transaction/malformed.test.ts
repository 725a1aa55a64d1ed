import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tableSnapshot } from "../db/snapshot";
import { type Case, INVALID, authorizations, bodies, headerCases, queries, receivers, valid } from "./malformed-cases";
import { logLines, registerUsers, request, startServices, type Services, type User } from "./test-client";

/**
 * Malformed requests to POST /transfer and GET /transactions. Each case is a request that would
 * succeed (alice sends bob 10.00; alice reads her history) but for one malformation, and each
 * pins the exact status and code it must get; afterwards no table holds anything new, and the
 * unmodified request does succeed, so that a validator that let bad input through would fail here.
 */
let services: Services;
let alice: User;
let before: Record<string, string>;
const url = () => services.trans.url;

beforeAll(async () => {
  services = await startServices();
  [alice] = (await registerUsers(services.auth.url, "alice", "bob")) as [User];
  // Both accounts exist, so that only the malformation stands between each case and a transfer.
  for (const token of [alice.token]) await request(url(), "GET", "/account", { token });
  await request(url(), "GET", "/account", { token: (await registerUsers(services.auth.url, "carol"))[0]!.token });
  before = await tableSnapshot(services.trans.db.sql);
}, 30_000);
afterAll(() => services.stop(), 30_000);

/** Sends every case and answers those that did not get exactly their status and code, so a failure names them. */
async function offenders(method: "GET" | "POST", path: string, cases: Case[]): Promise<string[]> {
  const found: string[] = [];
  for (const [name, call, status, code] of cases) {
    const answer = await request(url(), method, path, call);
    if (answer.status !== status || answer.body?.code !== code) found.push(`${name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  }
  return found;
}

const withToken = (cases: Case[]): Case[] => cases.map(([name, call, ...rest]) => [name, { ...call, token: alice.token }, ...rest]);

describe("malformed requests get exactly their 4xx and code, never a 5xx", () => {
  test(`POST /transfer: ${bodies.length} malformed bodies`, async () => {
    expect(await offenders("POST", "/transfer", withToken(bodies))).toEqual([]);
  });

  test(`POST /transfer: ${receivers.length} receivers that are nobody's name get 404 receiver_not_found`, async () => {
    const cases = receivers.map(([name, receiver]): Case => [name, { json: { receiver_username: receiver, amount: 10 } }, 404, "receiver_not_found"]);
    expect(await offenders("POST", "/transfer", withToken(cases))).toEqual([]);
  });

  test("POST /transfer: malformed Idempotency-Key headers", async () => {
    expect(await offenders("POST", "/transfer", withToken(headerCases))).toEqual([]);
  });

  test(`GET /transactions: ${queries.length} malformed queries get 422`, async () => {
    const found: string[] = [];
    for (const [name, query] of queries) found.push(...(await offenders("GET", `/transactions${query}`, [[name, { token: alice.token }, ...INVALID]])));
    expect(found).toEqual([]);
  });

  test("both routes: the malformed bodies and queries without a token get 401 not_authenticated (or 413 for the big ones)", async () => {
    const unauthenticated = bodies.map(
      ([name, call, status, code]): Case => (status === 413 ? [name, call, status, code] : [name, call, 401, "not_authenticated"]),
    );
    expect(await offenders("POST", "/transfer", unauthenticated)).toEqual([]);
    const found: string[] = [];
    for (const [name, query] of queries) found.push(...(await offenders("GET", `/transactions${query}`, [[name, {}, 401, "not_authenticated"]])));
    expect(found).toEqual([]);
  });

  test("both routes: garbage Authorization headers get 401 with their code and WWW-Authenticate: Bearer", async () => {
    const problems: string[] = [];
    for (const [authorization, code] of authorizations) {
      for (const [method, path] of [
        ["POST", "/transfer"],
        ["GET", "/transactions"],
      ] as const) {
        const answer = await request(url(), method, path, { json: method === "POST" ? valid : undefined, headers: { authorization } });
        if (answer.status !== 401 || answer.headers.get("www-authenticate") !== "Bearer" || answer.body.code !== code) {
          problems.push(`${method} ${path} ${authorization.slice(0, 40)}: ${answer.status} ${answer.body.code}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  // The last two run in this order: what the barrage left behind, then the control.
  test("the barrage wrote nothing to any table and logged no error", async () => {
    expect(await tableSnapshot(services.trans.db.sql)).toEqual(before);
    const lines = await logLines(services.trans.logFile);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
    expect(lines.filter((line) => line.event === "request" && line.status >= 500)).toEqual([]);
  });

  test("the unmodified requests succeed: the cases above failed only by their malformation", async () => {
    expect((await request(url(), "POST", "/transfer", { json: valid, token: alice.token, headers: { "idempotency-key": "k".repeat(255) } })).status).toBe(200);
    expect((await request(url(), "GET", "/transactions?limit=1000&skip=0", { token: alice.token })).status).toBe(200);
    expect(await tableSnapshot(services.trans.db.sql)).not.toEqual(before);
  });
});
