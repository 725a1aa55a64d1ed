import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import type { Logger } from "./logger";

/**
 * The one error type of both services. `code` is stable and machine-readable; `detail` keeps
 * FastAPI's shape so clients of the original service still read it.
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
    /** Why, for the debug log only; never sent, and never a token or a password. */
    readonly reason?: string,
  ) {
    super(detail);
  }

  /** What the client receives; a subclass may add fields that a standard asks for. */
  body(): Record<string, string> {
    return { detail: this.detail, code: this.code };
  }
}

export const unauthorized = (detail = "Could not validate credentials", code = "invalid_token", reason?: string) =>
  new ApiError(401, code, detail, { "WWW-Authenticate": "Bearer" }, reason);

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** A 422 in FastAPI's shape: `detail` is a list of `{loc, msg, type}`. */
export class ValidationError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super("validation error");
  }
}

const LOCATIONS: Record<string, string> = { json: "body", form: "body", query: "query", header: "header" };

/**
 * FastAPI names a missing field `missing`; every other zod issue keeps zod's own code. Zod
 * leaves the input out of its issues, so whether a field is missing is read from `input`.
 */
export function fromZod(error: ZodError, target: string, input: unknown): ValidationError {
  return new ValidationError(
    error.issues.map((issue) => {
      const missing = issue.code === "invalid_type" && valueAt(input, issue.path) === undefined;
      return {
        loc: [LOCATIONS[target] ?? target, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
        msg: missing ? "Field required" : issue.message,
        type: missing ? "missing" : issue.code,
      };
    }),
  );
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Hono's own exceptions (malformed JSON, unsupported media type) become contract errors. */
function fromHttpException(error: HTTPException): ApiError | ValidationError {
  if (error.status === 400 && /json/i.test(error.message)) {
    return new ValidationError([{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }]);
  }
  if (error.status === 415) return new ApiError(415, "unsupported_media_type", "Unsupported media type");
  if (error.status === 413) return new ApiError(413, "payload_too_large", "Request body too large");
  return new ApiError(400, "bad_request", "Bad request");
}

/**
 * postgres.js and PostgreSQL codes that mean the database cannot be reached or will not take
 * work right now: an outage, answered 503 so that a client retries, rather than a bug's 500.
 */
const DATABASE_UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);

export const DATABASE_UNAVAILABLE_ERROR = {
  code: "database_unavailable",
  detail: "The database is unavailable; try again (with the same Idempotency-Key)",
};

/** The single mapping from a thrown error to the JSON a client sees. */
export function errorHandler(log: Logger) {
  return (thrown: Error, c: Context): Response => {
    const error = thrown instanceof HTTPException ? fromHttpException(thrown) : thrown;
    if (error instanceof ValidationError) {
      // Only where and what kind: the values themselves may be passwords.
      log.debug("refused", { request_id: c.get("requestId"), status: 422, code: "validation_error", fields: error.issues.map((i) => i.loc.join(".")) });
      return c.json({ detail: error.issues, code: "validation_error" }, 422);
    }
    if (error instanceof ApiError) {
      log.debug("refused", { request_id: c.get("requestId"), status: error.status, code: error.code, reason: error.reason });
      return c.json(error.body(), error.status, error.headers);
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && DATABASE_UNAVAILABLE.has(code)) {
      log.warn("database_unavailable", { request_id: c.get("requestId"), pg_code: code });
      return c.json(DATABASE_UNAVAILABLE_ERROR, 503);
    }
    // A Postgres error's message may quote SQL or data: it goes to the log only, never out.
    log.error("unhandled_error", {
      request_id: c.get("requestId"),
      error: error.name,
      message: error.message,
      pg_code: code,
      stack: error.stack,
    });
    return c.json({ detail: "Internal server error", code: "internal_error" }, 500);
  };
}
