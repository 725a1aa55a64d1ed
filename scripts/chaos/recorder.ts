import type { Instance } from "./cluster";
import { Violation } from "./model";

export interface Request {
  method?: "GET" | "POST" | "DELETE";
  path: string;
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** A refresh token the request carries, so that one of an ended session is caught if accepted. */
  refreshToken?: string;
}

export interface Answer {
  /** 0 when no HTTP answer came back: refused connection, reset, timeout. */
  status: number;
  body: any;
  headers: Headers;
  error?: string;
  startedAt: number;
  ms: number;
}

/** 503 is the only 5xx the services may answer, and only with these codes. */
const ALLOWED_503 = new Set(["auth_unavailable", "database_unavailable", "not_ready"]);
const TIMEOUT_MS = 20_000;

/**
 * Every request of the run goes through `send`, which checks the invariants that hold for a
 * single answer: never a 5xx but a documented 503, never a revoked token or refresh token
 * accepted by a request that started after the revocation returned.
 */
export class Recorder {
  /** token → when (performance.now()) the call that revoked it returned, and which call. */
  private readonly revoked = new Map<string, { at: number; why: string }>();
  readonly counts = new Map<string, number>();
  requests = 0;

  revoke(token: string | undefined, why: string): void {
    if (token && !this.revoked.has(token)) this.revoked.set(token, { at: performance.now(), why });
  }

  async send(instance: Instance, label: string, request: Request): Promise<Answer> {
    const headers: Record<string, string> = { ...request.headers };
    let body: RequestInit["body"] | undefined;
    if (request.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(request.json);
    } else if (request.form) {
      body = new URLSearchParams(request.form);
    }
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    const startedAt = performance.now();
    let answer: Answer;
    try {
      const response = await fetch(`${instance.url}${request.path}`, {
        method: request.method ?? (body === undefined ? "GET" : "POST"),
        headers,
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      answer = { status: response.status, body: parsed, headers: response.headers, startedAt, ms: performance.now() - startedAt };
    } catch (error) {
      answer = { status: 0, body: undefined, headers: new Headers(), error: (error as Error).message, startedAt, ms: performance.now() - startedAt };
    }
    this.requests++;
    const key = `${label} ${answer.status}${answer.body?.code ? ` ${answer.body.code}` : ""}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.check(instance, label, request, answer);
    return answer;
  }

  private check(instance: Instance, label: string, request: Request, answer: Answer): void {
    const where = `${label} on ${instance.name} (${request.method ?? "POST"} ${request.path})`;
    if (answer.status >= 500 && !(answer.status === 503 && ALLOWED_503.has(answer.body?.code))) {
      throw new Violation("no request ever gets a 500", `${where} answered ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 300)}`);
    }
    if (answer.status < 200 || answer.status >= 300) return;
    for (const secret of [request.token, request.refreshToken]) {
      const revoked = secret && this.revoked.get(secret);
      if (revoked && revoked.at < answer.startedAt) {
        throw new Violation(
          "no token of an ended session or changed password is accepted",
          `${where} answered ${answer.status} to a ${secret === request.token ? "token" : "refresh token"} revoked by ${revoked.why} ` +
            `${Math.round(answer.startedAt - revoked.at)} ms before the request started`,
        );
      }
    }
  }
}

/** An outcome the client cannot know: no answer, or a database outage mid-request (retry with the key). */
export const unknownOutcome = (answer: Answer) => answer.status === 0 || (answer.status === 503 && answer.body?.code === "database_unavailable");
