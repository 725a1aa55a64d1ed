import { afterAll, beforeAll, expect, test } from "bun:test";
import { inFlightAtShutdown, logLines } from "../common/testing";
import { auditLedger } from "./audit";
import { registerUsers, transfer, type User } from "./test-client";
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from "./test-processes";
import { until } from "../scripts/processes";

/**
 * SIGTERM (docker stop) to the transaction service under load: every transfer it had accepted
 * is finished and answered, the process exits 0 and stops listening, and the ledger balances.
 * With one database connection the transfers queue, so many are still running at the signal,
 * and the log proves it.
 */
let auth: ServiceProcess;
let trans: ServiceProcess;
let alice: User;

beforeAll(async () => {
  auth = await startServiceProcess("auth");
  trans = await startServiceProcess("transaction", { AUTH_SERVICE_URL: auth.url, DB_POOL_MAX: "1" });
  [alice] = (await registerUsers(auth.url, "alice", "bob")) as [User];
}, 60_000);
afterAll(async () => {
  await stopServiceProcess(trans);
  await stopServiceProcess(auth);
}, 30_000);

test("SIGTERM mid-transfers: each accepted transfer finishes with 200, then the process exits 0 and stops listening", async () => {
  const sent = Array.from({ length: 100 }, () => transfer(trans.url, alice, { receiver_username: "bob", amount: 1 }));
  // The signal goes once the first transfer is done, while the others queue for the connection.
  const started = await until(async () => (await logLines(trans.logFile)).some((line) => line.event === "transfer_done"), 10_000, 5);
  expect(started).toBe(true);
  trans.process.kill("SIGTERM");
  const answers = await Promise.all(sent);
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  expect(await trans.process.exited).toBe(0);
  expect(
    await fetch(`${trans.url}/health`).then(
      () => "answered",
      () => "refused",
    ),
  ).toBe("refused");

  const straddling = await inFlightAtShutdown(trans.logFile);
  expect(straddling.filter((line) => line.path === "/transfer" && line.status === 200).length).toBeGreaterThanOrEqual(10);
  const lines = await logLines(trans.logFile);
  expect(lines.filter((line) => line.event === "transfer_done")).toHaveLength(100);
  expect(lines.filter((line) => line.event === "shutdown").map((line) => line.signal)).toEqual(["SIGTERM"]);
  expect(lines[0]).toMatchObject({ event: "started", service: "transaction_service", port: Number(new URL(trans.url).port) });

  const [row] = await trans.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM transfers`;
  expect(row!.n).toBe(100);
  expect((await auditLedger(trans.db.sql)).ok).toBe(true);
}, 60_000);
