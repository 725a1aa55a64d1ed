import type { Subprocess } from "bun";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { TEST_SECRET } from "../auth/test-server";
import { freePort, healthy, until } from "../scripts/processes";
import { testDatabase, type TestDatabase } from "../db/testing";

const root = resolve(import.meta.dir, "..");

export interface ServiceProcess {
  url: string;
  db: TestDatabase;
  logFile: string;
  process: Subprocess;
}

/**
 * One service as `bun run start:<service>` runs it: its own process, its own fresh database, a
 * folder without a .env for its working directory, and only the environment given here.
 */
export async function startServiceProcess(kind: "auth" | "transaction", env: Record<string, string> = {}): Promise<ServiceProcess> {
  const db = await testDatabase(kind);
  const port = freePort();
  const logsDir = mkdtempSync(`${tmpdir()}/${kind}-process-`);
  const service = kind === "auth" ? "auth_service" : "transaction_service";
  const own =
    kind === "auth" ? { AUTH_DATABASE_URL: db.url, AUTH_SERVICE_PORT: String(port) } : { TRANS_DATABASE_URL: db.url, TRANS_SERVICE_PORT: String(port) };
  const proc = Bun.spawn([process.execPath, `${root}/${kind}/index.ts`], {
    cwd: logsDir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: logsDir,
      SECRET_KEY: TEST_SECRET,
      ENV: "test",
      LOGS_DIR: logsDir,
      METRICS_PORT: String(freePort()),
      ...own,
      ...env,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${port}`;
  if (!(await until(() => healthy(url), 20_000))) {
    proc.kill();
    throw new Error(`${kind} did not start: ${await new Response(proc.stderr as ReadableStream).text()}`);
  }
  return { url, db, logFile: `${logsDir}/${service}/${service}.log`, process: proc };
}

/** Ends the process (if it still runs) and drops its database. */
export async function stopServiceProcess(service: ServiceProcess | undefined): Promise<void> {
  if (!service) return;
  if (service.process.exitCode === null) {
    service.process.kill("SIGTERM");
    await service.process.exited;
  }
  await service.db.drop();
}
