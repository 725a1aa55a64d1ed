import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { freePort, healthy, until } from "../scripts/processes";
import { connect, ensureDatabase, withDatabase, type Sql } from "../db/connect";
import { startEmbedded } from "../db/embedded";
import { migrate } from "../db/migrate";

/** What the benchmark runs against: both services as `bun run start:*` runs them, and a bare server. */
export interface Stage {
  authUrl: string;
  transUrl: string;
  bareUrl: string;
  /** With BENCH_METRICS=compare: a second transaction service (and auth service) with metrics off. */
  transOffUrl?: string;
  transDb: string;
  trans: Sql;
  pids: { auth: number; transaction: number };
  postgres: string;
  stop(): Promise<void>;
}

const SECRET = "bench-secret-of-at-least-thirty-two-bytes";
const root = `${import.meta.dir}/..`;

/**
 * Starts PostgreSQL (embedded, or the server at BENCH_DATABASE_URL), one fresh database per
 * service, the two services and the bare baseline server. The services measure themselves
 * (metrics on free ports) unless BENCH_METRICS=0; BENCH_METRICS=compare starts a second pair with
 * metrics off, on the same databases. With BENCH_PROFILE=<dir> the services run under Bun's CPU
 * profiler, which writes a profile (and a markdown summary) there on exit.
 */
export async function startStage(): Promise<Stage> {
  const own = process.env.BENCH_DATABASE_URL
    ? undefined
    : await (async () => {
        const parent = mkdtempSync(`${tmpdir()}/pg-bench-`);
        chmodSync(parent, 0o755);
        return startEmbedded({ dir: `${parent}/data`, persistent: false });
      })();
  const children: Bun.Subprocess[] = [];
  let trans: Sql | undefined;
  const stop = async () => {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    await trans?.end({ timeout: 5 });
    await own?.stop();
  };
  try {
    const server = process.env.BENCH_DATABASE_URL ?? own!.url;
    const [authDb, transDb] = ["auth", "transaction"].map((s) => withDatabase(server, `bench_${s}_${process.pid}`)) as [string, string];
    for (const [url, dir] of [
      [authDb, "auth"],
      [transDb, "transaction"],
    ] as const) {
      await ensureDatabase(server, new URL(url).pathname.slice(1));
      const sql = connect(url, { max: 1 });
      await migrate(sql, `${root}/${dir}/migrations`, () => {});
      await sql.end();
    }
    const barePort = freePort();
    const logs = mkdtempSync(`${tmpdir()}/bench-logs-`);
    const common = { SECRET_KEY: SECRET, LOGS_DIR: logs, ENV: "prod" };
    const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const start = (args: string[], env: Record<string, string>) => {
      const child = Bun.spawn(["bun", ...args], { cwd: root, env: { ...process.env, ...env }, stdout: "ignore", stderr: "inherit" });
      children.push(child);
      return child;
    };
    /** An auth and a transaction service, with metrics on free ports or off (METRICS_PORT=0). */
    const startPair = (metrics: boolean) => {
      const [authPort, transPort] = [freePort(), freePort()];
      const metricsPort = () => (metrics ? String(freePort()) : "0");
      const auth = start([...profile, "auth/index.ts"], {
        ...common,
        AUTH_DATABASE_URL: authDb,
        AUTH_SERVICE_PORT: String(authPort),
        METRICS_PORT: metricsPort(),
      });
      const transaction = start([...profile, "transaction/index.ts"], {
        ...common,
        TRANS_DATABASE_URL: transDb,
        TRANS_SERVICE_PORT: String(transPort),
        METRICS_PORT: metricsPort(),
        AUTH_SERVICE_URL: `http://127.0.0.1:${authPort}`,
        DEFAULT_BALANCE: "1000000000.00",
      });
      return { auth, transaction, authUrl: `http://127.0.0.1:${authPort}`, transUrl: `http://127.0.0.1:${transPort}` };
    };
    const pair = startPair(process.env.BENCH_METRICS !== "0");
    const off = process.env.BENCH_METRICS === "compare" ? startPair(false) : undefined;
    start(["bench/bare-server.ts", String(barePort)], {});
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const urls = [pair.authUrl, pair.transUrl, bareUrl, ...(off ? [off.authUrl, off.transUrl] : [])];
    for (const url of urls) if (!(await until(() => healthy(url), 10_000))) throw new Error(`${url} did not become healthy`);
    trans = connect(transDb, { max: 2 });
    const [version] = await trans`SELECT current_setting('server_version') AS v`;
    return {
      authUrl: pair.authUrl,
      transUrl: pair.transUrl,
      bareUrl,
      transOffUrl: off?.transUrl,
      transDb,
      trans,
      pids: { auth: pair.auth.pid, transaction: pair.transaction.pid },
      postgres: `PostgreSQL ${version!.v}${own ? " (embedded)" : ""}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The machine, as the README's table names it. */
export function machine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const memGb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024 / 1024;
  return `${navigator.hardwareConcurrency} cores (${cpu}), ${memGb.toFixed(0)} GB RAM, Bun ${Bun.version}`;
}
