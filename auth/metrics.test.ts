import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { moved, promtoolCheckMetrics, scrape } from "../common/test-metrics";
import { del, get, login, post, refresh } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * Every counter of the auth service moves by exactly what its event says, and nothing else of
 * the service's own counters moves: each row does one thing and compares the whole change.
 */
let auth: RunningAuth;
const tokens: Record<string, string> = {};
const refreshTokens: string[] = [];
const PASSWORD = "password-123";

beforeAll(async () => {
  auth = await startAuthService({
    LOGIN_MAX_FAILURES_PER_ACCOUNT: "2",
    LOGIN_MAX_FAILURES_PER_ADDRESS: "1000",
    MAX_SESSIONS_PER_USER: "2",
    REFRESH_REUSE_GRACE_SECONDS: "0",
  });
  for (const name of ["bob", "carol", "dave", "erin", "frank", "gina"]) tokens[name] = (await registerAndLogin(auth.url, name, PASSWORD)).token;
  // Frank and Gina get a second session: Frank's first is deleted from his second, Gina's
  // third login evicts her oldest.
  for (const name of ["frank", "gina"]) tokens[name] = (await login(auth.url, name, PASSWORD)).body.access_token;
});
afterAll(() => auth.stop());

const register = (username: string, email = `${username}@example.com`) => post(auth.url, "/register", { json: { username, email, password: PASSWORD } });
const changePassword = (user: string, old_password: string) =>
  post(auth.url, "/change-password", { token: tokens[user], json: { old_password, new_password: "another-password-456" } });
async function loginKeepingRefreshToken() {
  const answer = await login(auth.url, "alice", PASSWORD);
  refreshTokens.push(answer.body.refresh_token);
}
async function refreshLatest() {
  const answer = await refresh(auth.url, refreshTokens.at(-1)!);
  expect(answer.status).toBe(200);
  refreshTokens.push(answer.body.refresh_token);
}
async function deleteOtherSession() {
  const sessions = (await get(auth.url, "/sessions", { token: tokens.frank })).body as { id: string; current: boolean }[];
  expect((await del(auth.url, `/sessions/${sessions.find((s) => !s.current)!.id}`, { token: tokens.frank })).status).toBe(204);
}

/** The service's own counters and its database errors; the request counters are checked per row. */
const WATCHED = /^(auth_|db_errors_total$)/;
const created = { auth_sessions_created_total: 1 };

const rows: [string, () => Promise<unknown>, Record<string, number>][] = [
  ["a registration", () => register("alice"), { 'auth_registrations_total{outcome="created"}': 1 }],
  ["a taken username", () => register("ALICE", "other@example.com"), { 'auth_registrations_total{outcome="username_taken"}': 1 }],
  ["a taken email", () => register("alice2", "alice@example.com"), { 'auth_registrations_total{outcome="email_taken"}': 1 }],
  ["a login, which starts a session", loginKeepingRefreshToken, { 'auth_logins_total{outcome="success"}': 1, ...created }],
  ["a wrong password", () => login(auth.url, "alice", "wrong-password"), { 'auth_logins_total{outcome="wrong_password"}': 1 }],
  ["an unknown user", () => login(auth.url, "nobody", "wrong-password"), { 'auth_logins_total{outcome="unknown_user"}': 1 }],
  [
    "two wrong passwords, then a throttled login",
    async () => {
      for (let i = 0; i < 3; i++) await login(auth.url, "bob", "wrong-password");
    },
    { 'auth_logins_total{outcome="wrong_password"}': 2, 'auth_logins_total{outcome="throttled"}': 1 },
  ],
  ["a refresh", refreshLatest, { auth_sessions_refreshed_total: 1 }],
  [
    "a spent refresh token presented again",
    () => refresh(auth.url, refreshTokens[0]!),
    { auth_refresh_token_reuse_total: 1, 'auth_sessions_ended_total{reason="refresh_token_reused"}': 1 },
  ],
  ["a logout", () => post(auth.url, "/logout", { token: tokens.erin }), { 'auth_sessions_ended_total{reason="logout"}': 1 }],
  ["a session deleted", deleteOtherSession, { 'auth_sessions_ended_total{reason="deleted"}': 1 }],
  [
    "a login over the sessions limit",
    () => login(auth.url, "gina", PASSWORD),
    { 'auth_logins_total{outcome="success"}': 1, ...created, 'auth_sessions_ended_total{reason="evicted"}': 1 },
  ],
  ["a wrong old password", () => changePassword("carol", "wrong-password"), { 'auth_password_changes_total{outcome="wrong_password"}': 1 }],
  [
    "a password change, which ends the user's sessions",
    () => changePassword("carol", PASSWORD),
    { 'auth_password_changes_total{outcome="changed"}': 1, 'auth_sessions_ended_total{reason="password_changed"}': 1 },
  ],
  [
    "two wrong old passwords, then a throttled change",
    async () => {
      for (let i = 0; i < 3; i++) await changePassword("dave", "wrong-password");
    },
    { 'auth_password_changes_total{outcome="wrong_password"}': 2, 'auth_password_changes_total{outcome="throttled"}': 1 },
  ],
];

describe("auth counters", () => {
  for (const [name, action, expected] of rows) {
    test(`${name} moves exactly its counters`, async () => {
      const before = await scrape(auth.metricsUrl!);
      await action();
      expect(moved(before, await scrape(auth.metricsUrl!), WATCHED)).toEqual(expected);
    });
  }

  test("a registration over the address's limit counts as throttled", async () => {
    const limited = await startAuthService({ REGISTRATION_MAX_PER_ADDRESS: "1" });
    try {
      const before = await scrape(limited.metricsUrl!);
      for (const name of ["first", "second"])
        await post(limited.url, "/register", { json: { username: name, email: `${name}@example.com`, password: PASSWORD } });
      expect(moved(before, await scrape(limited.metricsUrl!), WATCHED)).toEqual({
        'auth_registrations_total{outcome="created"}': 1,
        'auth_registrations_total{outcome="throttled"}': 1,
      });
    } finally {
      await limited.stop();
    }
  });
});

describe("the auth service's /metrics", () => {
  test("is on a port of its own, not on the service's port", async () => {
    expect(new URL(auth.metricsUrl!).port).not.toBe(new URL(auth.url).port);
    expect((await fetch(`${auth.url}/metrics`)).status).toBe(404);
  });

  test("counts requests by route template and status, never by raw path", async () => {
    const before = await scrape(auth.metricsUrl!);
    expect((await fetch(`${auth.url}/docs/swagger-ui-dist/swagger-ui.css`)).status).toBe(200);
    expect((await fetch(`${auth.url}/users/8675309/secret-path`)).status).toBe(404);
    expect((await post(auth.url, "/verify", { token: "garbage" })).status).toBe(401);
    const unknownSession = "5f0c9d1e-7a4b-4c1d-9e2f-0a1b2c3d4e5f";
    expect((await del(auth.url, `/sessions/${unknownSession}`, { token: tokens.gina })).status).toBe(404);
    const after = await scrape(auth.metricsUrl!);
    expect(moved(before, after, /^http_requests_total$/)).toEqual({
      'http_requests_total{method="DELETE",route="/sessions/:id",status="404"}': 1,
      'http_requests_total{method="GET",route="/docs/swagger-ui-dist/:file",status="200"}': 1,
      'http_requests_total{method="GET",route="unmatched",status="404"}': 1,
      'http_requests_total{method="POST",route="/verify",status="401"}': 1,
    });
    expect(after.value("http_request_duration_seconds_count", { route: "/verify", status: "401" })).toBeGreaterThanOrEqual(1);
    expect(after.text).not.toMatch(/8675309|secret-path|swagger-ui\.css|5f0c9d1e/);
  });

  test("shows the pool and the process, and passes promtool", async () => {
    const now = await scrape(auth.metricsUrl!);
    expect(now.value("db_pool_max_connections")).toBe(10);
    expect(now.value("db_pool_connections_in_use")).toBeNumber();
    expect(now.value("db_pool_queries_waiting")).toBeNumber();
    expect(now.value("process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(promtoolCheckMetrics(now.text)).toEqual({ exitCode: 0, output: "" });
  });

  test("is off with METRICS_PORT=0", async () => {
    const off = await startAuthService({ METRICS_PORT: "0" });
    try {
      expect(off.metricsUrl).toBeUndefined();
      expect((await fetch(`${off.url}/health`)).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
