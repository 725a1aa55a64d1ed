import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { logLines, registerUsers, startServices, transfer, type Services, type User } from "../transaction/test-client";
import { parseTraceparent, startSpan } from "./trace";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  const valid: [string, string][] = [
    ["version 00", `00-${TRACE}-${PARENT}-01`],
    ["flags 00 (not sampled)", `00-${TRACE}-${PARENT}-00`],
    ["a later version with more fields, which are ignored", `01-${TRACE}-${PARENT}-01-what-comes-next`],
    ["surrounding spaces", `  00-${TRACE}-${PARENT}-01 `],
  ];
  for (const [name, header] of valid) {
    test(`accepts ${name}`, () => {
      expect(parseTraceparent(header)).toEqual({ traceId: TRACE, parentId: PARENT, flags: header.trim().slice(53, 55) });
    });
  }
  const invalid: [string, string | undefined][] = [
    ["no header", undefined],
    ["an empty header", ""],
    ["version ff", `ff-${TRACE}-${PARENT}-01`],
    ["version 00 with a fifth field", `00-${TRACE}-${PARENT}-01-extra`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${PARENT}-01`],
    ["an all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ["a short trace id", `00-${TRACE.slice(1)}-${PARENT}-01`],
    ["a long parent id", `00-${TRACE}-${PARENT}0-01`],
    ["a non-hex character", `00-${TRACE.slice(1)}g-${PARENT}-01`],
    ["garbage", "hello"],
  ];
  for (const [name, header] of invalid) {
    test(`refuses ${name}`, () => expect(parseTraceparent(header)).toBeUndefined());
  }
});

describe("startSpan", () => {
  test("continues the caller's trace with a new span whose parent is the caller's", () => {
    const span = startSpan(`00-${TRACE}-${PARENT}-01`, "vendor=abc");
    expect(span).toEqual({ traceId: TRACE, parentId: PARENT, spanId: expect.stringMatching(/^[0-9a-f]{16}$/), flags: "01", state: "vendor=abc" });
    expect(span.spanId).not.toBe(PARENT);
  });

  test("starts a new trace without a valid traceparent, and then drops the tracestate", () => {
    const [a, b] = [startSpan(undefined, undefined), startSpan(`00-${TRACE}-${PARENT}`, "vendor=abc")];
    for (const span of [a, b]) {
      expect(span).toEqual({ traceId: expect.stringMatching(/^[0-9a-f]{32}$/), spanId: expect.stringMatching(/^[0-9a-f]{16}$/), flags: "01" });
    }
    expect(a.traceId).not.toBe(b.traceId);
  });

  test("drops a tracestate longer than 512 characters", () => {
    expect(startSpan(`00-${TRACE}-${PARENT}-01`, `v=${"x".repeat(511)}`).state).toBeUndefined();
  });
});

describe("one transfer across both services", () => {
  let services: Services;
  let alice: User;
  beforeAll(async () => {
    services = await startServices();
    alice = (await registerUsers(services.auth.url, "alice", "bob"))[0]!;
  });
  afterAll(() => services.stop());

  /** Every line of both logs that belongs to the request, found by its X-Request-Id. */
  async function linesOf(requestId: string) {
    const [trans, auth] = await Promise.all([logLines(services.trans.logFile), logLines(services.auth.logFile)]);
    return { trans: trans.filter((l) => l.request_id === requestId), auth: auth.filter((l) => l.request_id === requestId) };
  }

  test("carries the client's trace id in every log line of both services, and X-Request-Id still works", async () => {
    const answer = await transfer(
      services.trans.url,
      alice,
      { receiver_username: "bob", amount: 1 },
      { traceparent: `00-${TRACE}-${PARENT}-01`, "x-request-id": "trace-test-1" },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-request-id")).toBe("trace-test-1");
    const { trans, auth } = await linesOf("trace-test-1");
    // The request line, the business event and the debug lines of both calls to the auth service…
    expect(trans.map((l) => l.event).sort()).toEqual(["auth_call", "auth_call", "request", "transfer_done"]);
    // …and the auth service's request lines of /verify and /check-user.
    expect(auth.map((l) => l.path).sort()).toEqual(["/check-user", "/verify"]);
    for (const line of [...trans, ...auth]) expect({ event: line.event, trace_id: line.trace_id }).toEqual({ event: line.event, trace_id: TRACE });
    // The transaction service's span is the caller's child, and the parent of both auth calls.
    const span = trans[0]!.span_id as string;
    expect(trans.every((l) => l.span_id === span)).toBe(true);
    expect(trans.find((l) => l.event === "request")!.parent_span_id).toBe(PARENT);
    expect(auth.map((l) => l.parent_span_id)).toEqual([span, span]);
    expect(new Set(auth.map((l) => l.span_id)).size).toBe(2);
  });

  test("starts a trace for a request without one (or with an invalid one), shared by both services", async () => {
    for (const [requestId, headers] of [
      ["trace-test-2", {}],
      ["trace-test-3", { traceparent: "00-not-a-trace-01" }],
    ] as const) {
      const answer = await transfer(services.trans.url, alice, { receiver_username: "nobody", amount: 1 }, { ...headers, "x-request-id": requestId });
      expect(answer.status).toBe(404);
      const { trans, auth } = await linesOf(requestId);
      // A refusal adds its business event and its debug line, in the auth service too (/check-user's 404).
      expect(trans.map((l) => l.event).sort()).toEqual(["auth_call", "auth_call", "refused", "request", "transfer_refused"]);
      expect(auth.map((l) => l.event).sort()).toEqual(["refused", "request", "request"]);
      const ids = new Set([...trans, ...auth].map((l) => l.trace_id));
      expect(ids.size).toBe(1);
      expect([...ids][0]).toMatch(/^[0-9a-f]{32}$/);
      expect([...ids][0]).not.toBe(TRACE);
      expect(trans.find((l) => l.event === "request")!.parent_span_id).toBeUndefined();
    }
  });

  test("gives lines outside any request no trace id", async () => {
    const started = (await logLines(services.trans.logFile)).filter((l) => !l.request_id);
    expect(started.every((l) => l.trace_id === undefined)).toBe(true);
  });
});
