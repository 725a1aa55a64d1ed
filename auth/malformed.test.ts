import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { logLines } from "../common/testing";
import { tableSnapshot } from "../db/snapshot";
import { type Case, INVALID, PASSWORD, badNames, bases, fieldCases, formCases, genericBodies } from "./malformed-cases";
import { post } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * Malformed requests to every route. Each case is a request that would succeed (a new user
 * registers, victim logs in, checks a user, changes the password) but for one malformation, and
 * each pins the exact status and code it must get. Afterwards no table holds anything new, and
 * the unmodified requests do succeed, so that a validator letting bad input through fails here.
 */
let auth: RunningAuth;
let victim: Awaited<ReturnType<typeof registerAndLogin>>;
let before: Record<string, string>;

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
  // An empty grant_type is the password grant, as FastAPI reads an empty form field as unset.
  const accepted = (field: string, value: unknown) => (field === "scope" || field === "grant_type") && value === "";
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
