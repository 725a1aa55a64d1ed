/**
 * What this code knows about PostgreSQL's and postgres.js's error codes. postgres.js keeps the
 * server's SQLSTATE (and its own connection codes) in `error.code`.
 */

/** SQLSTATE 23505: a unique index refused the row. */
export const UNIQUE_VIOLATION = "23505";

/**
 * Codes that mean the database cannot be reached or will not take work right now: an outage,
 * answered 503 so that a client retries, rather than a bug's 500.
 */
const UNAVAILABLE = new Set([
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

/** The error's code, whatever threw it; undefined when it has none. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && UNAVAILABLE.has(code);
}
