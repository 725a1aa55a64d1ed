import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { logLines } from "../common/testing";
import { tableSnapshot } from "../db/snapshot";
import { post, type Call } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * Malformed requests to every route. Each case is a request that would succeed (a new user
 * registers, victim logs in, checks a user, changes the password) but for one malformation, and
 * each pins the exact status and code it must get. Afterwards no table holds anything new, and
 * the unmodified requests do succeed, so that a validator letting bad input through fails here.
 */
type Case = [name: string, call: Call, status: number, code: string];

const PASSWORD = "password-123";
const JSON_TYPE = "application/json";
const FORM_TYPE = "application/x-www-form-urlencoded";
/** `contentType` null sends none at all. */
const raw = (body: RequestInit["body"], contentType: string | null = JSON_TYPE): Call => ({ raw: body, contentType: contentType ?? undefined });
const INVALID = [422, "validation_error"] as const;
const TYPE = [415, "unsupported_media_type"] as const;
const TOO_LARGE = [413, "payload_too_large"] as const;

/** The same malformations of whatever body would succeed. */
function genericBodies(base: Record<string, unknown>): Case[] {
  const text = JSON.stringify(base);
  const big = JSON.stringify({ ...base, padding: "x".repeat(100 * 1024) });
  return [
    ["invalid JSON", raw(text.replaceAll('"', "")), ...INVALID],
    ["truncated JSON", raw(text.slice(0, -1)), ...INVALID],
    ["JSON with a trailing comma", raw(`${text.slice(0, -1)},}`), ...INVALID],
    ["JSON sent as text/plain", raw(text, "text/plain"), ...TYPE],
    ["XML", raw("<user><name>victim</name></user>", "application/xml"), ...TYPE],
    ["a content type that merely mentions json", raw(text, "text/jsonish"), ...TYPE],
    ["no body", raw(undefined), ...INVALID],
    ["an empty body", raw(""), ...INVALID],
    ["whitespace only", raw(" \n\t "), ...INVALID],
    ["null", raw("null"), ...INVALID],
    ["an empty array", raw("[]"), ...INVALID],
    ["an array holding the body", raw(`[${text}]`), ...INVALID],
    ["a string", raw('"victim"'), ...INVALID],
    ["a number", raw("123"), ...INVALID],
    ["a boolean", raw("true"), ...INVALID],
    ["a number too large for a double", raw("1e999"), ...INVALID],
    ["5,000 nested arrays", raw(`${"[".repeat(5000)}${"]".repeat(5000)}`), ...INVALID],
    [
      "bytes that are not UTF-8 in an extra field",
      raw(new Uint8Array([...new TextEncoder().encode(text.slice(0, -1)), 0x2c, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
      ...INVALID,
    ],
    ["a NUL byte between tokens", raw(`{\u0000${text.slice(1)}`), ...INVALID],
    ["a 100 KB body", raw(big), ...TOO_LARGE],
    // A getter, so that each request streams a fresh body.
    [
      "a 100 KB body streamed without Content-Length",
      {
        get raw() {
          return new Blob([big]).stream();
        },
        contentType: JSON_TYPE,
      },
      ...TOO_LARGE,
    ],
  ];
}

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

/** Strings that are no username or email and probe the layers underneath. */
const badNames: [string, string][] = [
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

/** OAuth2's optional fields of /token: leaving one out is no malformation. */
const OPTIONAL = new Set(["grant_type", "scope"]);

/** RFC 6749's answer for a grant_type string (of a sane length) that names no grant the service offers. */
const UNSUPPORTED_GRANT = (field: string, value: unknown) =>
  field === "grant_type" && typeof value === "string" && value.length <= 64 ? ([400, "unsupported_grant_type"] as const) : INVALID;

/** Each field of `base` made wrong in each way (but for values that the field accepts), each a 422 (a grant_type string, RFC 6749's 400). */
function fieldCases(base: Record<string, unknown>, accepted: (field: string, value: unknown) => boolean = () => false): Case[] {
  const cases: Case[] = [];
  const text = JSON.stringify(base);
  for (const field of Object.keys(base)) {
    for (const [name, value] of badValues)
      if (!accepted(field, value)) cases.push([`${field} as ${name}`, { json: { ...base, [field]: value } }, ...UNSUPPORTED_GRANT(field, value)]);
    cases.push([`${field} repeated with null last`, raw(`${text.slice(0, -1)}, "${field}": null}`), ...INVALID]);
    if (OPTIONAL.has(field)) continue;
    cases.push([`${field} missing`, { json: { ...base, [field]: undefined } }, ...INVALID]);
    cases.push([
      `${field} only under __proto__`,
      raw(JSON.stringify({ ...base, [field]: undefined }).replace("{", `{"__proto__": {"${field}": ${JSON.stringify(base[field])}},`)),
      ...INVALID,
    ]);
  }
  return cases;
}

let auth: RunningAuth;
let victim: Awaited<ReturnType<typeof registerAndLogin>>;
let before: Record<string, string>;

const bases = {
  register: { username: "newcomer", email: "newcomer@example.com", password: PASSWORD },
  token: { username: "victim", password: PASSWORD, grant_type: "password", scope: "" },
  changePassword: { old_password: PASSWORD, new_password: "new-password-456" },
  checkUser: { username: "victim" },
};

const formCases: Case[] = [
  ["a form of bare names", raw("username&password", FORM_TYPE), ...INVALID],
  ["a form with empty names", raw("=victim&=password-123", FORM_TYPE), ...INVALID],
  ["a form without the password", raw("username=victim", FORM_TYPE), ...INVALID],
  ["a form with a NUL in the username", raw("username=vic%00tim&password=password-123", FORM_TYPE), ...INVALID],
  ["a form with the fields under __proto__", raw("__proto__[username]=victim&__proto__[password]=password-123", FORM_TYPE), ...INVALID],
  // RFC 6749: a grant type the service does not offer is a 400 of its own.
  [
    "a form with grant_type client_credentials",
    raw("username=victim&password=password-123&grant_type=client_credentials", FORM_TYPE),
    400,
    "unsupported_grant_type",
  ],
  ["a form sent as text/plain", raw("username=victim&password=password-123", "text/plain"), ...TYPE],
  // Multipart is read as a form, and a file is no username.
  [
    "multipart with the username as a file",
    {
      raw: (() => {
        const form = new FormData();
        form.set("username", new Blob(["victim"]), "name.txt");
        form.set("password", PASSWORD);
        return form;
      })(),
    },
    ...INVALID,
  ],
];

beforeAll(async () => {
  auth = await startAuthService();
  victim = await registerAndLogin(auth.url, "victim", PASSWORD);
  before = await tableSnapshot(auth.db.sql);
});
afterAll(() => auth.stop());

/** Sends every case and answers those that did not get exactly their status and code, so a failure names them. */
async function offenders(path: string, cases: Case[], token?: string): Promise<string[]> {
  const found: string[] = [];
  for (const [name, call, status, code] of cases) {
    const answer = await post(auth.url, path, token === undefined ? call : { ...call, token });
    if (answer.status !== status || answer.body?.code !== code) found.push(`${name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  }
  return found;
}

describe("malformed requests get exactly their 4xx and code, never a 5xx", () => {
  const routes: [string, Record<string, unknown>, Case[], boolean][] = [
    [
      "/register",
      bases.register,
      badNames.flatMap(([name, value]): Case[] => [
        [`username with ${name}`, { json: { ...bases.register, username: value } }, ...INVALID],
        [`email with ${name}`, { json: { ...bases.register, email: value } }, ...INVALID],
      ]),
      false,
    ],
    ["/token", bases.token, formCases, false],
    [
      "/change-password",
      bases.changePassword,
      [
        ["a new password of 7 characters", { json: { ...bases.changePassword, new_password: "1234567" } }, ...INVALID],
        ["a new password of 129 characters", { json: { ...bases.changePassword, new_password: "x".repeat(129) } }, ...INVALID],
      ],
      true,
    ],
    // Any string of 1 to 254 characters without a NUL is a name to look up, and nobody has these.
    [
      "/check-user",
      bases.checkUser,
      badNames.map(
        ([name, value]): Case => [
          `username with ${name}`,
          { json: { username: value } },
          ...(value.includes("\u0000") ? INVALID : ([404, "user_not_found"] as const)),
        ],
      ),
      true,
    ],
  ];
  // An empty scope is what OAuth2 clients send; any string up to 1,024 characters is accepted.
  const accepted = (field: string, value: unknown) => field === "scope" && value === "";
  for (const [path, base, extra, needsToken] of routes) {
    const cases = [...genericBodies(base), ...fieldCases(base, accepted), ...extra];
    test(`${path}: ${cases.length} malformed bodies`, async () => {
      expect(await offenders(path, cases, needsToken ? victim.token : undefined)).toEqual([]);
    });
  }

  test("/verify: the same bodies without a token get 401 not_authenticated (or 413 for the big ones)", async () => {
    const cases = genericBodies(bases.checkUser).map(
      ([name, call, status, code]): Case => (status === 413 ? [name, call, status, code] : [name, call, 401, "not_authenticated"]),
    );
    expect(await offenders("/verify", cases)).toEqual([]);
  });

  test("garbage Authorization headers get 401 invalid_token with WWW-Authenticate: Bearer on every Bearer route", async () => {
    const headers = [
      "Bearer",
      "Bearer ",
      "Basic dmljdGltOnBhc3N3b3JkLTEyMw==",
      `Bearer ${"a".repeat(10_000)}`,
      "Bearer a b",
      `Bearer ${victim.token} extra`,
      `Bearer ${victim.token}.`,
      `Token ${victim.token}`,
      victim.token,
      `Bearer\t${victim.token}`,
      `Bearer ${victim.token}, Bearer ${victim.token}`,
      "Bearer \u00e9\u00e8\u00ff",
      "Bearer ' OR 1=1 --",
    ];
    const problems: string[] = [];
    const bodies: Record<string, unknown> = { "/verify": undefined, "/check-user": bases.checkUser, "/change-password": bases.changePassword };
    for (const [path, json] of Object.entries(bodies)) {
      for (const authorization of headers) {
        const answer = await post(auth.url, path, { json, headers: { authorization } });
        const bearer = answer.headers.get("www-authenticate") === "Bearer";
        if (answer.status !== 401 || !bearer || answer.body.code !== "invalid_token")
          problems.push(`${path} ${authorization.slice(0, 40)}: ${answer.status} ${answer.body.code}`);
      }
    }
    expect(problems).toEqual([]);
  });

  // The last two run in this order: what the barrage left behind, then the control.
  test("the barrage wrote nothing to any table, polluted no prototype and logged no error", async () => {
    expect(await tableSnapshot(auth.db.sql)).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const lines = await logLines(auth.logFile);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
    expect(lines.filter((line) => line.event === "request" && line.status >= 500)).toEqual([]);
  });

  test("the unmodified requests succeed: the cases above failed only by their malformation", async () => {
    expect((await post(auth.url, "/register", { json: bases.register })).status).toBe(200);
    expect((await post(auth.url, "/token", { json: bases.token })).status).toBe(200);
    expect((await post(auth.url, "/token", { form: bases.token as Record<string, string> })).status).toBe(200);
    expect((await post(auth.url, "/check-user", { json: bases.checkUser, token: victim.token })).status).toBe(200);
    expect((await post(auth.url, "/change-password", { json: bases.changePassword, token: victim.token })).status).toBe(200);
  });
});
