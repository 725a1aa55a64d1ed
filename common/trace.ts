import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareHandler } from "hono";

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) without a tracing SDK: each request
 * belongs to a trace (the caller's, or one started here) and is a span of it. The context lives
 * in AsyncLocalStorage for the request's whole life, so that every log line of the request
 * carries the trace id without each call site passing it, and so that a call to another service
 * forwards it.
 */
export interface TraceContext {
  /** 32 lower-case hex digits, the same in every service the request reaches. */
  traceId: string;
  /** 16 hex digits: this service's span for the request. */
  spanId: string;
  /** The caller's span, when the request carried a valid traceparent. */
  parentId?: string;
  /** 2 hex digits; forwarded as received (01: the caller samples this trace). */
  flags: string;
  /** The vendors' `tracestate`, forwarded unchanged with a valid traceparent. */
  state?: string;
}

const storage = new AsyncLocalStorage<TraceContext>();
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_TRACESTATE = 512;

const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
const zeros = (id: string) => /^0+$/.test(id);

/**
 * The caller's trace, or undefined when the header is absent or invalid (the spec's rules:
 * version ff is invalid, version 00 has exactly four fields, ids of all zeros are invalid; a
 * later version may append fields, which are ignored).
 */
export function parseTraceparent(header: string | undefined): Pick<TraceContext, "traceId" | "parentId" | "flags"> | undefined {
  const match = header === undefined ? null : TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined) || zeros(traceId) || zeros(parentId)) return undefined;
  return { traceId, parentId, flags };
}

/** This request's span of the caller's trace, or of a new one. */
export function startSpan(traceparent: string | undefined, tracestate: string | undefined): TraceContext {
  const parent = parseTraceparent(traceparent);
  if (!parent) return { traceId: hex(16), spanId: hex(8), flags: "01" };
  const state = tracestate && tracestate.length <= MAX_TRACESTATE ? tracestate : undefined;
  return { ...parent, spanId: hex(8), state };
}

/** Runs the rest of the request inside its span; installed first, so that everything after it sees the trace. */
export const traceContext: MiddlewareHandler = (c, next) => storage.run(startSpan(c.req.header("traceparent"), c.req.header("tracestate")), next);

/** The span of the request being served, if any. */
export const currentSpan = (): TraceContext | undefined => storage.getStore();

/** The headers that carry the current trace to another service, this span as the parent. */
export function traceHeaders(): Record<string, string> {
  const span = storage.getStore();
  if (!span) return {};
  const headers: Record<string, string> = { traceparent: `00-${span.traceId}-${span.spanId}-${span.flags}` };
  if (span.state) headers.tracestate = span.state;
  return headers;
}
