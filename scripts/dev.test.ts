import { afterAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { healthy, until } from "./processes";

/**
 * Runs `bun run dev` the way a newcomer does, with no database URL and no secret, so it must
 * start its own PostgreSQL, and then checks that Ctrl-C leaves nothing of it running.
 */
const root = resolve(import.meta.dir, "..");
const dataDir = mkdtempSync(`${tmpdir()}/dev-data-`);
// As root, the embedded PostgreSQL runs as another user, who must be able to enter the folder.
chmodSync(dataDir, 0o755);
const logsDir = mkdtempSync(`${tmpdir()}/dev-logs-`);

/** Two listeners held at once, so the two ports differ; neither is 8000 or 8001 that a developer may be using. */
function freePorts(): [number, number] {
  const probes = [0, 1].map(() => Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } }));
  const ports = probes.map((probe) => probe.port);
  for (const probe of probes) probe.stop(true);
  return [ports[0]!, ports[1]!];
}
const [authPort, transPort] = freePorts();
const auth = `http://127.0.0.1:${authPort}`;
const trans = `http://127.0.0.1:${transPort}`;

const { AUTH_DATABASE_URL, TRANS_DATABASE_URL, SECRET_KEY, TEST_DATABASE_URL, ...inherited } = process.env;
const env = {
  ...inherited,
  // Empty values, unlike absent ones, also keep a developer's .env from supplying these.
  AUTH_DATABASE_URL: "",
  TRANS_DATABASE_URL: "",
  SECRET_KEY: "",
  DEV_DATA_DIR: dataDir,
  AUTH_SERVICE_PORT: String(authPort),
  TRANS_SERVICE_PORT: String(transPort),
  // dev serves metrics on 9000 and 9001, which another run on this machine may hold.
  METRICS_PORT: "0",
  LOGS_DIR: logsDir,
};

interface Drained {
  text: () => string;
  done: Promise<void>;
}

/** The children log to the same pipes, so they are drained all the time, or a full pipe would stall them. */
function drain(stream: ReadableStream<Uint8Array>): Drained {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return { text: () => text, done };
}

let dev: Subprocess<"ignore", "pipe", "pipe">;
let stdout: Drained;
let stderr: Drained;
const tail = () => `\n--- stdout ---\n${stdout.text().slice(-3000)}\n--- stderr ---\n${stderr.text().slice(-3000)}`;

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const stopped = () => {
    if (dev.exitCode !== null) throw new Error(`bun run dev exited (${dev.exitCode}) while waiting for ${what}${tail()}`);
    return false;
  };
  if (!(await until(async () => stopped() || (await check()), timeoutMs, 200))) throw new Error(`timed out waiting for ${what}${tail()}`);
}

/**
 * Every process whose command line or environment names the temporary data folder is this run's:
 * PostgreSQL has the folder on its command line, and the services, whose command lines name no
 * port, get DEV_DATA_DIR in the environment dev passes on.
 */
function processesOfThisRun(): number[] {
  if (!existsSync("/proc/self/cmdline")) {
    const ps = Bun.spawnSync(["ps", "-axww", "-o", "pid=,command="]).stdout.toString().split("\n");
    return ps.filter((line) => line.includes(dataDir)).map((line) => Number.parseInt(line, 10));
  }
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return "";
    }
  };
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .filter((pid) => read(`/proc/${pid}/cmdline`).includes(dataDir) || read(`/proc/${pid}/environ`).includes(`DEV_DATA_DIR=${dataDir}`))
    .map(Number);
}

afterAll(async () => {
  // Only after a failed test is anything left; it is this run's, found by its unique folder.
  if (dev?.exitCode === null) dev.kill("SIGKILL");
  for (const pid of processesOfThisRun()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // It ended between the scan and the kill.
    }
  }
  await Bun.sleep(200);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(logsDir, { recursive: true, force: true });
});

async function call(url: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<{ status: number; body: any }> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  const response = await fetch(url, { ...init, headers, body });
  // A missing route answers in plain text; the status then tells more than a JSON parse error.
  return { status: response.status, body: await response.json().catch(() => null) };
}

test("bun run dev serves both services on a fresh machine and Ctrl-C leaves no process behind", async () => {
  dev = Bun.spawn(["bun", "run", "dev"], { cwd: root, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  [stdout, stderr] = [drain(dev.stdout), drain(dev.stderr)];
  await waitFor("both /health", async () => (await healthy(auth)) && (await healthy(trans)), 90_000);
  // The database line is printed last, after both docs URLs.
  const databaseLine = /database: auth at 127\.0\.0\.1:(\d+)/;
  await waitFor("the URLs to be printed", async () => databaseLine.test(stdout.text()), 5_000);
  expect(stdout.text()).toContain(`http://localhost:${authPort}/docs`);
  expect(stdout.text()).toContain(`http://localhost:${transPort}/docs`);
  const pgPort = Number(databaseLine.exec(stdout.text())![1]);

  for (const username of ["alice", "bob"]) {
    const registered = await call(`${auth}/register`, {
      method: "POST",
      json: { username, email: `${username}@example.com`, password: "correct-horse-battery" },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
  }
  const login = await call(`${auth}/token`, { method: "POST", body: new URLSearchParams({ username: "alice", password: "correct-horse-battery" }) });
  expect(login.status).toBe(200);
  const token = login.body.access_token as string;

  const transfer = await call(`${trans}/transfer`, { method: "POST", token, json: { receiver_username: "bob", amount: 12.5 } });
  expect(transfer.status, JSON.stringify(transfer.body)).toBe(200);
  expect(transfer.body).toMatchObject({ amount: 12.5, sender_username: "alice", receiver_username: "bob" });
  const history = await call(`${trans}/transactions`, { token });
  expect(history.status).toBe(200);
  expect(history.body).toContainEqual(expect.objectContaining({ id: transfer.body.id, amount: 12.5, receiver_username: "bob" }));

  dev.kill("SIGINT");
  const code = await Promise.race([dev.exited, Bun.sleep(30_000).then(() => "still running after 30 s")]);
  expect(code, tail()).toBe(0);
  await Promise.race([Promise.all([stdout.done, stderr.done]), Bun.sleep(5_000)]);
  expect(processesOfThisRun()).toEqual([]);
  for (const port of [authPort, transPort, pgPort]) {
    const open = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
      (s) => (s.end(), true),
      () => false,
    );
    expect(open, `port ${port} still accepts connections`).toBe(false);
  }
}, 120_000);

test("the generated secret is kept owner-only in the data folder and never printed", () => {
  const file = `${dataDir}/secret_key`;
  const secret = readFileSync(file, "utf8").trim();
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(stdout.text()).not.toContain(secret);
  expect(stderr.text()).not.toContain(secret);
});
