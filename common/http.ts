import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { dirname } from "node:path";
import type { Registry } from "prom-client";
import { ApiError, errorHandler, fromZod } from "./errors";
import type { Logger } from "./logger";
import { httpMetrics } from "./metrics";
import { errorResponse, jsonResponse, withSharedBehaviour } from "./openapi";
import { currentSpan, traceContext } from "./trace";

/** `user` is whatever the service's authentication middleware puts there. */
export interface AppVariables<User = unknown> {
  requestId: string;
  userId?: string;
  user: User;
}
export type AppEnv<User = unknown> = { Variables: AppVariables<User> };

export interface ServiceOptions {
  title: string;
  description: string;
  log: Logger;
  /** Answers whether the service's database is reachable, for `/ready`. */
  ready: () => Promise<boolean>;
  securitySchemes: Record<string, SecurityScheme>;
  /** The service's own tags, with a sentence each for the docs page. */
  tags: { name: string; description: string }[];
  /** Origins allowed to call this service from a browser (another service's Swagger UI). */
  corsOrigins?: string[];
  /** Where request metrics go; without one (METRICS_PORT=0) none are recorded. */
  registry?: Registry;
}

type SecurityScheme = Parameters<OpenAPIHono["openAPIRegistry"]["registerComponent"]>[2];

const READY_TIMEOUT_MS = 2000;
const MAX_BODY_BYTES = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SWAGGER_ASSETS = new Set(["swagger-ui.css", "swagger-ui-bundle.js"]);
const swaggerDist = dirname(Bun.resolveSync("swagger-ui-dist/package.json", import.meta.dir));

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["service"],
  operationId: "health",
  summary: "Is the process alive?",
  description: "Liveness: 200 while the process answers at all. It does not touch the database.",
  responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }).openapi("Health"), "The process is alive.") },
});
const readyRoute = createRoute({
  method: "get",
  path: "/ready",
  tags: ["service"],
  operationId: "ready",
  summary: "Can the service do its work?",
  description: "Readiness: 200 only when the service's database answers; a load balancer sends traffic only then.",
  responses: {
    200: jsonResponse(z.object({ status: z.literal("ready") }).openapi("Ready"), "The database answers."),
    503: errorResponse("The database does not answer.", { code: "not_ready", detail: "Database unavailable" }),
  },
});

/**
 * Builds a service's Hono app with the plumbing both services share: request ids, one log line
 * per request, the body limit, the error mapping, health and readiness, and the docs. The
 * service adds its own routes to what this returns.
 */
export function createServiceApp<User>(options: ServiceOptions): OpenAPIHono<AppEnv<User>> {
  const { log } = options;
  const app = new OpenAPIHono<AppEnv<User>>({
    defaultHook: (result) => {
      // @hono/zod-validator hands over the raw input as `data` on failure too; its type omits it.
      if (!result.success) throw fromZod(result.error, result.target, (result as { data?: unknown }).data);
    },
  });

  app.use(traceContext);
  if (options.registry) app.use(httpMetrics(options.registry));
  app.use(async (c, next) => {
    const started = performance.now();
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    c.header("X-Request-Id", requestId);
    log.info("request", {
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
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(413, "payload_too_large", `Request body larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  if (options.corsOrigins?.length) {
    app.use(
      cors({
        origin: options.corsOrigins,
        allowHeaders: ["Authorization", "Content-Type", "X-Request-Id", "X-Requested-With", "Idempotency-Key"],
        exposeHeaders: ["X-Request-Id", "Retry-After", "Idempotent-Replayed"],
        maxAge: 600,
      }),
    );
  }
  app.onError(errorHandler(log));
  // A known path asked with another method is a 405 with `Allow`, as FastAPI answers it.
  app.notFound((c) => {
    const allowed = [...new Set(app.routes.filter((r) => r.path === c.req.path && r.method !== "ALL").map((r) => r.method))];
    if (allowed.length > 0) throw new ApiError(405, "method_not_allowed", "Method Not Allowed", { Allow: allowed.join(", ") });
    throw new ApiError(404, "not_found", "Not Found");
  });

  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readyRoute, async (c) =>
    // A database that does not answer at all must not hold a load balancer's probe for long.
    (await Promise.race([options.ready().catch(() => false), Bun.sleep(READY_TIMEOUT_MS).then(() => false)]))
      ? c.json({ status: "ready" as const }, 200)
      : c.json({ detail: "Database unavailable", code: "not_ready" }, 503),
  );

  for (const [name, scheme] of Object.entries(options.securitySchemes)) {
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  }
  const tags = [...options.tags, { name: "service", description: "Liveness and readiness, for orchestrators and load balancers." }];
  app.get("/openapi.json", (c) =>
    c.json(
      withSharedBehaviour(
        app.getOpenAPI31Document({
          openapi: "3.1.0",
          info: { title: options.title, version: "1.0.0", description: options.description },
          tags,
        }),
        MAX_BODY_BYTES,
      ),
    ),
  );
  // `validatorUrl: "none"`: Swagger UI would otherwise send the document to validator.swagger.io.
  app.get(
    "/docs",
    swaggerUI({
      url: "/openapi.json",
      baseUrl: "/docs",
      title: options.title,
      persistAuthorization: true,
      displayRequestDuration: true,
      validatorUrl: "none",
    }),
  );
  // @hono/swagger-ui points at `${baseUrl}/swagger-ui-dist/…`; the files come from the
  // swagger-ui-dist package, so the page works with no internet access.
  app.get("/docs/swagger-ui-dist/:file", (c) => {
    const file = c.req.param("file");
    if (!SWAGGER_ASSETS.has(file)) throw new ApiError(404, "not_found", "Not Found");
    return new Response(Bun.file(`${swaggerDist}/${file}`), {
      headers: { "Cache-Control": "public, max-age=86400" },
    });
  });
  return app;
}
