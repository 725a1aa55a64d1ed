import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Logger } from "../common/logger";
import { serve } from "../common/server";
import { connect } from "../db/connect";
import { createAuthApp } from "./app";
import { post, type Call } from "./test-client";
import { registerAndLogin, startAuthService, type RunningAuth } from "./test-server";

// Each request that checks a password costs argon2id 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let auth: RunningAuth;
let token: string;
beforeAll(async () => {
  auth = await startAuthService();
  token = (await registerAndLogin(auth.url, "alice")).token;
});
afterAll(() => auth.stop());

describe("health, readiness and docs", () => {
  test("GET /health answers 200 {status: ok}", async () => {
    const response = await fetch(`${auth.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  test("GET /ready answers 200 while the database answers", async () => {
    expect((await fetch(`${auth.url}/ready`)).status).toBe(200);
  });

  test("GET /ready answers 503 not_ready when the database does not answer", async () => {
    const sql = connect("postgres://postgres@127.0.0.1:1/nowhere", { max: 1 });
    const log = new Logger({ file: `${auth.logFile}.unready`, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
    const served = serve({ fetch: createAuthApp({ sql, config: auth.config, log }).fetch, port: 0, close: () => sql.end({ timeout: 1 }) });
    try {
      const response = await fetch(`http://127.0.0.1:${served.port}/ready`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ code: "not_ready" });
      expect((await fetch(`http://127.0.0.1:${served.port}/health`)).status).toBe(200);
    } finally {
      await served.shutdown();
      log.close();
    }
  });

  test("GET /ready answers 503 within about 2 s when the database accepts connections but never answers", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const sql = connect(`postgres://postgres@127.0.0.1:${silent.port}/nowhere`, { max: 1 });
    const log = new Logger({ file: `${auth.logFile}.silent`, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
    const served = serve({ fetch: createAuthApp({ sql, config: auth.config, log }).fetch, port: 0, close: async () => {} });
    try {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${served.port}/ready`);
      expect(response.status).toBe(503);
      expect(performance.now() - started).toBeLessThan(3500);
    } finally {
      await served.shutdown();
      log.close();
      silent.stop(true);
      void sql.end({ timeout: 0 });
    }
  });

  test("GET /openapi.json is an OpenAPI 3.1.0 document with every auth route", async () => {
    const response = await fetch(`${auth.url}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/register", "/token", "/change-password", "/verify", "/check-user"]) {
      expect({ path, post: Boolean(doc.paths[path]?.post) }).toEqual({ path, post: true });
    }
  });

  test("GET /docs is an HTML page whose scripts and styles are served by the service itself", async () => {
    const response = await fetch(`${auth.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    const assets = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      expect({ asset, status: (await fetch(new URL(asset, `${auth.url}/docs`))).status }).toEqual({ asset, status: 200 });
    }
  });
});

describe("X-Request-Id", () => {
  const requests: [string, string, () => Call][] = [
    ["a 200", "/verify", () => ({ token })],
    ["a 400", "/token", () => ({ form: { username: "alice", password: "wrong-password" } })],
    ["a 401", "/verify", () => ({})],
    ["a 404", "/no-such-route", () => ({})],
    ["a 413", "/register", () => ({ raw: "x".repeat(70_000), contentType: "application/json" })],
    ["a 415", "/register", () => ({ raw: "x", contentType: "text/plain" })],
    ["a 422", "/register", () => ({ json: {} })],
  ];
  for (const [name, path, call] of requests) {
    test(`is a fresh UUID on ${name} when the request has none`, async () => {
      const answer = await post(auth.url, path, call());
      expect(name).toContain(String(answer.status));
      expect(answer.headers.get("x-request-id")).toMatch(UUID);
    });
  }

  test("is echoed when the request gives one", async () => {
    const response = await post(auth.url, "/verify", { token, headers: { "x-request-id": "client-42.retry:1" } });
    expect(response.headers.get("x-request-id")).toBe("client-42.retry:1");
  });

  test("is replaced when the given one could forge a log line", async () => {
    for (const given of ['bad id", "level": "error', "x".repeat(200), "<script>"]) {
      const response = await post(auth.url, "/verify", { token, headers: { "x-request-id": given } });
      expect(response.headers.get("x-request-id")).toMatch(UUID);
    }
  });

  test("GET /health and an unknown GET route carry one too, the latter with a JSON not_found", async () => {
    expect((await fetch(`${auth.url}/health`)).headers.get("x-request-id")).toMatch(UUID);
    const missing = await fetch(`${auth.url}/nowhere`);
    expect(missing.headers.get("x-request-id")).toMatch(UUID);
    expect(await missing.json()).toEqual({ detail: "Not Found", code: "not_found" });
  });

  test("a known path asked with the wrong method is a 405 naming the allowed method", async () => {
    const wrong = await fetch(`${auth.url}/register`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(wrong.headers.get("x-request-id")).toMatch(UUID);
    expect(await wrong.json()).toEqual({ detail: "Method Not Allowed", code: "method_not_allowed" });
  });
});
