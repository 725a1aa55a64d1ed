import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

export interface LoadResult {
  requestsPerSecond: number;
  /** Responses other than 2xx, which a fair measurement must not have. */
  errors: number;
}

/**
 * Runs wrk from its own process, so the load generator does not share an event loop with the
 * server it measures. `luaRequest` is the body of wrk's `request()` function.
 */
export async function wrk(options: { url: string; seconds: number; connections: number; lua: string }): Promise<LoadResult> {
  const script = `${mkdtempSync(`${tmpdir()}/wrk-`)}/script.lua`;
  writeFileSync(
    script,
    `${options.lua}
done = function(summary, latency, requests)
  io.write(string.format("non2xx %d\\n", summary.errors.status))
end
`,
  );
  const proc = Bun.spawn(
    ["wrk", "-t", "1", "-c", String(options.connections), "-d", `${options.seconds}s`, "-s", script, options.url],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const non2xx = /non2xx (\d+)/.exec(out);
  if (!rps) throw new Error(`cannot read wrk output:\n${out}`);
  return { requestsPerSecond: Number(rps[1]), errors: Number(non2xx?.[1] ?? 0) };
}

/** pgbench runs the same SQL the service runs, straight against PostgreSQL: its ceiling. */
export async function pgbench(options: { url: string; seconds: number; connections: number; script: string }): Promise<LoadResult> {
  const file = `${mkdtempSync(`${tmpdir()}/pgbench-`)}/script.sql`;
  writeFileSync(file, options.script);
  const proc = Bun.spawn(
    ["pgbench", "-n", "-M", "prepared", "-c", String(options.connections), "-j", "1", "-T", String(options.seconds), "-f", file, options.url],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(proc.stdout).text();
  const err = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`pgbench failed: ${err}`);
  const tps = /tps = ([\d.]+)/.exec(out);
  const failed = /number of failed transactions: (\d+)/.exec(out);
  if (!tps) throw new Error(`cannot read pgbench output:\n${out}`);
  return { requestsPerSecond: Number(tps[1]), errors: Number(failed?.[1] ?? 0) };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
