import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import type { Registry } from "prom-client";
import { docsRoutes, type DocsOptions } from "./docs";
import { errorHandler, notFoundHandler } from "./error-handler";
import { fromZod } from "./errors";
import { limitBody } from "./limits";
import type { Logger } from "./logger";
import { httpMetrics } from "./metrics";
import { probeRoutes, probesTag } from "./probes";
import { type AppEnv, requestContext } from "./request-context";
import { traceContext } from "./trace";

export interface ServiceOptions extends DocsOptions {
  log: Logger;
  /** Answers whether the service's database is reachable, for `/ready`. */
  ready: () => Promise<boolean>;
  /** Where request metrics go; without one (METRICS_PORT=0) none are recorded. */
  registry?: Registry;
}

/**
 * Builds a service's Hono app with the plumbing both services share, one job per module: the
 * request context and its log line, the body limit, the error mapping with 404 and 405, the
 * probes, and the docs. The service adds its own routes to what this returns.
 */
export function createServiceApp(options: ServiceOptions): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      // @hono/zod-validator hands over the raw input as `data` on failure too; its type omits it.
      if (!result.success) throw fromZod(result.error, result.target, (result as { data?: unknown }).data);
    },
  });
  // The trace comes first, so that everything after it, the request's log line included, sees it.
  app.use(traceContext);
  if (options.registry) app.use(httpMetrics(options.registry));
  app.use(requestContext(options.log));
  app.use(limitBody());
  if (options.corsOrigins?.length) {
    const withCors = cors({
      origin: options.corsOrigins,
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id", "X-Requested-With", "Idempotency-Key"],
      exposeHeaders: ["X-Request-Id", "Retry-After", "Idempotent-Replayed"],
      maxAge: 600,
    });
    // Only a browser's cross-origin request carries Origin, and only it needs CORS headers; the
    // transaction service's calls to /verify do not, and Hono's cors middleware would make and
    // copy a response per request for nothing. Every answer still says it varies by Origin.
    app.use(async (c, next) => {
      if (c.req.header("origin") !== undefined) return withCors(c, next);
      c.header("Vary", "Origin");
      await next();
    });
  }
  app.onError(errorHandler(options.log));
  app.notFound(notFoundHandler(app));
  probeRoutes(app, options.ready);
  docsRoutes(app, { ...options, tags: [...options.tags, probesTag] });
  return app;
}
