/**
 * The catalogue of refusals: every error a client can get, each written once with its status,
 * code, detail and headers. The documented responses (common/route.ts) and the thrown errors
 * (`refuse` in common/errors.ts) are both built from these entries, so they cannot drift apart.
 * Each service adds its own entries to these shared ones in `<service>/refusals.ts`.
 */

export type RefusalStatus = 400 | 401 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503;

/** A header a refusal carries; one without a `value` is filled in when the error is thrown. */
export interface RefusalHeader {
  description: string;
  type: "string" | "integer";
  value?: string;
}

export interface Refusal {
  status: RefusalStatus;
  /** Stable, machine-readable snake_case; clients branch on it. */
  code: string;
  /** FastAPI's `detail`: a sentence for humans. */
  detail: string;
  /** When a client gets it: one sentence for the documentation. */
  when: string;
  headers?: Record<string, RefusalHeader>;
  /** Fields of the body beside `detail` and `code` that a standard asks for (RFC 6749's `error`). */
  fields?: Record<string, string>;
}

/** Keeps each entry's key in its type, so that a misspelt `REFUSALS.x` fails to compile. */
export const catalogue = <const T extends Record<string, Refusal>>(entries: T): T => entries;

/** The request body limit of both services; a larger body is refused before any route runs. */
export const MAX_BODY_BYTES = 64 * 1024;

const bearerChallenge = { description: "Always `Bearer`.", type: "string", value: "Bearer" } as const;

/** What the shared plumbing refuses, on whichever route it happens. */
export const SHARED_REFUSALS = catalogue({
  not_authenticated: {
    status: 401,
    code: "not_authenticated",
    detail: "Not authenticated",
    when: "No `Authorization: Bearer` header.",
    headers: { "WWW-Authenticate": bearerChallenge },
  },
  invalid_token: {
    status: 401,
    code: "invalid_token",
    detail: "Could not validate credentials",
    when: "A malformed, expired, wrongly signed or revoked token.",
    headers: { "WWW-Authenticate": bearerChallenge },
  },
  not_found: { status: 404, code: "not_found", detail: "Not Found", when: "No such path." },
  method_not_allowed: {
    status: 405,
    code: "method_not_allowed",
    detail: "Method Not Allowed",
    when: "A known path asked with a method it does not serve.",
    headers: { Allow: { description: "The methods the path serves, such as `POST`.", type: "string" } },
  },
  payload_too_large: {
    status: 413,
    code: "payload_too_large",
    detail: `Request body larger than ${MAX_BODY_BYTES} bytes`,
    when: `The body is larger than ${MAX_BODY_BYTES} bytes.`,
  },
  unsupported_media_type: {
    status: 415,
    code: "unsupported_media_type",
    detail: "Unsupported media type",
    when: "The body is not of a media type the route reads.",
  },
  malformed_form: {
    status: 400,
    code: "bad_request",
    detail: "Bad request",
    when: "A form body that cannot be parsed (a broken multipart body, say).",
  },
  database_unavailable: {
    status: 503,
    code: "database_unavailable",
    detail: "The database is unavailable; try again (with the same Idempotency-Key)",
    when: "The service's database did not answer; try again.",
  },
  not_ready: { status: 503, code: "not_ready", detail: "Database unavailable", when: "The database does not answer." },
});
