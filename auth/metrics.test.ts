import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { moved, promtoolCheckMetrics, scrape } from "../common/test-metrics";
import { login, post } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * Every counter of the auth service moves by exactly what its event says, and nothing else of
 * the service's own counters moves: each row does one thing and compares the whole change.
 */
let auth: RunningAuth;
const tokens: Record<string, string> = {};
const PASSWORD = "password-123";

beforeAll(async () => {
  auth = await startAuthService({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "2", LOGIN_MAX_FAILURES_PER_ADDRESS: "1000" });
  for (const name of ["bob", "carol", "dave"]) tokens[name] = (await registerAndLogin(auth.url, name, PASSWORD)).token;
});
afterAll(() => auth.stop());

const register = (username: string, email = `${username}@example.com`) => post(auth.url, "/register", { json: { username, email, password: PASSWORD } });
const changePassword = (user: string, old_password: string) =>
  post(auth.url, "/change-password", { token: tokens[user], json: { old_password, new_password: "another-password-456" } });

/** The service's own counters and its database errors; the request counters are checked per row. */
const WATCHED = /^(auth_|db_errors_total$)/;

const rows: [string, () => Promise<unknown>, Record<string, number>][] = [
  ["a registration", () => register("alice"), { 'auth_registrations_total{outcome="created"}': 1 }],
  // The unique index refuses the row: a class 23 error of the database, as it should be.
  [
    "a taken username",
    () => register("ALICE", "other@example.com"),
    { 'auth_registrations_total{outcome="username_taken"}': 1, 'db_errors_total{class="23"}': 1 },
  ],
  ["a taken email", () => register("alice2", "alice@example.com"), { 'auth_registrations_total{outcome="email_taken"}': 1, 'db_errors_total{class="23"}': 1 }],
  ["a login", () => login(auth.url, "alice", PASSWORD), { 'auth_logins_total{outcome="success"}': 1 }],
  ["a wrong password", () => login(auth.url, "alice", "wrong-password"), { 'auth_logins_total{outcome="wrong_password"}': 1 }],
  ["an unknown user", () => login(auth.url, "nobody", "wrong-password"), { 'auth_logins_total{outcome="unknown_user"}': 1 }],
  [
    "two wrong passwords, then a throttled login",
    async () => {
      for (let i = 0; i < 3; i++) await login(auth.url, "bob", "wrong-password");
    },
    { 'auth_logins_total{outcome="wrong_password"}': 2, 'auth_logins_total{outcome="throttled"}': 1 },
  ],
  ["a wrong old password", () => changePassword("carol", "wrong-password"), { 'auth_password_changes_total{outcome="wrong_password"}': 1 }],
  ["a password change", () => changePassword("carol", PASSWORD), { 'auth_password_changes_total{outcome="changed"}': 1 }],
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

  // Sessions arrive with issue 10; until then their counters are exported at 0.
  test("the session counters are exported", async () => {
    const now = await scrape(auth.metricsUrl!);
    for (const name of ["auth_sessions_created_total", "auth_sessions_refreshed_total", "auth_refresh_token_reuse_total", "auth_sessions_ended_total"]) {
      expect({ name, value: now.value(name) }).toEqual({ name, value: expect.any(Number) });
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
    const after = await scrape(auth.metricsUrl!);
    expect(moved(before, after, /^http_requests_total$/)).toEqual({
      'http_requests_total{method="GET",route="/docs/swagger-ui-dist/:file",status="200"}': 1,
      'http_requests_total{method="GET",route="unmatched",status="404"}': 1,
      'http_requests_total{method="POST",route="/verify",status="401"}': 1,
    });
    expect(after.value("http_request_duration_seconds_count", { route: "/verify", status: "401" })).toBeGreaterThanOrEqual(1);
    expect(after.text).not.toMatch(/8675309|secret-path|swagger-ui\.css/);
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
