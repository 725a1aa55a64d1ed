import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { refuse } from "./errors";
import { jsonResponse } from "./openapi";
import { SHARED_REFUSALS } from "./refusals";
import type { AppEnv } from "./request-context";
import { declareRoute } from "./route";

const READY_TIMEOUT_MS = 2000;

const healthRoute = declareRoute({
  method: "get",
  path: "/health",
  tags: ["service"],
  operationId: "health",
  summary: "Is the process alive?",
  description: "Liveness: 200 while the process answers at all. It does not touch the database.",
  responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }).openapi("Health"), "The process is alive.") },
  reachesDatabase: false,
});

const readyRoute = declareRoute({
  method: "get",
  path: "/ready",
  tags: ["service"],
  operationId: "ready",
  summary: "Can the service do its work?",
  description: "Readiness: 200 only when the service's database answers; a load balancer sends traffic only then.",
  responses: { 200: jsonResponse(z.object({ status: z.literal("ready") }).openapi("Ready"), "The database answers.") },
  refusals: [SHARED_REFUSALS.not_ready],
  // It asks the database itself, and answers for it with `not_ready`.
  reachesDatabase: false,
});

export const probesTag = { name: "service", description: "Liveness and readiness, for orchestrators and load balancers." };

/** Liveness and readiness; `ready` answers whether the service's database is reachable. */
export function probeRoutes(app: OpenAPIHono<AppEnv>, ready: () => Promise<boolean>) {
  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readyRoute, async (c) => {
    // A database that does not answer at all must not hold a load balancer's probe for long.
    const answered = await Promise.race([ready().catch(() => false), Bun.sleep(READY_TIMEOUT_MS).then(() => false)]);
    if (!answered) throw refuse(SHARED_REFUSALS.not_ready);
    return c.json({ status: "ready" as const }, 200);
  });
}
