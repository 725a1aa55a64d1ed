import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { logLines, registerUsers, request, startServices, transferCount, type Call, type Services, type User } from "./test-client";

/**
 * Dozens of malformed requests to POST /transfer and GET /transactions. Each must get a 4xx
 * with a JSON `code`, never a 5xx; afterwards the ledger must hold no transfer and no account.
 */
type Case = [name: string, call: Call, status?: number];

const JSON_TYPE = "application/json";
const raw = (body: RequestInit["body"], contentType: string | undefined = JSON_TYPE): Call => ({ raw: body, contentType });
const big = JSON.stringify({ receiver_username: "bob", amount: 1, padding: "x".repeat(100 * 1024) });
const valid = { receiver_username: "bob", amount: 10 };

const bodies: Case[] = [
  ["invalid JSON", raw("{receiver_username: bob, amount: 10}")],
  ["truncated JSON", raw('{"receiver_username": "bob", "amount": 1')],
  ["JSON with a trailing comma", raw('{"receiver_username": "bob", "amount": 10,}')],
  ["JSON sent as text/plain", raw(JSON.stringify(valid), "text/plain")],
  ["JSON without a content type", raw(new TextEncoder().encode(JSON.stringify(valid)), undefined)],
  ["JSON sent as a form", raw("receiver_username=bob&amount=10", "application/x-www-form-urlencoded")],
  ["multipart form data", { raw: (() => {
    const form = new FormData();
    form.set("receiver_username", "bob");
    form.set("amount", "10");
    return form;
  })() }],
  ["XML", raw("<transfer><to>bob</to><amount>10</amount></transfer>", "application/xml")],
  ["no body", raw(undefined)],
  ["an empty body", raw("")],
  ["whitespace only", raw(" \n\t ")],
  ["null", raw("null")],
  ["an empty array", raw("[]")],
  ["an array holding the transfer", raw(`[${JSON.stringify(valid)}]`)],
  ["a string", raw('"bob"')],
  ["a number", raw("10")],
  ["5,000 nested arrays", raw(`${"[".repeat(5000)}${"]".repeat(5000)}`)],
  ["bytes that are not UTF-8", raw(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))],
  ["a NUL byte between tokens", raw('{"receiver_username":\u0000"bob","amount":10}')],
  ["an amount too large for a double", raw('{"receiver_username": "bob", "amount": 1e999}')],
  ["a negative zero amount", raw('{"receiver_username": "bob", "amount": -0}')],
  ["the amount repeated with a string last", raw('{"receiver_username": "bob", "amount": 10, "amount": "10"}')],
  ["__proto__ pollution", raw('{"__proto__": {"amount": 10}, "receiver_username": "bob"}')],
  ["nested objects for both fields", { json: { receiver_username: { name: "bob" }, amount: { value: 10 } } }],
  ["an amount as an array", { json: { receiver_username: "bob", amount: [10] } }],
  ["an amount in exponent notation below a cent", { json: { receiver_username: "bob", amount: 1e-7 } }],
  ["an amount of the largest double", { json: { receiver_username: "bob", amount: Number.MAX_VALUE } }],
  ["an empty receiver", { json: { receiver_username: "", amount: 10 } }],
  ["a receiver of 10,000 characters", { json: { receiver_username: "x".repeat(10_000), amount: 10 } }],
  ["a 100 KB body", raw(big), 413],
  // A getter, so that each request streams a fresh body.
  ["a 100 KB body streamed without Content-Length", { get raw() { return new Blob([big]).stream(); }, contentType: JSON_TYPE }, 413],
];

/** Receivers that are no registered user's name and probe the layers underneath: 404 or 422, never a 5xx. */
const receivers: [string, string][] = [
  ["an SQL injection", "bob'; DROP TABLE accounts;--"],
  ["a boolean SQL injection", "' OR '1'='1"],
  ["emoji", "😀🔥💸"],
  ["non-Latin letters", "боб"],
  ["right-to-left text", "\u202Eبوب\u202C"],
  ["zero-width characters", "b\u200Bo\u200Db\uFEFF"],
  ["control characters", "b\u0001o\u0007b\u001b\r\n"],
  ["a NUL character", "bo\u0000b"],
  ["a lone surrogate", "bo\uD800b"],
  ["a dotted capital I that grows when lower-cased", "İ".repeat(254)],
  ["a LIKE wildcard", "b%"],
  ["a backslash", "b\\o\\b"],
];

const headerCases: Case[] = [
  ["an empty Idempotency-Key", { json: valid, headers: { "idempotency-key": "" } }],
  ["an Idempotency-Key of 300 characters", { json: valid, headers: { "idempotency-key": "k".repeat(300) } }],
  ["a Content-Type with a foreign charset", { raw: JSON.stringify({ receiver_username: "bob" }), contentType: "application/json; charset=utf-16" }],
];

const queries: [string, string][] = [
  ["a NUL in skip", "?skip=%00"],
  ["a bad percent escape", "?limit=%zz"],
  ["a skip beyond any integer", "?skip=1e400"],
  ["a limit of 25 digits", "?limit=9999999999999999999999999"],
  ["an SQL injection in limit", "?limit=1%3B%20DROP%20TABLE%20transfers%3B--"],
  ["skip given twice", "?skip=1&skip=2"],
  ["an empty limit", "?limit="],
  ["a limit with a unit", "?limit=10px"],
  ["a negative limit", "?limit=-5"],
  ["emoji in skip", "?skip=%F0%9F%98%80"],
  ["a hexadecimal limit above 1000", "?limit=0x7FFFFFFF"],
  ["a query string of 10 KB", `?skip=${"9".repeat(10_000)}`],
];

const authorizations = [
  "Bearer", "Bearer ", "Basic Ym9iOnBhc3N3b3JkLTEyMw==", `Bearer ${"a".repeat(10_000)}`, "Bearer a b",
  "Bearer ' OR 1=1 --", "Bearer \u00e9\u00e8\u00ff", "Bearer a.b.c",
];

let services: Services;
let alice: User;
const url = () => services.trans.url;

beforeAll(async () => {
  services = await startServices();
  [alice] = (await registerUsers(services.auth.url, "alice")) as [User];
}, 30_000);
afterAll(() => services.stop(), 30_000);

/** Sends every case and answers the ones that were not a 4xx JSON with a string code, so a failure names them. */
async function offenders(method: "GET" | "POST", path: string, cases: Case[]): Promise<string[]> {
  const found: string[] = [];
  for (const [name, call, status] of cases) {
    const answer = await request(url(), method, path, call);
    const fine = status ? answer.status === status : answer.status >= 400 && answer.status < 500;
    if (!fine || typeof answer.body?.code !== "string") found.push(`${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return found;
}

const withToken = (cases: Case[]): Case[] => cases.map(([name, call, status]) => [name, { ...call, token: alice.token }, status]);

describe("malformed requests get a 4xx JSON answer with a code, never a 5xx", () => {
  test(`POST /transfer: ${bodies.length} malformed bodies`, async () => {
    expect(await offenders("POST", "/transfer", withToken(bodies))).toEqual([]);
  });

  test(`POST /transfer: ${receivers.length} receivers that are nobody's name`, async () => {
    const cases = receivers.map(([name, receiver]): Case => [name, { json: { receiver_username: receiver, amount: 10 } }]);
    expect(await offenders("POST", "/transfer", withToken(cases))).toEqual([]);
  });

  test("POST /transfer: malformed headers", async () => {
    expect(await offenders("POST", "/transfer", withToken(headerCases))).toEqual([]);
  });

  test(`GET /transactions: ${queries.length} malformed queries`, async () => {
    const found: string[] = [];
    for (const [name, query] of queries) found.push(...(await offenders("GET", `/transactions${query}`, [[name, { token: alice.token }]])));
    expect(found).toEqual([]);
  });

  test("both routes: the malformed bodies and queries without a token get 401", async () => {
    expect(await offenders("POST", "/transfer", bodies.filter(([, , status]) => status !== 413))).toEqual([]);
    for (const [, query] of queries) expect((await request(url(), "GET", `/transactions${query}`)).status).toBe(401);
  });

  test("both routes: garbage Authorization headers get 401 with WWW-Authenticate: Bearer", async () => {
    const problems: string[] = [];
    for (const authorization of authorizations) {
      for (const [method, path] of [["POST", "/transfer"], ["GET", "/transactions"]] as const) {
        const answer = await request(url(), method, path, { json: method === "POST" ? valid : undefined, headers: { authorization } });
        const bearer = answer.headers.get("www-authenticate") === "Bearer";
        if (answer.status !== 401 || !bearer || typeof answer.body.code !== "string") {
          problems.push(`${method} ${path} ${authorization.slice(0, 40)}: ${answer.status}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  // Runs last: it checks what the requests above left behind.
  test("the barrage wrote no transfer and no account, and logged no error", async () => {
    expect(await transferCount(services.trans)).toBe(0);
    const [accounts] = await services.trans.db.sql`SELECT count(*)::int AS n FROM accounts`;
    expect(accounts!.n).toBe(0);
    const lines = await logLines(services.trans.logFile);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
    expect(lines.filter((line) => line.event === "request" && line.status >= 500)).toEqual([]);
  });
});
