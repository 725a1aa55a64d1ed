import { createMiddleware } from "hono/factory";
import type { Logger } from "./logger";
import { currentSpan } from "./trace";

/** What the shared plumbing keeps for a request; `user` is added only by a route's authentication. */
export interface AppVariables {
  requestId: string;
  /** For the request's log line, once known. */
  userId?: string;
}
export type AppEnv = { Variables: AppVariables };

/** The context of a route that an authentication middleware guards: its user is known. */
export type AuthenticatedEnv<User> = { Variables: AppVariables & { user: User } };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PROBES = new Set(["/health", "/ready"]);

/**
 * Gives each request an id (the caller's, if it is a sane one) that the response echoes and
 * every log line carries, and writes one log line per request when it is answered.
 */
export function requestContext(log: Logger) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set("requestId", requestId);
    // Set before the response exists, it is written into it as it is made; set after, Hono would
    // copy the whole response to add it (a profile of /verify showed several copies a request).
    c.header("X-Request-Id", requestId);
    await next();
    // A route that answers with a Response of its own (the docs' assets) did not take it.
    if (!c.res.headers.has("X-Request-Id")) c.header("X-Request-Id", requestId);
    // A container healthcheck asks every few seconds; its answers would bury the real traffic,
    // so a probe that succeeds is a debug line. A failing probe is logged like any request.
    const quiet = PROBES.has(c.req.path) && c.res.status < 300;
    (quiet ? log.debug : log.info).call(log, "request", {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      user_id: c.get("userId"),
      // The caller's span: in the auth service, the transaction service's span that asked.
      parent_span_id: currentSpan()?.parentId,
    });
  });
}
