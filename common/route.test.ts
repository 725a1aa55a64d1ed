import { describe, expect, test } from "bun:test";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { refuse } from "./errors";
import { jsonBody, jsonResponse } from "./openapi";
import { SHARED_REFUSALS } from "./refusals";
import type { AppEnv, AuthenticatedEnv } from "./request-context";
import { declareRoute, guard } from "./route";

const ok = { 200: jsonResponse(z.object({ ok: z.boolean() }), "Fine.") };
const authenticate = guard(
  createMiddleware<AuthenticatedEnv<{ name: string }>>(async (c, next) => {
    if (!c.req.header("authorization")) throw refuse(SHARED_REFUSALS.not_authenticated);
    c.set("user", { name: "alice" });
    await next();
  }),
  [SHARED_REFUSALS.not_authenticated],
);

const statuses = (route: { responses: object }) => Object.keys(route.responses).sort();
// The route's type keeps only its success responses (the handler throws the rest), so the documented ones are read untyped.
const response = (route: { responses: object }, status: number) => (route.responses as Record<number, any>)[status];

describe("declareRoute documents each response a route can give, from the catalogue", () => {
  test("a guarded route with a JSON body: its guard's 401 and what a body brings (413, 415, 422), and the outage's 503", () => {
    const route = declareRoute({
      method: "post",
      path: "/thing",
      middleware: authenticate,
      request: { body: jsonBody(z.object({ a: z.string() }), "A thing.") },
      responses: ok,
      refusals: [SHARED_REFUSALS.not_found],
    });
    expect(statuses(route)).toEqual(["200", "401", "404", "413", "415", "422", "503"]);
    expect(Object.keys(response(route, 401).headers)).toEqual(["WWW-Authenticate", "X-Request-Id"]);
    expect(response(route, 422).description).toContain("`validation_error`");
    expect("refusals" in route).toBe(false);
  });

  test("a GET with nothing to validate that never touches the database: its own refusals only", () => {
    const route = declareRoute({ method: "get", path: "/ping", responses: ok, refusals: [SHARED_REFUSALS.not_ready], reachesDatabase: false });
    expect(statuses(route)).toEqual(["200", "503"]);
    expect(response(route, 503).description).toContain("`not_ready`");
    expect(response(route, 503).description).not.toContain("database_unavailable");
  });

  test("a form route may also be a 400 bad_request, for a form that cannot be parsed", () => {
    const form = { content: { "application/x-www-form-urlencoded": { schema: z.object({ a: z.string() }) } } };
    const route = declareRoute({ method: "post", path: "/form", request: { body: form }, responses: ok });
    expect(response(route, 400).description).toContain("`bad_request`");
  });

  test("only a guarded route's handler can read the user, and the guard's refusal is what it throws", async () => {
    const app = new OpenAPIHono<AppEnv>();
    app.onError((error, c) => c.json({ code: (error as { code?: string }).code }, 401));
    const guarded = declareRoute({ method: "get", path: "/me", middleware: authenticate, responses: ok });
    app.openapi(guarded, (c) => c.json({ ok: c.get("user").name === "alice" }, 200));
    const open = declareRoute({ method: "get", path: "/open", responses: ok });
    // @ts-expect-error `user` is not a variable of a route that no authentication guards.
    app.openapi(open, (c) => c.json({ ok: c.get("user") === undefined }, 200));
    expect(await (await app.request("/me", { headers: { authorization: "Bearer x" } })).json()).toEqual({ ok: true });
    expect(await (await app.request("/me")).json()).toEqual({ code: "not_authenticated" });
  });
});
