import { Counter, Histogram, type Registry } from "prom-client";
import { labelledCounter } from "../common/metrics";

/** A refusal's code is its outcome; `other` keeps the label bounded should a new refusal be added without a name here. */
const REFUSALS = ["insufficient_funds", "receiver_not_found", "self_transfer", "idempotency_key_reused", "other"] as const;
type Refusal = (typeof REFUSALS)[number];
/** `401` and `4xx` are answers (a refused token, an unknown receiver); the other three mean the auth service failed. */
export type AuthCallOutcome = "ok" | "401" | "4xx" | "5xx" | "timeout" | "unreachable";

/** The transaction service's business counters and its view of the auth service. */
export function transactionMetrics(registry: Registry) {
  const registers = [registry];
  const moved = new Counter({ name: "transaction_money_moved_minor_total", help: "Money moved by transfers done, in minor units (cents).", registers });
  const replays = new Counter({
    name: "transaction_idempotent_replays_total",
    help: "Transfers answered again from an earlier request with the same Idempotency-Key.",
    registers,
  });
  const authCalls = new Counter({
    name: "transaction_auth_calls_total",
    help: "Calls to the auth service, by endpoint and outcome.",
    labelNames: ["endpoint", "outcome"],
    registers,
  });
  const authDuration = new Histogram({
    name: "transaction_auth_call_duration_seconds",
    help: "Time a call to the auth service took (a timeout counts as its full wait), by endpoint.",
    labelNames: ["endpoint"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  for (const endpoint of ["/verify", "/check-user"])
    for (const outcome of ["ok", "401", "timeout", "5xx", "unreachable"]) authCalls.inc({ endpoint, outcome }, 0);
  const transfers = labelledCounter(registry, "transaction_transfers_total", "Transfer requests that reached a verdict, by outcome.", "outcome", [
    "done",
    "replayed",
    ...REFUSALS,
  ]);
  return {
    transferDone(amountMinor: bigint) {
      transfers("done");
      moved.inc(Number(amountMinor));
    },
    transferReplayed() {
      transfers("replayed");
      replays.inc();
    },
    transferRefused(code: string) {
      transfers((REFUSALS as readonly string[]).includes(code) ? (code as Refusal) : "other");
    },
    authCall(endpoint: "/verify" | "/check-user", outcome: AuthCallOutcome, seconds: number) {
      authCalls.inc({ endpoint, outcome });
      authDuration.observe({ endpoint }, seconds);
    },
  };
}
export type TransactionMetrics = ReturnType<typeof transactionMetrics>;
