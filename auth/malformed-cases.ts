import type { Call } from "./test-client";

/**
 * The cases of auth/malformed.test.ts: for each route, the request that would succeed, and each
 * way of spoiling it with the exact status and code the spoilt request must get.
 */
export type Case = [name: string, call: Call, status: number, code: string];

export const PASSWORD = "password-123";
const JSON_TYPE = "application/json";
const FORM_TYPE = "application/x-www-form-urlencoded";
/** `contentType` null sends none at all. */
const raw = (body: RequestInit["body"], contentType: string | null = JSON_TYPE): Call => ({ raw: body, contentType: contentType ?? undefined });
export const INVALID = [422, "validation_error"] as const;
const TYPE = [415, "unsupported_media_type"] as const;
const TOO_LARGE = [413, "payload_too_large"] as const;

/** The same malformations of whatever body would succeed. */
export function genericBodies(base: Record<string, unknown>): Case[] {
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
export const badNames: [string, string][] = [
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
export function fieldCases(base: Record<string, unknown>, accepted: (field: string, value: unknown) => boolean = () => false): Case[] {
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

export const bases = {
  register: { username: "newcomer", email: "newcomer@example.com", password: PASSWORD },
  token: { username: "victim", password: PASSWORD, grant_type: "password", scope: "" },
  changePassword: { old_password: PASSWORD, new_password: "new-password-456" },
  checkUser: { username: "victim" },
};

export const formCases: Case[] = [
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
