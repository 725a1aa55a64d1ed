import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { logLines } from "../common/testing";
import { login, post } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/** What the README promises of the auth service that no other test holds it to: refusal events in the log, and CORS. */
const ALLOWED = "http://docs.example:8001";
let auth: RunningAuth;
let token: string;

beforeAll(async () => {
  auth = await startAuthService({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "2", CORS_ORIGINS: ALLOWED });
  token = (await registerAndLogin(auth.url, "alice", "password-123")).token;
});
afterAll(() => auth.stop());

const event = async (name: string, requestId: string) => (await logLines(auth.logFile)).find((line) => line.event === name && line.request_id === requestId);

describe("refusals are logged as the README lists them", () => {
  test("registration_refused, with the reason, for a taken username and a taken email", async () => {
    const taken = { username: "ALICE", email: "new@example.com", password: "password-123" };
    await post(auth.url, "/register", { json: taken, headers: { "x-request-id": "taken-name" } });
    await post(auth.url, "/register", { json: { ...taken, username: "other", email: "alice@example.com" }, headers: { "x-request-id": "taken-email" } });
    expect(await event("registration_refused", "taken-name")).toMatchObject({ level: "info", reason: "username_taken" });
    expect(await event("registration_refused", "taken-email")).toMatchObject({ level: "info", reason: "email_taken" });
  });

  test("password_change_refused for a wrong old password, naming the user", async () => {
    const answer = await post(auth.url, "/change-password", {
      json: { old_password: "wrong-password", new_password: "new-password-1" },
      token,
      headers: { "x-request-id": "wrong-old" },
    });
    expect(answer.status).toBe(400);
    expect(await event("password_change_refused", "wrong-old")).toMatchObject({ reason: "wrong_password", user_id: expect.any(String) });
  });

  test("login_throttled once the account's failures reach the limit", async () => {
    await login(auth.url, "alice", "wrong-password");
    const answer = await post(auth.url, "/token", { form: { username: "alice", password: "wrong-password" }, headers: { "x-request-id": "throttled" } });
    expect(answer.status).toBe(429);
    expect(await event("login_throttled", "throttled")).toMatchObject({ level: "warn", retry_after_s: expect.any(Number) });
  });
});

describe("CORS", () => {
  const preflight = (origin: string) =>
    fetch(`${auth.url}/token`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });

  test("an allowed origin may call the service from a browser", async () => {
    const answer = await preflight(ALLOWED);
    expect(answer.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
  });

  test("any other origin gets no permission, on the preflight or on the request itself", async () => {
    for (const origin of ["http://evil.example", "http://docs.example:8002", "null"]) {
      expect({ origin, allowed: (await preflight(origin)).headers.get("access-control-allow-origin") }).toEqual({ origin, allowed: null });
      const real = await fetch(`${auth.url}/health`, { headers: { origin } });
      expect({ origin, allowed: real.headers.get("access-control-allow-origin") }).toEqual({ origin, allowed: null });
    }
  });
});
