import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { moved, parseExposition, promtoolCheckMetrics, scrape } from "../common/test-metrics";
import { ConfigError } from "../common/config";
import { freePort } from "../scripts/processes";
import { loadTransactionConfig } from "./config";
import { forgeToken, registerUsers, startServices, transfer, type Services, type User } from "./test-client";
import { startTransactionService, type RunningTransaction } from "./test-server";

/**
 * Every counter of the transaction service moves by exactly what its event says, and nothing
 * else of its own counters moves; an auth service that is silent, failing or gone shows as such.
 */
let services: Services;
let alice: User;
const KEY = { "Idempotency-Key": "metrics-key-1" };
/** The auth-call histogram's sums and buckets are times; its count is checked on its own below. */
const WATCHED = /^(transaction_(transfers|money_moved_minor|idempotent_replays|auth_calls)_total|db_errors_total)$/;

beforeAll(async () => {
  services = await startServices();
  alice = (await registerUsers(services.auth.url, "alice", "bob"))[0]!;
});
afterAll(() => services.stop());

const verified = { 'transaction_auth_calls_total{endpoint="/verify",outcome="ok"}': 1 };
const send =
  (body: unknown, headers: Record<string, string> = {}) =>
  () =>
    transfer(services.trans.url, alice, body, headers);

const rows: [string, () => Promise<unknown>, Record<string, number>][] = [
  [
    "a transfer to a receiver never seen here",
    send({ receiver_username: "bob", amount: 1.5 }),
    {
      ...verified,
      'transaction_auth_calls_total{endpoint="/check-user",outcome="ok"}': 1,
      'transaction_transfers_total{outcome="done"}': 1,
      transaction_money_moved_minor_total: 150,
    },
  ],
  [
    "a transfer with an Idempotency-Key",
    send({ receiver_username: "bob", amount: 0.25 }, KEY),
    { ...verified, 'transaction_transfers_total{outcome="done"}': 1, transaction_money_moved_minor_total: 25 },
  ],
  [
    "its replay",
    send({ receiver_username: "bob", amount: 0.25 }, KEY),
    { ...verified, 'transaction_transfers_total{outcome="replayed"}': 1, transaction_idempotent_replays_total: 1 },
  ],
  [
    "the key with another body",
    send({ receiver_username: "bob", amount: 0.26 }, KEY),
    { ...verified, 'transaction_transfers_total{outcome="idempotency_key_reused"}': 1 },
  ],
  ["more than the balance", send({ receiver_username: "bob", amount: 5000 }), { ...verified, 'transaction_transfers_total{outcome="insufficient_funds"}': 1 }],
  ["a transfer to oneself", send({ receiver_username: "Alice", amount: 1 }), { ...verified, 'transaction_transfers_total{outcome="self_transfer"}': 1 }],
  [
    "an unknown receiver",
    send({ receiver_username: "nobody", amount: 1 }),
    { ...verified, 'transaction_auth_calls_total{endpoint="/check-user",outcome="4xx"}': 1, 'transaction_transfers_total{outcome="receiver_not_found"}': 1 },
  ],
  [
    "a token the auth service refuses",
    async () => transfer(services.trans.url, await forgeToken("424242"), { receiver_username: "bob", amount: 1 }),
    { 'transaction_auth_calls_total{endpoint="/verify",outcome="401"}': 1 },
  ],
];

describe("transaction counters", () => {
  for (const [name, action, expected] of rows) {
    test(`${name} moves exactly its counters`, async () => {
      const before = await scrape(services.trans.metricsUrl!);
      await action();
      expect(moved(before, await scrape(services.trans.metricsUrl!), WATCHED)).toEqual(expected);
    });
  }

  test("money moved equals the ledger's sum, and every auth call was timed", async () => {
    const now = await scrape(services.trans.metricsUrl!);
    const [row] = await services.trans.db.sql<{ total: bigint }[]>`SELECT sum(amount) AS total FROM transfers`;
    expect(now.value("transaction_money_moved_minor_total")).toBe(Number(row!.total));
    for (const endpoint of ["/verify", "/check-user"]) {
      expect(now.value("transaction_auth_call_duration_seconds_count", { endpoint })).toBe(now.value("transaction_auth_calls_total", { endpoint }));
    }
    expect(now.value("http_requests_total", { method: "POST", route: "/transfer", status: "200" })).toBe(3);
    expect(promtoolCheckMetrics(now.text)).toEqual({ exitCode: 0, output: "" });
  });
});

describe("the transaction service's /metrics", () => {
  test("is on a port of its own, not on the service's port", async () => {
    expect(new URL(services.trans.metricsUrl!).port).not.toBe(new URL(services.trans.url).port);
    expect((await fetch(`${services.trans.url}/metrics`)).status).toBe(404);
  });

  test("cannot be configured onto the service's port", () => {
    const env = { TRANS_DATABASE_URL: "postgres://t@localhost/t", SECRET_KEY: "a-secret-of-exactly-32-bytes-ok!", TRANS_SERVICE_PORT: "8101" };
    expect(() => loadTransactionConfig({ ...env, METRICS_PORT: "8101" })).toThrow(ConfigError);
    expect(() => loadTransactionConfig({ ...env, METRICS_PORT: "8101" })).toThrow("METRICS_PORT must differ from TRANS_SERVICE_PORT");
    expect(loadTransactionConfig(env).METRICS_PORT).toBe(9001);
    expect(loadTransactionConfig({ ...env, METRICS_PORT: "0" }).METRICS_PORT).toBe(0);
  });
});

describe("an auth service that fails", () => {
  const TIMEOUT_MS = 300;
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const failing = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ detail: "boom" }, { status: 500 }) });
  const outages: [string, string][] = [
    ["timeout", `http://127.0.0.1:${silent.port}`],
    ["5xx", failing.url.origin],
    ["unreachable", `http://127.0.0.1:${freePort()}`],
  ];
  const started: RunningTransaction[] = [];
  afterAll(async () => {
    await Promise.all(started.map((service) => service.stop()));
    silent.stop(true);
    await failing.stop(true);
  });

  for (const [outcome, authUrl] of outages) {
    test(`shows as auth calls with outcome ${outcome}`, async () => {
      const trans = await startTransactionService(authUrl, { AUTH_TIMEOUT_MS: String(TIMEOUT_MS) });
      started.push(trans);
      const answer = await transfer(trans.url, await forgeToken("1"), { receiver_username: "bob", amount: 1 });
      expect(answer.status).toBe(503);
      const now = await scrape(trans.metricsUrl!);
      expect(moved(parseExposition(""), now, /^transaction_auth_calls_total$/)).toEqual({
        [`transaction_auth_calls_total{endpoint="/verify",outcome="${outcome}"}`]: 1,
      });
      const waited = now.value("transaction_auth_call_duration_seconds_sum", { endpoint: "/verify" })!;
      if (outcome === "timeout") expect(waited).toBeGreaterThanOrEqual((TIMEOUT_MS - 5) / 1000);
      else expect(waited).toBeLessThan(TIMEOUT_MS / 1000);
    });
  }
});
