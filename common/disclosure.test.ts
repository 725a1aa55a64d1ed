import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { registerAndLogin } from "../auth/test-server";
import { createTransactionApp } from "../transaction/app";
import { loadTransactionConfig } from "../transaction/config";
import { startServices, type Services } from "../transaction/test-client";
import { connect, type Sql } from "../db/connect";
import { DISCLOSING_HEADERS, DISCLOSURE } from "./fuzzing";
import { Logger } from "./logger";
import { serve, type Served } from "./server";
import { request, tempLogsDir, type Answer, type Call } from "./testing";

/**
 * No answer tells an attacker what runs behind it: no Server or X-Powered-By header, and no
 * error body with a framework's name, SQL, a stack, a file path or an internal hostname, on the
 * ordinary refusals and on the outage and bug paths (503s and a 500) alike.
 */
let services: Services;
let token: string;
const broken: { served: Served; log: Logger; sql: Sql; url: string }[] = [];

/** A transaction service whose database or auth service is not what it should be. */
function brokenTransaction(databaseUrl: string, authUrl: string): string {
  const sql = connect(databaseUrl, { max: 2 });
  const config = loadTransactionConfig({
    TRANS_DATABASE_URL: databaseUrl,
    AUTH_SERVICE_URL: authUrl,
    SECRET_KEY: services.trans.config.SECRET_KEY,
    LOGS_DIR: tempLogsDir("t"),
    ENV: "test",
    AUTH_TIMEOUT_MS: "500",
  });
  const log = new Logger({ file: `${config.LOGS_DIR}/t.log`, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
  const served = serve({ fetch: createTransactionApp({ sql, config, log }).fetch as never, port: 0, close: async () => {} });
  const url = `http://127.0.0.1:${served.port}`;
  broken.push({ served, log, sql, url });
  return url;
}

beforeAll(async () => {
  services = await startServices();
  token = (await registerAndLogin(services.auth.url, "alice")).token;
  await registerAndLogin(services.auth.url, "bob");
}, 30_000);
afterAll(async () => {
  for (const b of broken) {
    await b.served.shutdown();
    b.log.close();
    await b.sql.end({ timeout: 0 });
  }
  await services.stop();
});

function disclosures(name: string, answer: Answer): string[] {
  const found = DISCLOSING_HEADERS.filter((h) => answer.headers.has(h)).map((h) => `${name}: header ${h}: ${answer.headers.get(h)}`);
  const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
  const leak = answer.status >= 300 ? DISCLOSURE.exec(text) : null;
  if (leak) found.push(`${name}: ${answer.status} body shows "${leak[0]}": ${text.slice(0, 200)}`);
  return found;
}

type Case = [name: string, method: "GET" | "POST", path: string, call: () => Call, status: number];
const common: Case[] = [
  ["an unknown path", "GET", "/nowhere", () => ({}), 404],
  ["a missing docs asset", "GET", "/docs/swagger-ui-dist/../../package.json", () => ({}), 404],
  ["liveness", "GET", "/health", () => ({}), 200],
  ["readiness", "GET", "/ready", () => ({}), 200],
  ["the docs page", "GET", "/docs", () => ({}), 200],
  ["the OpenAPI document", "GET", "/openapi.json", () => ({}), 200],
];
const auth: Case[] = [
  ...common,
  ["a wrong method", "GET", "/register", () => ({}), 405],
  ["a body too large", "POST", "/register", () => ({ raw: "x".repeat(70_000), contentType: "application/json" }), 413],
  ["a body of another type", "POST", "/register", () => ({ raw: "<x/>", contentType: "application/xml" }), 415],
  ["broken JSON", "POST", "/register", () => ({ raw: '{"username": ', contentType: "application/json" }), 422],
  ["no token", "POST", "/verify", () => ({}), 401],
  ["a forged token", "POST", "/verify", () => ({ token: `${token.slice(0, -3)}abc` }), 401],
  ["a wrong password", "POST", "/token", () => ({ form: { username: "alice", password: "wrong-password" } }), 400],
  ["a taken username", "POST", "/register", () => ({ json: { username: "alice", email: "a2@example.com", password: "password-123" } }), 400],
];
const transaction: Case[] = [
  ...common,
  ["a wrong method", "GET", "/transfer", () => ({}), 405],
  ["a body of another type", "POST", "/transfer", () => ({ raw: "to=bob", contentType: "text/plain", token }), 415],
  ["an unknown receiver", "POST", "/transfer", () => ({ json: { receiver_username: "nobody", amount: 1 }, token }), 404],
  ["too much", "POST", "/transfer", () => ({ json: { receiver_username: "bob", amount: 1e9 }, token }), 400],
  ["an SQL injection as the receiver", "POST", "/transfer", () => ({ json: { receiver_username: "x' OR 1=1; --", amount: 1 }, token }), 404],
  ["a bad limit", "GET", "/transactions?limit=abc", () => ({ token }), 422],
];

describe("no answer discloses the implementation", () => {
  for (const [service, cases] of [
    ["auth", auth],
    ["transaction", transaction],
  ] as const) {
    test(`the ${service} service: ${cases.length} kinds of answer`, async () => {
      const url = service === "auth" ? services.auth.url : services.trans.url;
      const found: string[] = [];
      for (const [name, method, path, call, status] of cases) {
        const answer = await request(url, method, path, call());
        expect({ name, status: answer.status }).toEqual({ name, status });
        found.push(...disclosures(name, answer));
      }
      expect(found).toEqual([]);
    });
  }

  test("the transaction service with its auth service unreachable: a plain 503", async () => {
    const url = brokenTransaction(services.trans.db.url, "http://127.0.0.1:1");
    const answer = await request(url, "GET", "/account", { token });
    expect(answer.body).toEqual({ code: "auth_unavailable", detail: expect.any(String) });
    expect(disclosures("auth down", answer)).toEqual([]);
  });

  test("the transaction service with its database unreachable: a plain 503", async () => {
    const url = brokenTransaction("postgres://postgres@127.0.0.1:1/nowhere", services.auth.url);
    const answer = await request(url, "GET", "/account", { token });
    expect(answer.body).toEqual({ code: "database_unavailable", detail: expect.any(String) });
    expect(disclosures("database down", answer)).toEqual([]);
  });

  test("a bug (the transaction service on a database without its tables): a plain 500 that names nothing", async () => {
    const url = brokenTransaction(services.auth.db.url, services.auth.url);
    const answer = await request(url, "GET", "/account", { token });
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ detail: "Internal server error", code: "internal_error" });
    expect(disclosures("a bug", answer)).toEqual([]);
  });
});
