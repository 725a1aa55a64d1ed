import type { ZodError } from "zod";
import type { Refusal, RefusalStatus } from "./refusals";

/**
 * The one error type of both services, always built from a catalogue entry (see `refuse`).
 * `code` is stable and machine-readable; `detail` keeps FastAPI's shape so that clients of the
 * original service still read it.
 */
export class ApiError extends Error {
  readonly status: RefusalStatus;
  readonly code: string;
  readonly detail: string;
  /** Fields a standard asks for beside `detail` and `code` (RFC 6749's `error` at /token). */
  readonly fields: Record<string, string>;

  constructor(
    refusal: Refusal,
    readonly headers: Record<string, string>,
    /** Why, for the debug log only; never sent, and never a token or a password. */
    readonly reason?: string,
  ) {
    super(refusal.detail);
    this.status = refusal.status;
    this.code = refusal.code;
    this.detail = refusal.detail;
    this.fields = refusal.fields ?? {};
  }
}

/**
 * The error to throw for a catalogue entry. A header the entry fixes (`WWW-Authenticate`) is
 * added here; one it leaves open (`Retry-After`, `Allow`) must be given, since the docs
 * promise it.
 */
export function refuse(refusal: Refusal, extra: { headers?: Record<string, string>; reason?: string } = {}): ApiError {
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(refusal.headers ?? {})) {
    const value = header.value ?? extra.headers?.[name];
    if (value === undefined) throw new Error(`refusal ${refusal.code} needs its ${name} header`);
    headers[name] = value;
  }
  return new ApiError(refusal, headers, extra.reason);
}

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
