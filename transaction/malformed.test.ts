import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tableSnapshot } from "../db/snapshot";
import { logLines, registerUsers, request, startServices, type Call, type Services, type User } from "./test-client";

/**
 * Malformed requests to POST /transfer and GET /transactions. Each case is a request that would
 * succeed (alice sends bob 10.00; alice reads her history) but for one malformation, and each
 * pins the exact status and code it must get; afterwards no table holds anything new, and the
 * unmodified request does succeed, so that a validator that let bad input through would fail here.
 */
type Case = [name: string, call: Call, status: number, code: string];

const JSON_TYPE = "application/json";
const raw = (body: RequestInit["body"], contentType: string | undefined = JSON_TYPE): Call => ({ raw: body, contentType });
const valid = { receiver_username: "bob", amount: 10 };
const text = JSON.stringify(valid);
const big = JSON.stringify({ ...valid, padding: "x".repeat(100 * 1024) });
const INVALID = [422, "validation_error"] as const;
const TYPE = [415, "unsupported_media_type"] as const;

const bodies: Case[] = [
  ["invalid JSON", raw("{receiver_username: bob, amount: 10}"), ...INVALID],
  ["truncated JSON", raw(text.slice(0, -1)), ...INVALID],
  ["JSON with a trailing comma", raw(`${text.slice(0, -1)},}`), ...INVALID],
  ["JSON sent as text/plain", raw(text, "text/plain"), ...TYPE],
  ["JSON sent as a form", raw("receiver_username=bob&amount=10", "application/x-www-form-urlencoded"), ...TYPE],
  [
    "multipart form data",
    {
      raw: (() => {
        const form = new FormData();
        form.set("receiver_username", "bob");
        form.set("amount", "10");
        return form;
      })(),
    },
    ...TYPE,
  ],
  ["XML", raw("<transfer><to>bob</to><amount>10</amount></transfer>", "application/xml"), ...TYPE],
  ["no body", raw(undefined), ...INVALID],
  ["an empty body", raw(""), ...INVALID],
  ["whitespace only", raw(" \n\t "), ...INVALID],
  ["null", raw("null"), ...INVALID],
  ["an empty array", raw("[]"), ...INVALID],
  ["an array holding the transfer", raw(`[${text}]`), ...INVALID],
  ["a string", raw('"bob"'), ...INVALID],
  ["a number", raw("10"), ...INVALID],
  ["5,000 nested arrays", raw(`${"[".repeat(5000)}${"]".repeat(5000)}`), ...INVALID],
  [
    "bytes that are not UTF-8",
    raw(new Uint8Array([...new TextEncoder().encode(text.slice(0, -1)), 0x2c, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
    ...INVALID,
  ],
  ["a NUL byte between tokens", raw(`{"receiver_username":\u0000"bob","amount":10}`), ...INVALID],
  ["an amount too large for a double", raw('{"receiver_username": "bob", "amount": 1e999}'), ...INVALID],
  ["a negative zero amount", raw('{"receiver_username": "bob", "amount": -0}'), ...INVALID],
  ["the amount repeated with a string last", raw('{"receiver_username": "bob", "amount": 10, "amount": "10"}'), ...INVALID],
  ["the amount only under __proto__", raw('{"__proto__": {"amount": 10}, "receiver_username": "bob"}'), ...INVALID],
  ["nested objects for both fields", { json: { receiver_username: { name: "bob" }, amount: { value: 10 } } }, ...INVALID],
  ["an amount as an array", { json: { receiver_username: "bob", amount: [10] } }, ...INVALID],
  ["an amount as a string", { json: { receiver_username: "bob", amount: "10" } }, ...INVALID],
  ["an amount of three decimals", { json: { receiver_username: "bob", amount: 10.005 } }, ...INVALID],
  ["an amount in exponent notation below a cent", { json: { receiver_username: "bob", amount: 1e-7 } }, ...INVALID],
  ["an amount of the largest double", { json: { receiver_username: "bob", amount: Number.MAX_VALUE } }, ...INVALID],
  ["a zero amount", { json: { receiver_username: "bob", amount: 0 } }, ...INVALID],
  ["a negative amount", { json: { receiver_username: "bob", amount: -10 } }, ...INVALID],
  ["no receiver", { json: { amount: 10 } }, ...INVALID],
  ["an empty receiver", { json: { receiver_username: "", amount: 10 } }, ...INVALID],
  ["a receiver of 10,000 characters", { json: { receiver_username: "x".repeat(10_000), amount: 10 } }, ...INVALID],
  ["a receiver with a NUL", { json: { receiver_username: "bo\u0000b", amount: 10 } }, ...INVALID],
  ["a 100 KB body", raw(big), 413, "payload_too_large"],
  // A getter, so that each request streams a fresh body.
  [
    "a 100 KB body streamed without Content-Length",
    {
      get raw() {
        return new Blob([big]).stream();
      },
      contentType: JSON_TYPE,
    },
    413,
    "payload_too_large",
  ],
];

/** Receivers that are nobody's name and probe the layers underneath: each a 404, never a 5xx. */
const receivers: [string, string][] = [
  ["an SQL injection", "bob'; DROP TABLE accounts;--"],
  ["a boolean SQL injection", "' OR '1'='1"],
  ["emoji", "😀🔥💸"],
  ["non-Latin letters", "боб"],
  ["right-to-left text", "\u202Eبوب\u202C"],
  ["zero-width characters", "b\u200Bo\u200Db\uFEFF"],
  ["control characters", "b\u0001o\u0007b\u001b\r\n"],
  ["a lone surrogate", "bo\uD800b"],
  ["a dotted capital I that grows when lower-cased", "İ".repeat(254)],
  ["a LIKE wildcard", "b%"],
  ["a backslash", "b\\o\\b"],
];

const headerCases: Case[] = [
  ["an empty Idempotency-Key", { json: valid, headers: { "idempotency-key": "" } }, ...INVALID],
  ["an Idempotency-Key of 256 characters", { json: valid, headers: { "idempotency-key": "k".repeat(256) } }, ...INVALID],
];

const queries: [string, string][] = [
  ["a NUL in skip", "?skip=%00"],
  ["a bad percent escape", "?limit=%zz"],
  ["a skip beyond any integer", "?skip=1e400"],
  ["a limit of 25 digits", "?limit=9999999999999999999999999"],
  ["an SQL injection in limit", "?limit=1%3B%20DROP%20TABLE%20transfers%3B--"],
  ["an empty limit", "?limit="],
  ["a limit with a unit", "?limit=10px"],
  ["a negative limit", "?limit=-5"],
  ["a limit of 0", "?limit=0"],
  ["a limit of 1001", "?limit=1001"],
  ["a negative skip", "?skip=-1"],
  ["a fractional skip", "?skip=1.5"],
  ["emoji in skip", "?skip=%F0%9F%98%80"],
  ["a hexadecimal limit above 1000", "?limit=0x7FFFFFFF"],
  ["a query string of 10 KB", `?skip=${"9".repeat(10_000)}`],
];

const authorizations: [string, string][] = [
  // A header that is there but is no bearer token is an invalid one; only its absence is not_authenticated.
  ["Bearer", "invalid_token"],
  ["Bearer ", "invalid_token"],
  ["Basic Ym9iOnBhc3N3b3JkLTEyMw==", "invalid_token"],
  [`Bearer ${"a".repeat(10_000)}`, "invalid_token"],
  ["Bearer a b", "invalid_token"],
  ["Bearer ' OR 1=1 --", "invalid_token"],
  ["Bearer \u00e9\u00e8\u00ff", "invalid_token"],
  ["Bearer a.b.c", "invalid_token"],
];

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
