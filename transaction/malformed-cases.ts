import type { Call } from "./test-client";

/**
 * The cases of transaction/malformed.test.ts: the transfer that would succeed (alice sends bob
 * 10.00), and each way of spoiling it with the exact status and code it must get.
 */
export type Case = [name: string, call: Call, status: number, code: string];

const JSON_TYPE = "application/json";
const raw = (body: RequestInit["body"], contentType: string | undefined = JSON_TYPE): Call => ({ raw: body, contentType });
export const valid = { receiver_username: "bob", amount: 10 };
const text = JSON.stringify(valid);
const big = JSON.stringify({ ...valid, padding: "x".repeat(100 * 1024) });
export const INVALID = [422, "validation_error"] as const;
const TYPE = [415, "unsupported_media_type"] as const;

export const bodies: Case[] = [
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
export const receivers: [string, string][] = [
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

export const headerCases: Case[] = [
  ["an empty Idempotency-Key", { json: valid, headers: { "idempotency-key": "" } }, ...INVALID],
  ["an Idempotency-Key of 256 characters", { json: valid, headers: { "idempotency-key": "k".repeat(256) } }, ...INVALID],
];

export const queries: [string, string][] = [
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

export const authorizations: [string, string][] = [
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
