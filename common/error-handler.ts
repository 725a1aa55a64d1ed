import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { errorCode, isDatabaseUnavailable } from "../db/errors";
import { ApiError, refuse, ValidationError } from "./errors";
import type { Logger } from "./logger";
import { SHARED_REFUSALS } from "./refusals";
import type { AppEnv } from "./request-context";

/** Hono's own exceptions (malformed JSON or form, unsupported media type) become contract errors. */
function fromHttpException(error: HTTPException): ApiError | ValidationError {
  if (error.status === 400 && /json/i.test(error.message)) {
    return new ValidationError([{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }]);
  }
  if (error.status === 415) return refuse(SHARED_REFUSALS.unsupported_media_type);
  if (error.status === 413) return refuse(SHARED_REFUSALS.payload_too_large);
  return refuse(SHARED_REFUSALS.malformed_form, { reason: error.message });
}

/** The single mapping from a thrown error to the JSON a client sees. */
export function errorHandler(log: Logger) {
  return (thrown: Error, c: Context<AppEnv>): Response => {
    const error = thrown instanceof HTTPException ? fromHttpException(thrown) : thrown;
    const requestId = c.get("requestId");
    if (error instanceof ValidationError) {
      // Only where and what kind: the values themselves may be passwords.
      log.debug("refused", { request_id: requestId, status: 422, code: "validation_error", fields: error.issues.map((i) => i.loc.join(".")) });
      return c.json({ detail: error.issues, code: "validation_error" }, 422);
    }
    if (error instanceof ApiError) {
      log.debug("refused", { request_id: requestId, status: error.status, code: error.code, reason: error.reason });
      return c.json({ detail: error.detail, code: error.code, ...error.fields }, error.status, error.headers);
    }
    if (isDatabaseUnavailable(error)) {
      log.warn("database_unavailable", { request_id: requestId, pg_code: errorCode(error) });
      const { detail, code, status } = SHARED_REFUSALS.database_unavailable;
      return c.json({ detail, code }, status);
    }
    // A Postgres error's message may quote SQL or data: it goes to the log only, never out.
    log.error("unhandled_error", {
      request_id: requestId,
      error: error.name,
      message: error.message,
      pg_code: errorCode(error),
      stack: error.stack,
    });
    return c.json({ detail: "Internal server error", code: "internal_error" }, 500);
  };
}

/** A route's path as a regular expression: `/sessions/:id` matches `/sessions/7`. */
const pattern = (path: string) => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+")}$`);

/** A known path asked with another method is a 405 with `Allow`, as FastAPI answers it; else 404. */
export function notFoundHandler(app: Hono<AppEnv>) {
  return (c: Context<AppEnv>): never => {
    const allowed = [...new Set(app.routes.filter((r) => r.method !== "ALL" && pattern(r.path).test(c.req.path)).map((r) => r.method))];
    if (allowed.length > 0) throw refuse(SHARED_REFUSALS.method_not_allowed, { headers: { Allow: allowed.join(", ") } });
    throw refuse(SHARED_REFUSALS.not_found);
  };
}
