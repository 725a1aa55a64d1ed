import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { logLines } from "../common/testing";
import { post, type Call } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * Dozens of malformed requests per route. Each must get a 4xx with a JSON `code`, never a 5xx;
 * afterwards the database must hold exactly what it held before.
 */


type Case = [name: string, call: Call, status?: number];

const JSON_TYPE = "application/json";
/** `contentType` null sends none at all. */
const raw = (body: RequestInit["body"], contentType: string | null = JSON_TYPE): Call => ({ raw: body, contentType: contentType ?? undefined });
const big = JSON.stringify({ username: "x".repeat(100 * 1024) });

const genericBodies: Case[] = [
  ["invalid JSON", raw("{username: victim}")],
  ["truncated JSON", raw('{"username": "vic')],
  ["JSON with a trailing comma", raw('{"username": "victim",}')],
  ["JSON sent as text/plain", raw('{"username": "victim"}', "text/plain")],
  ["JSON without a content type", raw(new TextEncoder().encode('{"username": ["victim"]}'), null)],
  ["XML", raw("<user><name>victim</name></user>", "application/xml")],
  ["a content type that merely mentions json", raw('{"username": "victim"}', "text/jsonish")],
  ["no body", raw(undefined)],
  ["an empty body", raw("")],
  ["whitespace only", raw(" \n\t ")],
  ["null", raw("null")],
  ["an empty array", raw("[]")],
  ["an array of objects", raw('[{"username": "victim"}]')],
  ["a string", raw('"victim"')],
  ["a number", raw("123")],
  ["a boolean", raw("true")],
  ["a number too large for a double", raw("1e999")],
  ["5,000 nested arrays", raw(`${"[".repeat(5000)}${"]".repeat(5000)}`)],
  ["bytes that are not UTF-8", raw(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))],
  ["a NUL byte between tokens", raw('{"username":\u0000"victim"}')],
  ["a 100 KB body", raw(big), 413],
  // A getter, so that each request streams a fresh body.
  ["a 100 KB body streamed without Content-Length", { get raw() { return new Blob([big]).stream(); }, contentType: JSON_TYPE }, 413],
];

const badValues: [string, unknown][] = [
  ["null", null],
  ["a number", 123],
  ["a huge number", 1.7976931348623157e308],
  ["a boolean", false],
  ["an array", ["victim"]],
  ["a nested object", { a: { b: { c: ["victim"] } } }],
  ["an empty string", ""],
  ["a 10,000-character string", "x".repeat(10_000)],
];

/** Strings that pass no username rule and probe the layers underneath. Each route gets each once. */
const badStrings: [string, string][] = [
  ["emoji", "😀🔥💸😀🔥💸"],
  ["right-to-left text", "\u202Eمستخدم\u202C"],
  ["zero-width characters", "vic\u200Btim\u200D\uFEFF"],
  ["control characters", "vic\u0001\u0007\u001btim\r\n"],
  ["a NUL character", "vic\u0000tim"],
  ["a lone surrogate", "vic\uD800tim"],
  ["an SQL injection", "' OR 1=1 --"],
  ["a stacked SQL statement", "victim'; DROP TABLE users; --"],
  ["a dotted capital I that grows when lower-cased", "İ".repeat(254)],
];

function fieldCases(base: Record<string, unknown>): Case[] {
  const fields = Object.keys(base);
  const cases: Case[] = [];
  for (const field of fields) {
    for (const [name, value] of badValues) cases.push([`${field} as ${name}`, { json: { ...base, [field]: value } }]);
    cases.push([`${field} missing`, { json: { ...base, [field]: undefined } }]);
    cases.push([`${field} repeated with null last`, raw(`${JSON.stringify(base).slice(0, -1)}, "${field}": null}`)]);
  }
  badStrings.forEach(([name, value], i) => {
    const field = fields[i % fields.length]!;
    cases.push([`${field} with ${name}`, { json: { ...base, [field]: value } }]);
  });
  // Without the first field, so that the body is refused whatever the pollution does.
  const rest = Object.entries(base).slice(1).map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  for (const [name, key] of [["__proto__", "__proto__"], ["constructor.prototype", "constructor"]]) {
    const polluting = key === "constructor" ? '{"prototype": {"polluted": true}}' : '{"polluted": true}';
    cases.push([`${name} pollution`, raw(`{${[`"${key}": ${polluting}`, ...rest].join(", ")}}`)]);
  }
  return [...genericBodies, ...cases];
}

const formCases: Case[] = [
  ["a form with bad percent escapes", raw("username=%zz&password=%", "application/x-www-form-urlencoded")],
  ["a form of bare names", raw("username&password", "application/x-www-form-urlencoded")],
  ["a form with empty names", raw("=&=x", "application/x-www-form-urlencoded")],
  ["a form with each field twice", raw("username=a&username=b&password=x&password=y", "application/x-www-form-urlencoded")],
  ["a form with a NUL", raw("username=vic%00tim&password=x", "application/x-www-form-urlencoded")],
  ["a form with __proto__ fields", raw("__proto__[polluted]=1&username=victim&password=x", "application/x-www-form-urlencoded")],
  ["multipart with the username as a file", { raw: (() => {
    const form = new FormData();
    form.set("username", new Blob(["victim"]), "name.txt");
    form.set("password", "wrong-password");
    return form;
  })() }],
];

let auth: RunningAuth;
let victim: Awaited<ReturnType<typeof registerAndLogin>>;
let before: Record<string, unknown>[];
const snapshot = async () => [
  ...(await auth.db.sql<Record<string, unknown>[]>`SELECT id, username, email, password_hash, token_version FROM users ORDER BY id`),
];

beforeAll(async () => {
  auth = await startAuthService();
  victim = await registerAndLogin(auth.url, "victim");
  before = await snapshot();
});
afterAll(() => auth.stop());

/** Sends every case and answers the ones that were not a 4xx with a code, so a failure names them. */
async function offenders(path: string, cases: Case[], token?: string): Promise<string[]> {
  const found: string[] = [];
  for (const [name, call, status] of cases) {
    const answer = await post(auth.url, path, token === undefined ? call : { ...call, token });
    const fine = status ? answer.status === status : answer.status >= 400 && answer.status < 500;
    if (!fine || typeof answer.body?.code !== "string") found.push(`${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return found;
}

describe("malformed requests get a 4xx with a code, never a 5xx", () => {
  const routes: [string, Record<string, unknown>, boolean][] = [
    ["/register", { username: "victim", email: "new@example.com", password: "password-123" }, false],
    ["/token", { username: "victim", password: "wrong-password", grant_type: "password", scope: "" }, false],
    ["/change-password", { old_password: "wrong-password", new_password: "new-password-456" }, true],
    ["/check-user", { username: "victim" }, true],
  ];
  for (const [path, base, needsToken] of routes) {
    const cases = [...fieldCases(base), ...(path === "/token" ? formCases : [])];
    test(`${path}: ${cases.length} malformed bodies`, async () => {
      expect(await offenders(path, cases, needsToken ? victim.token : undefined)).toEqual([]);
    });
  }

  test("/verify: the same bodies without a token", async () => {
    expect(await offenders("/verify", genericBodies)).toEqual([]);
  });

  test("garbage Authorization headers get 401 with WWW-Authenticate: Bearer on every Bearer route", async () => {
    const headers = [
      "Bearer", "Bearer ", "Basic dmljdGltOnBhc3N3b3JkLTEyMw==", `Bearer ${"a".repeat(10_000)}`, "Bearer a b",
      `Bearer ${victim.token} extra`, `Bearer ${victim.token}.`, `Token ${victim.token}`, victim.token,
      `Bearer\t${victim.token}`, `Bearer ${victim.token}, Bearer ${victim.token}`, "Bearer \u00e9\u00e8\u00ff", "Bearer ' OR 1=1 --",
    ];
    const problems: string[] = [];
    for (const path of ["/verify", "/check-user", "/change-password"]) {
      for (const authorization of headers) {
        const answer = await post(auth.url, path, { json: { username: "victim" }, headers: { authorization } });
        const bearer = answer.headers.get("www-authenticate") === "Bearer";
        if (answer.status !== 401 || !bearer || !answer.body.code) problems.push(`${path} ${authorization.slice(0, 40)}: ${answer.status}`);
      }
    }
    expect(problems).toEqual([]);
  });

  // Runs last: it checks what the requests above left behind.
  test("the barrage wrote nothing, polluted no prototype and logged no unhandled error", async () => {
    expect(await snapshot()).toEqual(before);
    expect((await post(auth.url, "/verify", { token: victim.token })).status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const lines = await logLines(auth.logFile);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
    expect(lines.filter((line) => line.event === "request" && line.status >= 500)).toEqual([]);
  });
});
