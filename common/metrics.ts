import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";

/**
 * prom-client's default metrics that are wrong or empty on Bun (checked on Bun 1.4 by
 * common/metrics.test.ts): the active handle/request/resource counts are always 0; the heap
 * total is smaller than the heap used (and it carries the collection of the used and external
 * sizes, so the three go together); `process_heap_bytes` is VmData (Bun reserves gigabytes of
 * address space it never touches); the version is the Node.js that Bun imitates; and no GC event
 * ever reaches the GC histogram. What stays, and was seen to move: CPU seconds, resident memory
 * (RSS), virtual memory, open and maximum file descriptors, start time, event-loop lag, and the
 * heap spaces, where Bun reports its whole heap as `space="old"` and the other spaces as 0.
 * (Bun has one event-loop monitor per process, which each collection resets: two registries in
 * one process, as in the tests, share its figures.)
 */
export const BROKEN_ON_BUN = [
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_heap_size_total_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_external_memory_bytes",
  "process_heap_bytes",
  "nodejs_version_info",
  "nodejs_gc_duration_seconds",
];

/** One registry per service instance (tests run both services in one process). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of BROKEN_ON_BUN) registry.removeSingleMetric(name);
  return registry;
}

/** A counter whose every label value is exported from the start, at 0, so rate() and alerts see it before the first event. */
export function labelledCounter<V extends string>(registry: Registry, name: string, help: string, label: string, values: readonly V[]) {
  const counter = new Counter({ name, help, labelNames: [label], registers: [registry] });
  for (const value of values) counter.inc({ [label]: value }, 0);
  return (value: V, by = 1) => counter.inc({ [label]: value }, by);
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** The route label of a request no route answered (404, 405, a CORS preflight): never its raw path. */
export const UNMATCHED = "unmatched";

/**
 * The template of the route that answered (`/sessions/:id`), never the raw path, so that the
 * number of series stays bounded whatever clients ask for. Middleware is registered for every
 * method (`ALL`); the last matched route of a real method is the handler.
 */
function routeTemplate(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) if (routes[i]!.method !== "ALL") return routes[i]!.path;
  return UNMATCHED;
}

/** Counts and times every request by method, route template and status. */
export function httpMetrics(registry: Registry): MiddlewareHandler {
  const labelNames = ["method", "route", "status"];
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from a request's arrival to its answer, by method, route template and status.",
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return async (c, next) => {
    const started = performance.now();
    await next();
    const labels = { method: METHODS.has(c.req.method) ? c.req.method : "other", route: routeTemplate(c), status: String(c.res.status) };
    requests.inc(labels);
    duration.observe(labels, (performance.now() - started) / 1000);
  };
}

/**
 * `GET /metrics` on its own port, so that the service's port (the one published to clients)
 * never shows it; Prometheus reaches the management port from inside the network.
 */
export function serveMetrics(registry: Registry, port: number): Bun.Server<undefined> {
  return Bun.serve({
    port,
    hostname: "0.0.0.0",
    async fetch(request) {
      if (new URL(request.url).pathname !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
        return new Response("Not Found\n", { status: 404 });
      }
      return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
    },
  });
}
