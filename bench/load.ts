import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

export interface LoadResult {
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds (wrk and pgbench). */
  p50Ms?: number;
  p99Ms?: number;
  /** Non-2xx answers and socket errors (wrk), failed transactions (pgbench): a fair run has none. */
  errors: number;
}

const scratch = () => mkdtempSync(`${tmpdir()}/bench-`);

/**
 * Runs wrk from its own process, so the load generator does not share an event loop with the
 * server it measures. `lua` defines wrk's `request()` (or nothing, for a plain GET of `url`).
 */
export async function wrk(options: { url: string; seconds: number; connections: number; lua: string }): Promise<LoadResult> {
  const script = `${scratch()}/script.lua`;
  writeFileSync(
    script,
    `${options.lua}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("bench errors %d p50 %d p99 %d\\n",
    e.status + e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  const connections = String(options.connections);
  const proc = Bun.spawn(["wrk", "-t", "1", "-c", connections, "-d", `${options.seconds}s`, "--timeout", "5s", "-s", script, options.url], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const summary = /bench errors (\d+) p50 (\d+) p99 (\d+)/.exec(out);
  if (!rps || !summary) throw new Error(`cannot read wrk output:\n${out}`);
  return {
    requestsPerSecond: Number(rps[1]),
    errors: Number(summary[1]),
    p50Ms: Number(summary[2]) / 1000,
    p99Ms: Number(summary[3]) / 1000,
  };
}

/**
 * pgbench runs the same SQL the service runs, straight against PostgreSQL: its ceiling. Its
 * per-transaction log gives the database's own latency percentiles, to set beside the service's.
 */
export async function pgbench(options: { url: string; seconds: number; connections: number; script: string }): Promise<LoadResult> {
  const dir = scratch();
  const file = `${dir}/script.sql`;
  writeFileSync(file, options.script);
  const args = [
    "-n",
    "-M",
    "prepared",
    "-c",
    String(options.connections),
    "-j",
    "1",
    "-T",
    String(options.seconds),
    "-f",
    file,
    "-l",
    `--log-prefix=${dir}/log`,
  ];
  // The session settings the services' own connections use (db/connect.ts), so that the ceiling
  // runs the function exactly as the service does.
  const env = { ...process.env, PGOPTIONS: "-c plan_cache_mode=force_generic_plan" };
  const proc = Bun.spawn(["pgbench", ...args, options.url], { stdout: "pipe", stderr: "pipe", env });
  const out = await new Response(proc.stdout).text();
  const err = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`pgbench failed: ${err}`);
  const tps = /tps = ([\d.]+)/.exec(out);
  const failed = /number of failed transactions: (\d+)/.exec(out);
  if (!tps) throw new Error(`cannot read pgbench output:\n${out}`);
  // Each log line: client, transaction number, latency in microseconds, …
  const latencies = readdirSync(dir)
    .filter((name) => name.startsWith("log"))
    .flatMap((name) => readFileSync(`${dir}/${name}`, "utf8").trim().split("\n"))
    .map((line) => Number(line.split(" ")[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { requestsPerSecond: Number(tps[1]), errors: Number(failed?.[1] ?? 0), p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** `bun bench/hash-ceiling.ts`: Bun.password.verify per second, in a process of its own. */
export async function hashCeiling(options: { seconds: number; connections: number }): Promise<LoadResult> {
  const proc = Bun.spawn(["bun", `${import.meta.dir}/hash-ceiling.ts`, String(options.seconds), String(options.connections)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("hash-ceiling failed");
  return { requestsPerSecond: (JSON.parse(out) as { perSecond: number }).perSecond, errors: 0 };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
