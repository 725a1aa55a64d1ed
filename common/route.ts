import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { strictUtf8 } from "./limits";
import { refusalResponses, requestIdResponseHeader } from "./openapi";
import { type Refusal, SHARED_REFUSALS } from "./refusals";

/** A route middleware (authentication, say) with the refusals it can answer instead of the route. */
export type Guard<M extends MiddlewareHandler = MiddlewareHandler> = M & { refusals: readonly Refusal[] };

export const guard = <M extends MiddlewareHandler>(middleware: M, refusals: readonly Refusal[]): Guard<M> => Object.assign(middleware, { refusals });

const FORM = /multipart\/form-data|application\/x-www-form-urlencoded/;

interface Declaration {
  /** The catalogue entries the handler itself can throw. */
  refusals?: readonly Refusal[];
  /** False for a route that never touches the database (the probes). */
  reachesDatabase?: boolean;
}

/**
 * `createRoute`, with every error response the route can give written into its documentation
 * from the catalogue: the handler's own `refusals`, those of its guards, and what the shared
 * plumbing adds to every route that can produce it (413 for a body over the limit, 415 and 422
 * for a route that reads a body, 422 for any validated input, 503 when the database does not
 * answer). Success responses are the route's own; every response gets `X-Request-Id`.
 */
export function declareRoute<R extends RouteConfig>(route: R & Declaration) {
  const { refusals = [], reachesDatabase = true, ...config } = route;
  const request = config.request;
  const bodyTypes = Object.keys(request?.body?.content ?? {});
  const guards = [config.middleware ?? []].flat() as Partial<Guard>[];
  const all = [
    ...guards.flatMap((m) => m.refusals ?? []),
    ...refusals,
    // Bun drops the body of a GET before any code sees it.
    ...(config.method === "get" ? [] : [SHARED_REFUSALS.payload_too_large]),
    ...(bodyTypes.length > 0 ? [SHARED_REFUSALS.unsupported_media_type] : []),
    ...(bodyTypes.some((type) => FORM.test(type)) ? [SHARED_REFUSALS.malformed_form] : []),
    ...(reachesDatabase ? [SHARED_REFUSALS.database_unavailable] : []),
  ];
  const validated = Boolean(request && (request.body || request.query || request.params || request.headers || request.cookies));
  const responses = Object.fromEntries(
    Object.entries({ ...refusalResponses(all, validated), ...config.responses }).map(([status, response]) => [
      status,
      { ...response, headers: { ...("headers" in response ? response.headers : {}), "X-Request-Id": requestIdResponseHeader } },
    ]),
  );
  // After the guards, so that a request without a valid token is a 401 whatever its body.
  const middleware = bodyTypes.some((type) => /json/.test(type)) ? [...guards, strictUtf8()] : config.middleware;
  // The type stays the route's own: handlers answer only its success responses and throw the rest.
  return createRoute({ ...config, middleware, responses } as unknown as R) as ReturnType<typeof createRoute<R["path"], R>>;
}
