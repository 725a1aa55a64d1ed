import { z } from "zod";
import { type ApiError, refuse } from "../common/errors";
import type { Logger } from "../common/logger";
import { traceHeaders } from "../common/trace";
import type { AuthCallOutcome, TransactionMetrics } from "./metrics";
import { REFUSALS } from "./refusals";

/**
 * What this service needs of the auth service's /verify and /check-user replies, parsed rather
 * than cast: an id that is a positive safe integer (it becomes a bigint key) and a username of
 * the auth service's own rules (it is stored with the account). Other fields may come and go.
 */
const AuthUserReply = z.object({
  id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  username: z.string().regex(/^[A-Za-z0-9_.-]{3,50}$/),
});
export type AuthUser = z.infer<typeof AuthUserReply>;

const unavailable = () => refuse(REFUSALS.auth_unavailable);

/**
 * The transaction service's view of the auth service. Bun's fetch keeps connections alive; every
 * call is bounded by the timeout, carries the caller's request id and trace (this request's span
 * as the parent), is counted and timed by outcome, and turns any failure of the auth service
 * itself (unreachable, slow, 5xx, nonsense) into 503 so that no money moves.
 */
export function authClient(options: { baseUrl: string; timeoutMs: number; log: Logger; metrics: TransactionMetrics }) {
  async function call(path: "/verify" | "/check-user", token: string, requestId: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, "x-request-id": requestId, ...traceHeaders() };
    if (body !== undefined) headers["content-type"] = "application/json";
    const started = performance.now();
    const measure = (outcome: AuthCallOutcome) => options.metrics.authCall(path, outcome, (performance.now() - started) / 1000);
    let response: Response;
    try {
      response = await fetch(`${options.baseUrl}${path}`, {
        method: "POST",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      measure((error as Error).name === "TimeoutError" ? "timeout" : "unreachable");
      options.log.warn("auth_unavailable", { request_id: requestId, path, error: (error as Error).message });
      throw unavailable();
    }
    options.log.debug("auth_call", { request_id: requestId, path, status: response.status, duration_ms: Math.round(performance.now() - started) });
    measure(response.status >= 500 ? "5xx" : response.status === 401 ? "401" : response.status >= 400 ? "4xx" : "ok");
    if (response.status >= 500) {
      options.log.warn("auth_unavailable", { request_id: requestId, path, error: `auth service answered ${response.status}` });
      throw unavailable();
    }
    return response;
  }

  /** A reply the contract does not allow: logged (never its values, which may be a user's data), then 503. */
  function unexpected(path: string, requestId: string, error: string, fields?: string[]): ApiError {
    options.log.warn("auth_unavailable", { request_id: requestId, path, error, fields });
    return unavailable();
  }

  /** The reply's user, or 503: a 200 this service cannot read means the auth service is not well. */
  async function user(response: Response, path: string, requestId: string): Promise<AuthUser> {
    if (response.status !== 200) throw unexpected(path, requestId, `unexpected status ${response.status}`);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw unexpected(path, requestId, `unreadable reply: ${(error as Error).message}`);
    }
    const parsed = AuthUserReply.safeParse(body);
    if (parsed.success) return { id: parsed.data.id, username: parsed.data.username };
    throw unexpected(
      path,
      requestId,
      "unexpected reply",
      parsed.error.issues.map((issue) => issue.path.join(".") || "(body)"),
    );
  }

  return {
    /** The token's user; the auth service refuses revoked tokens, so this is never cached. */
    async verify(token: string, requestId: string): Promise<AuthUser> {
      const response = await call("/verify", token, requestId);
      if (response.status === 401) throw refuse(REFUSALS.invalid_token, { reason: "auth_service_refused" });
      return user(response, "/verify", requestId);
    },

    /** The registered user of that name (any case), or undefined. */
    async checkUser(token: string, requestId: string, username: string): Promise<AuthUser | undefined> {
      const response = await call("/check-user", token, requestId, { username });
      if (response.status === 401) throw refuse(REFUSALS.invalid_token, { reason: "auth_service_refused" });
      if (response.status === 404 || response.status === 422) return undefined;
      return user(response, "/check-user", requestId);
    },
  };
}
export type AuthClient = ReturnType<typeof authClient>;
