import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditLedger } from "./audit";
import { balance, logLines, random, registerUsers, type User } from "./test-client";
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from "./test-processes";

/**
 * Many transfers at once through both services, checked against the invariants: no overdraft,
 * no lost update, no deadlock surfacing as an error, and money conserved (the audit).
 *
 * "At once" is meant literally: both services run as processes of their own, and every request
 * of a burst is sent together by a client process (transaction/test-burst.ts) whose fetch is
 * not capped at 256 requests in flight, as Bun's is by default; the transaction service's own
 * calls to /verify are uncapped the same way. The database side is what production has: a pool
 * of 20 connections that the requests queue for. The log shows how many were being served at
 * the same moment, and the tests require most of each burst.
 */
let auth: ServiceProcess;
let trans: ServiceProcess;
let users: User[];

beforeAll(async () => {
  auth = await startServiceProcess("auth", { DB_POOL_MAX: "20" });
  // A generous auth timeout: the point here is the ledger under concurrency, not the outage path.
  trans = await startServiceProcess("transaction", {
    AUTH_SERVICE_URL: auth.url,
    DB_POOL_MAX: "20",
    AUTH_TIMEOUT_MS: "30000",
    BUN_CONFIG_MAX_HTTP_REQUESTS: "4096",
  });
  users = await registerUsers(auth.url, "spender", "payee1", "payee2", "payee3", "trader1", "trader2", "trader3", "trader4", "trader5");
}, 60_000);
afterAll(async () => {
  await stopServiceProcess(trans);
  await stopServiceProcess(auth);
}, 30_000);

async function burst(requests: { token: string; body: unknown }[]): Promise<{ status: number; code?: string }[]> {
  const client = Bun.spawn([process.execPath, `${import.meta.dir}/test-burst.ts`], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" },
    stdin: new Blob([JSON.stringify({ url: trans.url, requests })]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(client.stdout).text(), new Response(client.stderr).text(), client.exited]);
  if (code !== 0) throw new Error(`the burst client failed: ${err}`);
  return JSON.parse(out);
}

/** The most /transfer requests the transaction service was serving at one moment since `since`, from its request log lines. */
async function mostAtOnce(since: number): Promise<number> {
  const lines = (await logLines(trans.logFile)).filter((l) => l.event === "request" && l.path === "/transfer" && Date.parse(l.time) >= since);
  const edges = lines.flatMap((l) => {
    const end = Date.parse(l.time);
    return [
      [end - l.duration_ms, 1],
      [end, -1],
    ] as [number, number][];
  });
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (now += step));
  return most;
}

const statuses = (answers: { status: number; code?: string }[]) =>
  answers.reduce<Record<string, number>>((counts, { status, code }) => {
    const name = `${status}${code ? ` ${code}` : ""}`;
    counts[name] = (counts[name] ?? 0) + 1;
    return counts;
  }, {});

async function expectAuditPasses() {
  const audit = await auditLedger(trans.db.sql);
  expect(audit.violations).toEqual([]);
  expect(audit.ok).toBe(true);
}

describe("concurrent transfers, all in flight at once", () => {
  test("300 at once from an account that can afford 100: exactly 100 succeed and the balance ends at 0", async () => {
    const [spender, ...receivers] = users.slice(0, 4);
    const since = Date.now();
    const answers = await burst(
      Array.from({ length: 300 }, (_, i) => ({ token: spender!.token, body: { receiver_username: receivers[i % 3]!.username, amount: 10 } })),
    );
    expect(statuses(answers)).toEqual({ "200": 100, "400 insufficient_funds": 200 });
    expect(await mostAtOnce(since)).toBeGreaterThanOrEqual(200);
    expect(await balance(trans.url, spender!)).toBe(0);
    const received = await Promise.all(receivers.map((receiver) => balance(trans.url, receiver)));
    expect(received.reduce((sum, b) => sum + b, 0)).toBe(3000 + 1000);
    await expectAuditPasses();
  }, 60_000);

  test("1,000 at once in both directions among 5 users: no 5xx, no deadlock, money conserved", async () => {
    const five = users.slice(4);
    const next = random(42);
    const since = Date.now();
    const answers = await burst(
      Array.from({ length: 1000 }, () => {
        const from = five[Math.floor(next() * 5)]!;
        const others = five.filter((user) => user !== from);
        const to = others[Math.floor(next() * others.length)]!;
        return { token: from.token, body: { receiver_username: to.username, amount: Math.floor(next() * 5000 + 1) / 100 } };
      }),
    );
    const counts = statuses(answers);
    expect(Object.keys(counts).filter((status) => status !== "200" && status !== "400 insufficient_funds")).toEqual([]);
    expect(counts["200"]).toBeGreaterThan(500);
    expect(await mostAtOnce(since)).toBeGreaterThanOrEqual(600);

    const problems = (await logLines(trans.logFile)).filter(
      (line) => line.event === "unhandled_error" || line.pg_code === "40P01" || JSON.stringify(line).includes("deadlock"),
    );
    expect(problems).toEqual([]);
    await expectAuditPasses();
    const balancesMinor = await Promise.all(five.map(async (user) => Math.round((await balance(trans.url, user)) * 100)));
    expect(balancesMinor.reduce((sum, b) => sum + b, 0)).toBe(5 * 100_000);
  }, 60_000);

  test("the audit command, run as `bun transaction/audit.ts`, finds the ledger balanced and exits 0", async () => {
    const audit = Bun.spawn(["bun", `${import.meta.dir}/audit.ts`], {
      env: { ...process.env, TRANS_DATABASE_URL: trans.db.url },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [exitCode, stdout, stderr] = await Promise.all([audit.exited, new Response(audit.stdout).text(), new Response(audit.stderr).text()]);
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(stdout).toContain("audit: 9 accounts checked");
    expect(stdout).toContain("audit: ok");
  }, 30_000);
});
