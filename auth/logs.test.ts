import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { logLines, logsWritten } from "../common/testing";
import { post, type Call } from "./test-client";
import { startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

const PASSWORD = "s3cret-Password-1";
const NEW_PASSWORD = "N3w-Secret-Pass-2";
const WRONG_PASSWORD = "Wrong-Pass-999";

type Line = Record<string, unknown> & { time: string; level: string; event: string };

let auth: RunningAuth;
let lines: Line[];
let text: string;
const secrets: string[] = [PASSWORD, NEW_PASSWORD, WRONG_PASSWORD];
const sent: { requestId: string; path: string; status: number }[] = [];
let userId: string;

/** One request with a known request id, remembered so the log can be checked against it. */
async function call(requestId: string, path: string, request: Call) {
  const answer = await post(auth.url, path, { ...request, headers: { "x-request-id": requestId } });
  sent.push({ requestId, path, status: answer.status });
  return answer;
}

beforeAll(async () => {
  // No grace: the second use of a spent refresh token is reuse at once.
  auth = await startAuthService({ REFRESH_REUSE_GRACE_SECONDS: "0" });
  const registered = await call("req-register", "/register", { json: { username: "alice", email: "alice@example.com", password: PASSWORD } });
  userId = String(registered.body.id);
  const first = (await call("req-login", "/token", { form: { username: "alice", password: PASSWORD } })).body;
  await call("req-login-wrong", "/token", { form: { username: "alice", password: WRONG_PASSWORD } });
  await call("req-login-unknown", "/token", { form: { username: "nobody", password: WRONG_PASSWORD } });
  await call("req-verify", "/verify", { token: first.access_token });
  await call("req-check", "/check-user", { json: { username: "alice" }, token: first.access_token });
  const refreshed = (await call("req-refresh", "/token", { form: { grant_type: "refresh_token", refresh_token: first.refresh_token } })).body;
  await call("req-reuse", "/token", { form: { grant_type: "refresh_token", refresh_token: first.refresh_token } });
  const second = (await call("req-login-2", "/token", { form: { username: "alice", password: PASSWORD } })).body;
  await call("req-change", "/change-password", { json: { old_password: PASSWORD, new_password: NEW_PASSWORD }, token: second.access_token });
  await call("req-verify-revoked", "/verify", { token: second.access_token });
  const third = (await call("req-login-new", "/token", { json: { username: "alice", password: NEW_PASSWORD } })).body;
  await call("req-verify-new", "/verify", { token: third.access_token });
  await call("req-logout", "/logout", { token: third.access_token });

  const [row] = await auth.db.sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE username = 'alice'`;
  for (const tokens of [first, refreshed, second, third]) {
    secrets.push(tokens.access_token, tokens.access_token.split(".")[2], tokens.refresh_token);
  }
  secrets.push(row!.password_hash);
  await logsWritten();
  text = readFileSync(auth.logFile, "utf8");
  lines = (await logLines(auth.logFile)) as Line[];
});
afterAll(() => auth.stop());

describe("the auth service's log", () => {
  test("is JSON lines, each with time, level and event", () => {
    for (const line of lines) {
      expect(new Date(line.time).toISOString()).toBe(line.time);
      expect(["debug", "info", "warn", "error"]).toContain(line.level);
      expect(typeof line.event).toBe("string");
    }
  });

  test("has one request line per request with method, path, status, duration_ms and the given request id", () => {
    const requests = lines.filter((line) => line.event === "request");
    expect(requests.map((line) => ({ requestId: line.request_id, path: line.path, status: line.status }))).toEqual(sent);
    for (const line of requests) {
      expect(line.method).toBe("POST");
      expect(typeof line.duration_ms).toBe("number");
      expect(line.duration_ms as number).toBeGreaterThanOrEqual(0);
    }
  });

  test("names the user on request lines once the user is known", () => {
    const byId = (id: string) => lines.find((line) => line.event === "request" && line.request_id === id);
    for (const id of ["req-register", "req-login", "req-verify", "req-check", "req-refresh", "req-change", "req-verify-new", "req-logout"]) {
      expect(byId(id)?.user_id).toBe(userId);
    }
    expect(byId("req-login-unknown")?.user_id).toBeUndefined();
  });

  test("records the business events with their request ids", () => {
    // Debug lines (the service logs them in tests) come and go with IS_DEBUG; events do not.
    const events = lines
      .filter((line) => line.event !== "request" && line.level !== "debug")
      .map(({ event, request_id, user_id, reason }) => ({ event, request_id, user_id, reason }));
    const event = (name: string, requestId: string, reason?: string) => ({ event: name, request_id: requestId, user_id: userId, reason });
    expect(events).toEqual([
      event("user_registered", "req-register"),
      event("logged_in", "req-login"),
      event("session_created", "req-login"),
      event("login_failed", "req-login-wrong", "wrong_password"),
      { event: "login_failed", request_id: "req-login-unknown", user_id: undefined, reason: "unknown_user" },
      event("token_refreshed", "req-refresh"),
      event("refresh_token_reused", "req-reuse"),
      event("session_ended", "req-reuse", "refresh_token_reused"),
      event("logged_in", "req-login-2"),
      event("session_created", "req-login-2"),
      event("password_changed", "req-change"),
      event("session_ended", "req-change", "password_changed"),
      event("logged_in", "req-login-new"),
      event("session_created", "req-login-new"),
      event("logged_out", "req-logout"),
      event("session_ended", "req-logout", "logout"),
    ]);
  });

  test("names the session on the session events, and how many sessions ended", () => {
    const ended = lines.filter((line) => line.event === "session_ended").map(({ reason, sessions }) => ({ reason, sessions }));
    expect(ended).toEqual([
      { reason: "refresh_token_reused", sessions: 1 },
      // The reuse already ended the first login's session, so the change ends only the second's.
      { reason: "password_changed", sessions: 1 },
      { reason: "logout", sessions: 1 },
    ]);
    for (const line of lines.filter((l) => ["session_created", "token_refreshed", "refresh_token_reused", "logged_out"].includes(l.event))) {
      expect(String(line.session_id)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test("holds no password, no token, no token signature and no password hash", () => {
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain("$argon2");
    expect(text.toLowerCase()).not.toContain("bearer ");
  });
});
