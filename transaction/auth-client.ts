import { refuse } from "../common/errors";
import type { Logger } from "../common/logger";
import { REFUSALS } from "./refusals";

export interface AuthUser {
  id: number;
  username: string;
}

const unavailable = () => refuse(REFUSALS.auth_unavailable);

/**
 * The transaction service's view of the auth service. Bun's fetch keeps connections alive; every
 * call is bounded by the timeout, carries the caller's request id, and turns any failure of the
 * auth service itself (unreachable, slow, 5xx, nonsense) into 503 so that no money moves.
 */
export function authClient(options: { baseUrl: string; timeoutMs: number; log: Logger }) {
  async function call(path: string, token: string, requestId: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, "x-request-id": requestId };
    if (body !== undefined) headers["content-type"] = "application/json";
    const started = performance.now();
    try {
      const response = await fetch(`${options.baseUrl}${path}`, {
        method: "POST",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      options.log.debug("auth_call", { request_id: requestId, path, status: response.status, duration_ms: Math.round(performance.now() - started) });
      if (response.status >= 500) throw new Error(`auth service answered ${response.status}`);
      return response;
    } catch (error) {
      options.log.warn("auth_unavailable", { request_id: requestId, path, error: (error as Error).message });
      throw unavailable();
    }
  }

  async function json<T>(response: Response, requestId: string): Promise<T> {
    try {
      return (await response.json()) as T;
    } catch (error) {
      options.log.warn("auth_unavailable", { request_id: requestId, error: (error as Error).message });
      throw unavailable();
    }
  }

  return {
    /** The token's user; the auth service refuses revoked tokens, so this is never cached. */
    async verify(token: string, requestId: string): Promise<AuthUser> {
      const response = await call("/verify", token, requestId);
      if (response.status === 401) throw refuse(REFUSALS.invalid_token, { reason: "auth_service_refused" });
      if (response.status !== 200) throw unavailable();
      return json<AuthUser>(response, requestId);
    },

    /** The registered user of that name (any case), or undefined. */
    async checkUser(token: string, requestId: string, username: string): Promise<AuthUser | undefined> {
      const response = await call("/check-user", token, requestId, { username });
      if (response.status === 401) throw refuse(REFUSALS.invalid_token, { reason: "auth_service_refused" });
      if (response.status === 404 || response.status === 422) return undefined;
      if (response.status !== 200) throw unavailable();
      return json<AuthUser>(response, requestId);
    },
  };
}
export type AuthClient = ReturnType<typeof authClient>;
