import { hashCeiling, median, pgbench, wrk, type LoadResult } from "./load";
import { report } from "./report";
import { machine, peakRssMb, startStage } from "./setup";
import { cursorAtDepth, PGBENCH_TRANSFER, prepareUsers, scripts, seedTransfers } from "./workloads";

/**
 * `bun run bench`: every path against a baseline measured in the same run, on the same machine,
 * rounds alternating path and baseline, medians reported (see README, Benchmark). Needs wrk and
 * pgbench (Debian: apt-get install wrk postgresql-client). Exits 1 if any round saw an error
 * (a non-2xx answer, a socket error, a failed pgbench transaction) or the audit fails.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const HISTORY_SECONDS = Math.max(2, Math.round(SECONDS / 2));
const DEEP = 100_000;
// Each argon2id check takes tens of milliseconds of a core: a few in flight fill the machine,
// and a window twice as long as the others loses little to the requests still running when
// it closes (which neither side counts).
const TOKEN_CONNECTIONS = 4;

const stage = await startStage();
const results: Record<string, LoadResult[]> = {};
const record = async (name: string, run: Promise<LoadResult>) => {
  const result = await run;
  (results[name] ??= []).push(result);
  if (result.errors > 0) console.error(`${name}: ${result.errors} errors in this round`);
};
let auditOk = false;
try {
  const tokens = await prepareUsers(stage);
  const lua = scripts(tokens);
  const at = (url: string, connections: number, script: string, seconds = SECONDS) => wrk({ url, seconds, connections, lua: script });
  const sql = (connections: number) => pgbench({ url: stage.transDb, seconds: SECONDS, connections, script: PGBENCH_TRANSFER });

  // History first, while the table holds only what is seeded: 10k transfers, then 1M.
  // One connection, so that a latency is the cost of one page, not a queue.
  const historyRounds = async (label: string, pages: [string, string][]) => {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, query] of pages) await record(`${name}@${label}`, at(stage.transUrl, 1, lua.history(query), HISTORY_SECONDS));
      await Bun.sleep(1500);
    }
  };
  await seedTransfers(stage, 10_000);
  await historyRounds("10k", [["history", "?limit=50"]]);
  await seedTransfers(stage, 1_000_000);
  const cursor = await cursorAtDepth(stage, DEEP);
  // The deep skip goes last in each round: a page of it takes about a second, and one still
  // running when wrk's window closes would otherwise slow the next measurement.
  await historyRounds("1M", [
    ["history", "?limit=50"],
    ["history_before_id", `?limit=50&before_id=${cursor}`],
    ["history_skip", `?limit=50&skip=${DEEP}`],
  ]);
  console.error("history done");

  for (let round = 1; round <= ROUNDS; round++) {
    await record("pgbench16", sql(16));
    await record("transfer16", at(stage.transUrl, 16, lua.transfer));
    await record("pgbench64", sql(64));
    await record("transfer64", at(stage.transUrl, 64, lua.transfer));
    // BENCH_METRICS=compare: the same load on the pair with metrics off, in the same round.
    if (stage.transOffUrl) await record("transfer64_metrics_off", at(stage.transOffUrl, 64, lua.transfer));
    await record("bare", at(stage.bareUrl, 64, lua.bare));
    await record("verify", at(stage.authUrl, 64, lua.verify));
    await record("hash", hashCeiling({ seconds: 2 * SECONDS, connections: TOKEN_CONNECTIONS }));
    await record("token", at(stage.authUrl, TOKEN_CONNECTIONS, lua.token, 2 * SECONDS));
    console.error(`round ${round}/${ROUNDS} done`);
  }

  const rss = { auth: peakRssMb(stage.pids.auth), transaction: peakRssMb(stage.pids.transaction) };
  const audit = Bun.spawnSync(["bun", "transaction/audit.ts"], {
    cwd: `${import.meta.dir}/..`,
    env: { ...process.env, TRANS_DATABASE_URL: stage.transDb },
  });
  auditOk = audit.exitCode === 0;
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, runs]) => [
      name,
      {
        rps: median(runs.map((r) => r.requestsPerSecond)),
        p50Ms: runs[0]!.p50Ms === undefined ? undefined : median(runs.map((r) => r.p50Ms!)),
        p99Ms: runs[0]!.p99Ms === undefined ? undefined : median(runs.map((r) => r.p99Ms!)),
        errors: runs.reduce((sum, r) => sum + r.errors, 0),
        // The spread of the rounds, so that a reader sees how noisy the run was.
        rounds: runs.map((r) => Math.round(r.requestsPerSecond)),
      },
    ]),
  );
  console.log(report({ machine: machine(), postgres: stage.postgres, seconds: SECONDS, rounds: ROUNDS, summary, rss }));
  console.log(`audit: ${audit.stdout.toString().trim().split("\n").at(-1)}`);
} finally {
  await stage.stop();
}
const errors = Object.values(results).reduce((sum, runs) => sum + runs.reduce((s, r) => s + r.errors, 0), 0);
if (errors > 0 || !auditOk) {
  console.error(`bench failed: ${errors} errors across rounds, audit ${auditOk ? "ok" : "FAILED"}`);
  process.exit(1);
}
