import { expect } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import type { TestDatabase } from "../db/testing";
import { openAPIDocument } from "./docs";
import { Logger } from "./logger";
import { createRegistry, serveMetrics } from "./metrics";
import { assertDocumented } from "./openapi-conformance";
import { serve, type AppDeps } from "./server";

/** What the tests of both services share: a service really serving HTTP, and how to call it. */

export interface ServedForTest {
  url: string;
  /** Where `GET /metrics` answers, on a port of its own; undefined with METRICS_PORT=0. */
  metricsUrl?: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Serves an app built the way `index.ts` builds it, on a fresh database, with its log in a
 * temporary folder and its metrics on a free port (unless METRICS_PORT=0); `stop` closes the
 * servers, the log and drops the database.
 */
export function serveForTest<C extends { LOGS_DIR: string; LOG_MAX_BYTES: number; METRICS_PORT: number }>(options: {
  name: "auth_service" | "transaction_service";
  db: TestDatabase;
  config: C;
  createApp: (deps: AppDeps<C>) => { fetch: (request: Request, env: never) => Response | Promise<Response> };
  port?: number;
}): ServedForTest {
  const { name, db, config } = options;
  const logFile = `${config.LOGS_DIR}/${name}/${name}.log`;
  const log = new Logger({ file: logFile, maxBytes: config.LOG_MAX_BYTES, maxFiles: 2, debug: true, stdout: false });
  const registry = config.METRICS_PORT ? createRegistry() : undefined;
  const stops: (() => Promise<void>)[] = [];
  const app = options.createApp({ sql: db.sql, config, log, registry, onShutdown: (stop) => stops.push(stop) });
  const metrics = registry && serveMetrics(registry, 0);
  const close = async () => void (await Promise.all(stops.map((stop) => stop())));
  const served = serve({ fetch: app.fetch as never, port: options.port ?? 0, close });
  const url = `http://127.0.0.1:${served.port}`;
  documents.set(
    url,
    once(() => openAPIDocument(app)),
  );
  return {
    url,
    metricsUrl: metrics && `http://127.0.0.1:${metrics.port}/metrics`,
    logFile,
    async stop() {
      documents.delete(url);
      await served.shutdown();
      await metrics?.stop(true);
      log.close();
      await db.drop();
    },
  };
}

/**
 * The OpenAPI document of each service that serveForTest started, by URL: every answer that
 * `request` gets from one must be one its document describes, so every test of the suite
 * checks the documents too.
 */
const documents = new Map<string, () => Record<string, any>>();

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

export const tempLogsDir = (name: string) => mkdtempSync(`${tmpdir()}/${name}-logs-`);

/** How a test asks a service something: the body in one of its forms, a token, headers. */
export interface Call {
  json?: unknown;
  form?: Record<string, string>;
  /** A body sent exactly as given, with `contentType` if set. */
  raw?: RequestInit["body"];
  contentType?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Headers;
  // Tests read whatever shape the route answers; the assertions say which.
  body: any;
  elapsedMs: number;
}

/** One request over real HTTP; a JSON answer comes back parsed, anything else as text. */
export async function request(url: string, method: string, path: string, call: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...call.headers };
  let body: RequestInit["body"] | undefined = call.raw;
  if (call.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(call.json);
  } else if (call.form) {
    body = new URLSearchParams(call.form);
  }
  if (call.contentType) headers["content-type"] = call.contentType;
  if (call.token !== undefined) headers.authorization = `Bearer ${call.token}`;
  const started = performance.now();
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  const elapsedMs = performance.now() - started;
  const isJson = response.headers.get("content-type")?.includes("json") ?? false;
  const answer = { status: response.status, headers: response.headers, body: isJson && text !== "" ? JSON.parse(text) : text, elapsedMs };
  const doc = documents.get(url);
  if (doc) assertDocumented(doc(), method, `${url}${path}`, answer);
  return answer;
}

/**
 * A service under test runs in the test's own process, and writes its info lines at the end of
 * the event loop's turn (common/logger.ts): a response can reach the test first. One turn later
 * (setImmediate runs in order) every line of a request already answered is in the file.
 */
export const logsWritten = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A service's log, one parsed JSON object per line. */
export async function logLines(logFile: string): Promise<Record<string, any>[]> {
  await logsWritten();
  const text = await Bun.file(logFile).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** A seeded generator, so that a failing random workload can be replayed. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 422 body in FastAPI's shape whose issues include one at `body.<field>` (of `type`, if given). */
export function expectValidationIssue(body: any, field: string, type?: string): void {
  const issues = body.detail as { loc: unknown[]; msg: unknown; type: unknown }[];
  expect(Array.isArray(issues)).toBe(true);
  for (const issue of issues) {
    expect(Object.keys(issue).sort()).toEqual(["loc", "msg", "type"]);
    expect(typeof issue.msg).toBe("string");
    expect(typeof issue.type).toBe("string");
  }
  expect(issues.map((issue) => issue.loc)).toContainEqual(["body", field]);
  if (type) expect(issues.find((issue) => issue.loc[1] === field)?.type).toBe(type);
}

/**
 * The requests a service was serving when it logged `shutdown` (SIGTERM): each request line is
 * written when the answer leaves, with its duration, so one that started before the shutdown
 * line and ended after it was in flight at the signal.
 */
export async function inFlightAtShutdown(logFile: string): Promise<Record<string, any>[]> {
  const lines = await logLines(logFile);
  const shutdown = lines.find((line) => line.event === "shutdown");
  if (!shutdown) return [];
  const at = Date.parse(shutdown.time);
  return lines.filter((line) => line.event === "request" && Date.parse(line.time) >= at && Date.parse(line.time) - line.duration_ms < at);
}
