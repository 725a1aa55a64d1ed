import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { logLines } from "../common/testing";
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
  auth = await startAuthService();
  const registered = await call("req-register", "/register", { json: { username: "alice", email: "alice@example.com", password: PASSWORD } });
  userId = String(registered.body.id);
  const first = (await call("req-login", "/token", { form: { username: "alice", password: PASSWORD } })).body.access_token as string;
  await call("req-login-wrong", "/token", { form: { username: "alice", password: WRONG_PASSWORD } });
  await call("req-login-unknown", "/token", { form: { username: "nobody", password: WRONG_PASSWORD } });
  await call("req-verify", "/verify", { token: first });
  await call("req-check", "/check-user", { json: { username: "alice" }, token: first });
  await call("req-change", "/change-password", { json: { old_password: PASSWORD, new_password: NEW_PASSWORD }, token: first });
  await call("req-verify-revoked", "/verify", { token: first });
  const second = (await call("req-login-new", "/token", { json: { username: "alice", password: NEW_PASSWORD } })).body.access_token as string;
  await call("req-verify-new", "/verify", { token: second });

  const [row] = await auth.db.sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE username = 'alice'`;
  secrets.push(first, second, first.split(".")[2]!, second.split(".")[2]!, row!.password_hash);
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
    for (const id of ["req-register", "req-login", "req-verify", "req-check", "req-change", "req-verify-new"]) {
      expect(byId(id)?.user_id).toBe(userId);
    }
    expect(byId("req-login-unknown")?.user_id).toBeUndefined();
  });

  test("records the business events with their request ids", () => {
    // Debug lines (the service logs them in tests) come and go with IS_DEBUG; events do not.
    const events = lines
      .filter((line) => line.event !== "request" && line.level !== "debug")
      .map(({ event, request_id, user_id, reason }) => ({ event, request_id, user_id, reason }));
    expect(events).toEqual([
      { event: "user_registered", request_id: "req-register", user_id: userId, reason: undefined },
      { event: "logged_in", request_id: "req-login", user_id: userId, reason: undefined },
      { event: "login_failed", request_id: "req-login-wrong", user_id: userId, reason: "wrong_password" },
      { event: "login_failed", request_id: "req-login-unknown", user_id: undefined, reason: "unknown_user" },
      { event: "password_changed", request_id: "req-change", user_id: userId, reason: undefined },
      { event: "logged_in", request_id: "req-login-new", user_id: userId, reason: undefined },
    ]);
  });

  test("holds no password, no token, no token signature and no password hash", () => {
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain("$argon2");
    expect(text.toLowerCase()).not.toContain("bearer ");
  });
});
