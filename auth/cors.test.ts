import { afterAll, beforeAll, expect, test } from "bun:test";
import { startAuthService, type RunningAuth } from "./test-server";

/**
 * CORS only for requests that carry Origin (a browser's), and X-Request-Id on every answer,
 * whichever way the response was made: both are set early, so no response is copied for them.
 */
let auth: RunningAuth;
const ORIGIN = "http://localhost:8001";
beforeAll(async () => {
  auth = await startAuthService();
});
afterAll(() => auth.stop());

test("answers a preflight from an allowed origin with what the browser needs", async () => {
  const res = await fetch(`${auth.url}/token`, {
    method: "OPTIONS",
    headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  expect(res.status).toBe(204);
  expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  expect(res.headers.get("access-control-allow-headers")).toContain("Content-Type");
});

test("a cross-origin request gets the CORS headers and the request id it can read", async () => {
  const res = await fetch(`${auth.url}/health`, { headers: { origin: ORIGIN, "x-request-id": "req-cors" } });
  expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
  expect(res.headers.get("x-request-id")).toBe("req-cors");
  expect(res.headers.get("vary")).toContain("Origin");
});

test("an origin not allowed, or none, gets no CORS header; every answer says it varies by Origin", async () => {
  for (const headers of [{ origin: "http://evil.example" }, {}] as Record<string, string>[]) {
    const res = await fetch(`${auth.url}/health`, { headers });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("vary")).toContain("Origin");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  }
});

test("errors and the docs' own files carry X-Request-Id too", async () => {
  for (const [path, status] of [
    ["/nowhere", 404],
    ["/docs/swagger-ui-dist/swagger-ui.css", 200],
  ] as const) {
    const res = await fetch(`${auth.url}${path}`, { headers: { "x-request-id": `req-${status}` } });
    expect(res.status).toBe(status);
    expect(res.headers.get("x-request-id")).toBe(`req-${status}`);
  }
  const unauthorized = await fetch(`${auth.url}/verify`, { method: "POST", headers: { "x-request-id": "req-401" } });
  expect(unauthorized.status).toBe(401);
  expect(unauthorized.headers.get("x-request-id")).toBe("req-401");
});
