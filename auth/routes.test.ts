import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { expectValidationIssue } from "../common/testing";
import { post, type Answer, type Call } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * One row per outcome of the contract's auth table, each a real HTTP request. `alice` is only
 * ever read; `carol` exists to have her password changed.
 */
interface Context {
  alice: { id: number; token: string };
  carol: { token: string };
}
interface Row {
  name: string;
  path: string;
  call: (ctx: Context) => Call;
  status: number;
  code?: string;
  check?: (answer: Answer, ctx: Context) => void;
}

const PASSWORD = "password-123";
const INVALID_CREDENTIALS = { detail: "Incorrect username or password", code: "invalid_credentials", error: "invalid_grant" };

let auth: RunningAuth;
let ctx: Context;

beforeAll(async () => {
  auth = await startAuthService();
  const alice = await registerAndLogin(auth.url, "alice", PASSWORD);
  const carol = await registerAndLogin(auth.url, "carol", PASSWORD);
  ctx = { alice: { id: alice.user.id, token: alice.token }, carol: { token: carol.token } };
});
afterAll(() => auth.stop());

function expectUser(body: Record<string, unknown>, username: string, email: string) {
  expect(Object.keys(body).sort()).toEqual(["created_at", "email", "id", "username"]);
  expect(body).toMatchObject({ username, email });
  expect(Number.isSafeInteger(body.id)).toBe(true);
  const createdAt = String(body.created_at);
  expect(new Date(createdAt).toISOString()).toBe(createdAt);
  expect(Math.abs(Date.parse(createdAt) - Date.now())).toBeLessThan(60_000);
}

function expectToken(body: Record<string, unknown>) {
  expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
  expect(body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(body.refresh_token).toMatch(/^[\w-]{64}$/);
  expect(body).toMatchObject({ token_type: "bearer", expires_in: 30 * 60 });
}

type Outcome = Pick<Row, "status" | "code" | "check">;
const ok = (check?: Row["check"]): Outcome => ({ status: 200, check });
const refused = (status: number, code: string, check?: Row["check"]): Outcome => ({ status, code, check });
const row = (path: string, name: string, call: Row["call"], outcome: Outcome): Row => ({ path, name, call, ...outcome });

/** A 422 in FastAPI's shape, naming the field that was wrong. */
const invalid = (field: string): Outcome => refused(422, "validation_error", (answer: Answer) => expectValidationIssue(answer.body, field));

const register =
  (username: string, email: string, password = PASSWORD) =>
  () => ({ json: { username, email, password } });
const tokenForm = (form: Record<string, string>) => () => ({ form });
const asAlice = (json?: unknown) => (c: Context) => ({ json, token: c.alice.token });
const CHANGE = { old_password: PASSWORD, new_password: "new-password-456" };

const rows: Row[] = [
  row(
    "/register",
    "registers a user: id, username, lower-cased email, ISO created_at",
    register("Bob", "Bob@Example.COM"),
    ok(({ body }) => expectUser(body, "Bob", "bob@example.com")),
  ),
  row("/register", "refuses a taken username", register("alice", "other@example.com"), refused(400, "username_taken")),
  row("/register", "refuses a username taken in another case", register("ALICE", "other@example.com"), refused(400, "username_taken")),
  row("/register", "refuses an email taken in another case", register("alice2", "ALICE@Example.com"), refused(400, "email_taken")),
  row("/register", "refuses a username of 2 characters", register("al", "al@example.com"), invalid("username")),
  row("/register", "refuses a username of 51 characters", register("a".repeat(51), "long@example.com"), invalid("username")),
  row("/register", "refuses a username with a space", register("al ice", "space@example.com"), invalid("username")),
  row("/register", "refuses a username in non-Latin letters", register("алиса", "ru@example.com"), invalid("username")),
  row("/register", "refuses an invalid email", register("dave", "not-an-email"), invalid("email")),
  row("/register", "refuses a password of 7 characters", register("dave", "dave@example.com", "1234567"), invalid("password")),
  row("/register", "counts password length in characters, not UTF-16 units", register("dave", "dave@example.com", "😀".repeat(7)), invalid("password")),
  row("/register", "refuses a password of 129 characters", register("dave", "dave@example.com", "p".repeat(129)), invalid("password")),
  row("/register", "accepts a password of 128 characters", register("erin", "erin@example.com", "p".repeat(128)), ok()),
  row(
    "/register",
    "reports a missing field as FastAPI's `missing`",
    () => ({ json: { username: "frank", email: "frank@example.com" } }),
    refused(422, "validation_error", ({ body }) => expect(body.detail).toEqual([{ loc: ["body", "password"], msg: "Field required", type: "missing" }])),
  ),

  row(
    "/token",
    "logs in with a form",
    tokenForm({ username: "alice", password: PASSWORD }),
    ok(({ body }) => expectToken(body)),
  ),
  row(
    "/token",
    "logs in with JSON",
    () => ({ json: { username: "alice", password: PASSWORD } }),
    ok(({ body }) => expectToken(body)),
  ),
  row("/token", "logs in with the username in another case", tokenForm({ username: "ALICE", password: PASSWORD }), ok()),
  row("/token", "logs in with the email in another case", tokenForm({ username: "Alice@EXAMPLE.com", password: PASSWORD }), ok()),
  row(
    "/token",
    "accepts the OAuth2 grant_type, scope and client fields",
    tokenForm({ grant_type: "password", username: "alice", password: PASSWORD, scope: "read write", client_id: "", client_secret: "" }),
    ok(),
  ),
  row(
    "/token",
    "takes an empty grant_type as none, as FastAPI's form does: the password grant",
    tokenForm({ grant_type: "", username: "alice", password: PASSWORD }),
    ok(({ body }) => expectToken(body)),
  ),
  row(
    "/token",
    "refuses a wrong password",
    tokenForm({ username: "alice", password: "wrong-password" }),
    refused(400, "invalid_credentials", ({ body }) => expect(body).toEqual(INVALID_CREDENTIALS)),
  ),
  row(
    "/token",
    "refuses an unknown user with the same answer",
    tokenForm({ username: "nobody", password: PASSWORD }),
    refused(400, "invalid_credentials", ({ body }) => expect(body).toEqual(INVALID_CREDENTIALS)),
  ),
  row("/token", "refuses a login without a password", tokenForm({ username: "alice" }), invalid("password")),
  row(
    "/token",
    "refuses a grant_type it does not support, with RFC 6749's error",
    tokenForm({ grant_type: "client_credentials", username: "alice", password: PASSWORD }),
    refused(400, "unsupported_grant_type", ({ body }) => expect(body.error).toBe("unsupported_grant_type")),
  ),
  row(
    "/token",
    "refuses the refresh_token grant without a refresh_token",
    tokenForm({ grant_type: "refresh_token" }),
    refused(400, "invalid_request", ({ body }) => expect(body.error).toBe("invalid_request")),
  ),
  row(
    "/token",
    "refuses an unknown refresh token",
    tokenForm({ grant_type: "refresh_token", refresh_token: "x".repeat(64) }),
    refused(400, "invalid_grant", ({ body }) => expect(body.error).toBe("invalid_grant")),
  ),
  row(
    "/token",
    "refuses a form it cannot parse with 400 bad_request and RFC 6749's invalid_request",
    () => ({ raw: "--x\r\nbroken", contentType: "multipart/form-data; boundary=x" }),
    refused(400, "bad_request", ({ body }) => expect(body).toEqual({ detail: "Bad request", code: "bad_request", error: "invalid_request" })),
  ),
  row(
    "/token",
    "refuses a refresh token that is not one of ours",
    () => ({ json: { grant_type: "refresh_token", refresh_token: "' OR 1=1 --" } }),
    refused(400, "invalid_grant"),
  ),

  row(
    "/change-password",
    "changes the password and answers the user",
    (c) => ({ json: CHANGE, token: c.carol.token }),
    ok(({ body }) => expectUser(body, "carol", "carol@example.com")),
  ),
  row("/change-password", "refuses a wrong old password", asAlice({ ...CHANGE, old_password: "wrong-password" }), refused(400, "invalid_credentials")),
  row("/change-password", "refuses a request without a token", () => ({ json: CHANGE }), refused(401, "not_authenticated")),
  row("/change-password", "refuses a bad token", () => ({ json: CHANGE, token: "not.a.token" }), refused(401, "invalid_token")),
  row("/change-password", "refuses a new password that is too short", asAlice({ ...CHANGE, new_password: "short" }), invalid("new_password")),
  row("/change-password", "refuses a request without the old password", asAlice({ new_password: "new-password-456" }), invalid("old_password")),

  row(
    "/verify",
    "answers the token's user",
    asAlice(),
    ok(({ body }, c) => {
      expectUser(body, "alice", "alice@example.com");
      expect(body.id).toBe(c.alice.id);
    }),
  ),
  row("/verify", "refuses a request without a token", () => ({}), refused(401, "not_authenticated")),
  row("/verify", "refuses a bad token", () => ({ token: "not.a.token" }), refused(401, "invalid_token")),

  row(
    "/check-user",
    "finds a user without regard to case",
    asAlice({ username: "ALICE" }),
    ok(({ body }, c) => expect(body).toEqual({ id: c.alice.id, username: "alice" })),
  ),
  row("/check-user", "answers user_not_found for an unknown username", asAlice({ username: "nobody" }), refused(404, "user_not_found")),
  row("/check-user", "refuses a request without a token", () => ({ json: { username: "alice" } }), refused(401, "not_authenticated")),
  row("/check-user", "refuses a request without a username", asAlice({}), invalid("username")),
  row(
    "/check-user",
    "reports a username that is not a string as invalid_type, not missing",
    asAlice({ username: 42 }),
    refused(422, "validation_error", ({ body }) =>
      expect(body.detail).toEqual([{ loc: ["body", "username"], msg: expect.stringContaining("expected string"), type: "invalid_type" }]),
    ),
  ),
];

describe("auth routes", () => {
  for (const { path, name, call, status, code, check } of rows) {
    test(`${path}: ${name} (${status}${code ? ` ${code}` : ""})`, async () => {
      const answer = await post(auth.url, path, call(ctx));
      // The body rides along so that a wrong status shows what the service said.
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status });
      if (code) expect(answer.body.code).toBe(code);
      if (status === 401) expect(answer.headers.get("www-authenticate")).toBe("Bearer");
      check?.(answer, ctx);
    });
  }
});
