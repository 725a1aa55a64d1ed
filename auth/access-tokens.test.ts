import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from "jose";
import { login, post } from "./test-client";
import { registerAndLogin, startAuthService, TEST_SECRET, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

const NOW = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The session that forged tokens name unless told otherwise: a live one of alice's. */
let sid: string;

/** The claims the service issues; `extra` replaces some, or drops them when `undefined`. */
const claimsFor = (sub: string, extra: Record<string, unknown> = {}): JWTPayload => ({ sub, ver: 0, sid, iat: NOW(), exp: NOW() + 600, ...extra });

/** A token as an attacker (or a colleague with the secret) would forge it. */
function sign(claims: JWTPayload, { alg = "HS256", secret = TEST_SECRET } = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(new TextEncoder().encode(secret));
}

async function expectRefused(url: string, token: string) {
  const answer = await post(url, "/verify", { token });
  expect(answer.status).toBe(401);
  expect(answer.body.code).toBe("invalid_token");
  expect(answer.headers.get("www-authenticate")).toBe("Bearer");
}

describe("tokens issued by /token", () => {
  let auth: RunningAuth;
  let alice: Awaited<ReturnType<typeof registerAndLogin>>;
  let bobSid: string;
  beforeAll(async () => {
    auth = await startAuthService({ ACCESS_TOKEN_EXPIRE_MINUTES: "5" });
    alice = await registerAndLogin(auth.url, "alice");
    sid = decodeJwt(alice.token).sid as string;
    bobSid = decodeJwt((await registerAndLogin(auth.url, "bob")).token).sid as string;
  });
  afterAll(() => auth.stop());

  test("carry sub (the user id as a string), sid, iat, and exp = iat + ACCESS_TOKEN_EXPIRE_MINUTES", async () => {
    const answer = await login(auth.url, "alice", "password-123");
    expect(answer.body.expires_in).toBe(300);
    const claims = decodeJwt(answer.body.access_token);
    expect(Object.keys(claims).sort()).toEqual(["exp", "iat", "sid", "sub", "ver"]);
    expect(claims.sub).toBe(String(alice.user.id));
    expect(claims.sid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(claims.sid).not.toBe(sid);
    expect(Math.abs(claims.iat! - NOW())).toBeLessThanOrEqual(5);
    expect(claims.exp).toBe(claims.iat! + 300);
    expect(decodeProtectedHeader(answer.body.access_token)).toEqual({ alg: "HS256", typ: "JWT" });
  });

  test("a token forged correctly with the shared secret is accepted (the control for the refusals below)", async () => {
    const token = await sign(claimsFor(String(alice.user.id)));
    expect((await post(auth.url, "/verify", { token })).status).toBe(200);
  });

  const forgeries: [string, (id: string) => Promise<string> | string][] = [
    ["an expired token", (sub) => sign(claimsFor(sub, { iat: NOW() - 3600, exp: NOW() - 60 }))],
    ["a token with alg none and no signature", (sub) => `${base64url({ alg: "none", typ: "JWT" })}.${base64url(claimsFor(sub))}.`],
    ["a token signed with another secret", (sub) => sign(claimsFor(sub), { secret: "another-secret-of-at-least-thirty-two-bytes" })],
    ["a token signed with HS512 when ALGORITHM is HS256", (sub) => sign(claimsFor(sub), { alg: "HS512" })],
    [
      "a token whose payload was edited after signing",
      async (sub) => {
        const [header, , signature] = (await sign(claimsFor("999"))).split(".");
        return `${header}.${base64url(claimsFor(sub))}.${signature}`;
      },
    ],
    ["a garbage token", () => "garbage"],
    ["three garbage segments", () => "aaa.bbb.ccc"],
    ["a token for a user that does not exist", () => sign(claimsFor("999999"))],
    ["a token whose sub is larger than any bigint", () => sign(claimsFor("9999999999999999999"))],
    ["a token whose sub is a username", () => sign(claimsFor("alice"))],
    ["a token whose sub is a number, not a string", (sub) => sign(claimsFor(sub, { sub: Number(sub) }))],
    ["a token without the version revocation needs", (sub) => sign(claimsFor(sub, { ver: undefined }))],
    ["a token from a version not issued yet", (sub) => sign(claimsFor(sub, { ver: 7 }))],
    ["a token without exp", (sub) => sign(claimsFor(sub, { exp: undefined }))],
    ["a token without a session", (sub) => sign(claimsFor(sub, { sid: undefined }))],
    ["a token of a session that does not exist", (sub) => sign(claimsFor(sub, { sid: crypto.randomUUID() }))],
    ["a token naming another user's session", (sub) => sign(claimsFor(sub, { sid: bobSid }))],
    ["a token whose session id is not a UUID", (sub) => sign(claimsFor(sub, { sid: "1' OR '1'='1" }))],
  ];
  for (const [name, forge] of forgeries) {
    test(`refuses ${name} with 401 and WWW-Authenticate: Bearer`, async () => {
      await expectRefused(auth.url, await forge(String(alice.user.id)));
    });
  }
});

describe("ALGORITHM=HS512", () => {
  let auth: RunningAuth;
  beforeAll(async () => {
    auth = await startAuthService({ ALGORITHM: "HS512" });
  });
  afterAll(() => auth.stop());

  test("signs tokens with HS512 and refuses an HS256 token signed with the same secret", async () => {
    const { token, user } = await registerAndLogin(auth.url, "alice");
    expect(decodeProtectedHeader(token).alg).toBe("HS512");
    expect((await post(auth.url, "/verify", { token })).status).toBe(200);
    await expectRefused(auth.url, await sign(claimsFor(String(user.id)), { alg: "HS256" }));
  });
});

describe("revocation by a password change", () => {
  let auth: RunningAuth;
  beforeAll(async () => {
    auth = await startAuthService();
  });
  afterAll(() => auth.stop());

  test("refuses every earlier token at once; the new password logs in and the old one does not", async () => {
    const first = await registerAndLogin(auth.url, "dave", "old-password-1");
    const second = (await login(auth.url, "dave", "old-password-1")).body.access_token as string;
    const changed = await post(auth.url, "/change-password", {
      json: { old_password: "old-password-1", new_password: "new-password-2" },
      token: first.token,
    });
    expect(changed.status).toBe(200);

    await expectRefused(auth.url, first.token);
    await expectRefused(auth.url, second);
    const again = await post(auth.url, "/change-password", {
      json: { old_password: "new-password-2", new_password: "third-password-3" },
      token: second,
    });
    expect(again.status).toBe(401);

    expect((await login(auth.url, "dave", "old-password-1")).body.code).toBe("invalid_credentials");
    const fresh = await login(auth.url, "dave", "new-password-2");
    expect(fresh.status).toBe(200);
    const verified = await post(auth.url, "/verify", { token: fresh.body.access_token });
    expect(verified.body).toMatchObject({ id: first.user.id, username: "dave" });
  });
});
