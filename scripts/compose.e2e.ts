import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, statSync } from "node:fs";
import { freePort, until } from "./processes";
import { composeCommand, freshCopy, health, inspect, leftovers, must, psql, run } from "./compose-harness";

/**
 * `bun run test:compose`: the README's quick start, run for real on a Docker engine. A fresh
 * copy of the repository, `cp .env_example .env` with the two ports moved, one
 * `up -d --build` under a project name of its own, then what a user and an operator would see.
 * Not part of `bun test` (the file is not named *.test.ts): it needs Docker and a minute or two.
 * The tests run in order, each on the stack the earlier ones left.
 */
setDefaultTimeout(120_000);

const project = `e2e${process.pid}${Date.now().toString(36)}`;
const [authPort, transPort] = [freePort(), freePort()];
const auth = `http://127.0.0.1:${authPort}`,
  trans = `http://127.0.0.1:${transPort}`;
let dir: string;
let command: string[] = [];
const compose = (...args: string[]) => must([...command, "-p", project, ...args], dir);
/** The container of a service, by id: Compose v1 and v2 name containers differently. */
const container = async (service: string) => (await compose("ps", "-q", service)).split("\n").at(-1)!;
const services = ["auth_service", "transaction_service"];
let token = "";

async function upHealthy(label: string): Promise<void> {
  const started = performance.now();
  await compose("up", "-d", "--build");
  const ok = await until(async () => (await Promise.all(services.map(async (s) => health(await container(s))))).every((h) => h === "healthy"), 300_000, 1000);
  if (!ok) throw new Error(`not healthy:\n${await compose("ps")}\n${await compose("logs", "--tail=30")}`);
  console.log(`compose e2e: ${label} build and up to healthy in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const bearer = () => ({ authorization: `Bearer ${token}` });
const login = async (username: string) => fetch(`${auth}/token`, { method: "POST", body: new URLSearchParams({ username, password: "password-123" }) });

beforeAll(async () => {
  command = await composeCommand();
  dir = await freshCopy();
  // The README's way: copy the example, then move the two ports as a user would edit them.
  const env = readFileSync(`${dir}/.env_example`, "utf8")
    .replace(/^AUTH_SERVICE_PORT=.*$/m, `AUTH_SERVICE_PORT=${authPort}`)
    .replace(/^TRANS_SERVICE_PORT=.*$/m, `TRANS_SERVICE_PORT=${transPort}`);
  await Bun.write(`${dir}/.env`, env);
  await upHealthy("first");
}, 600_000);

afterAll(async () => {
  // Whatever failed above, nothing of this project may stay behind.
  if (dir && command.length) await run([...command, "-p", project, "down", "-v", "--remove-orphans"], dir);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

test("registers, logs in, transfers, and reads the history and the account through the published ports", async () => {
  for (const name of ["alice", "bob"])
    expect((await post(`${auth}/register`, { username: name, email: `${name}@example.com`, password: "password-123" })).status).toBe(200);
  const answer = await login("alice");
  expect(answer.status).toBe(200);
  token = ((await answer.json()) as { access_token: string }).access_token;
  const transfer = await post(`${trans}/transfer`, { receiver_username: "bob", amount: 12.34 }, bearer());
  expect(transfer.status).toBe(200);
  const history = (await (await fetch(`${trans}/transactions`, { headers: bearer() })).json()) as { amount: number }[];
  expect(history.map((t) => t.amount)).toEqual([12.34]);
  expect(await (await fetch(`${trans}/account`, { headers: bearer() })).json()).toMatchObject({ username: "alice", balance: 987.66 });
});

test("serves /metrics on the management ports inside the network, and publishes only the service ports", async () => {
  for (const [service, metricsPort, servicePort] of [
    ["auth_service", 9000, authPort],
    ["transaction_service", 9001, transPort],
  ] as const) {
    const id = await container(service);
    const script = `fetch("http://127.0.0.1:${metricsPort}/metrics").then((r) => r.text()).then((t) => console.log(t))`;
    const text = await must(["docker", "exec", id, "bun", "-e", script]);
    expect(text).toContain("# TYPE http_requests_total counter");
    if (service === "transaction_service") expect(text).toContain('transaction_transfers_total{outcome="done"} 1');
    expect(Object.keys(JSON.parse(await inspect(id, "{{json .HostConfig.PortBindings}}")))).toEqual([`${servicePort}/tcp`]);
  }
});

test("loads both /docs pages; the tokenUrl and the CORS origins follow the moved ports", async () => {
  for (const base of [auth, trans]) {
    const page = await fetch(`${base}/docs`);
    expect([page.status, (await page.text()).includes("swagger-ui")]).toEqual([200, true]);
  }
  const doc = (await (await fetch(`${trans}/openapi.json`)).json()) as any;
  expect(doc.components.securitySchemes.OAuth2PasswordBearer.flows.password.tokenUrl).toBe(`http://localhost:${authPort}/token`);
  const preflight = await fetch(`${auth}/token`, {
    method: "OPTIONS",
    headers: { origin: `http://localhost:${transPort}`, "access-control-request-method": "POST" },
  });
  expect(preflight.headers.get("access-control-allow-origin")).toBe(`http://localhost:${transPort}`);
});

test("both log files are on the host, owned by uid 1000, with the requests, no probe and no secret", async () => {
  const secrets = (await must(["docker", "exec", await container("auth_service"), "sh", "-c", "cat /run/secrets/*/*"])).split(/\s+/);
  for (const service of services) {
    const file = `${dir}/logs/${service}/${service}.log`;
    expect(statSync(file).uid).toBe(1000);
    const log = readFileSync(file, "utf8");
    expect(log).toContain('"event":"request"');
    expect(log).not.toContain('"path":"/health"');
    for (const secret of [...secrets, token]) expect(log.includes(secret)).toBe(false);
  }
});

test("the services run as uid 1000 with no capabilities, and see only their own settings and secrets", async () => {
  for (const [service, own, foreign] of [
    ["auth_service", "AUTH_DATABASE_URL", "TRANS_D"],
    ["transaction_service", "TRANS_DATABASE_URL", "AUTH_D"],
  ] as const) {
    const status = await must(["docker", "exec", await container(service), "cat", "/proc/1/status"]);
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    const environ = (await must(["docker", "exec", "-u", "1000", await container(service), "cat", "/proc/1/environ"])).split("\0");
    expect(environ.some((v) => v.startsWith(`${own}=postgresql://`))).toBe(true);
    expect(environ.filter((v) => v.startsWith(foreign) || v.includes("_DB_PASSWORD") || v.includes("_owner/"))).toEqual([]);
    const mounts = await inspect(await container(service), "{{range .Mounts}}{{.Name}} {{end}}");
    expect(mounts).not.toMatch(/_owner|transaction_db_login.*auth_db_login|auth_db_login.*transaction_db_login/);
  }
});

test("the services' database sessions are their own login roles: not superusers, and no DDL", async () => {
  for (const [db, owner, role] of [
    ["auth_db", "auth", "auth_service"],
    ["transaction_db", "transaction", "transaction_service"],
  ] as const) {
    const sessions = await psql(
      await container(db),
      owner,
      owner,
      "SELECT DISTINCT a.usename || ' ' || r.rolsuper FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename WHERE a.application_name = 'auth-trans-app'",
    );
    expect(sessions.out.trim().split("\n")).toEqual([`${role} false`]);
    const ddl = await psql(await container(db), owner, owner, `SET ROLE ${role}; CREATE TABLE intruder (id int)`);
    expect([ddl.code, ddl.out]).toEqual([1, expect.stringContaining("ERROR:  permission denied for schema public")]);
  }
});

test("restarting both databases is survived: the services recover without restarting", async () => {
  const before = await Promise.all(services.map(async (s) => inspect(await container(s), "{{.State.StartedAt}} {{.RestartCount}}")));
  await must(["docker", "restart", await container("auth_db"), await container("transaction_db")]);
  const ready = (base: string) =>
    fetch(`${base}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
  expect(await until(async () => (await ready(auth)) && (await ready(trans)), 60_000, 500)).toBe(true);
  expect((await login("alice")).status).toBe(200);
  expect((await post(`${trans}/transfer`, { receiver_username: "bob", amount: 1 }, bearer())).status).toBe(200);
  expect(await Promise.all(services.map(async (s) => inspect(await container(s), "{{.State.StartedAt}} {{.RestartCount}}")))).toEqual(before);
});

test("rotating the auth service's database password the README's way", async () => {
  const env = readFileSync(`${dir}/.env`, "utf8").replace(/^AUTH_DB_SERVICE_PASSWORD=.*$/m, "AUTH_DB_SERVICE_PASSWORD=rotated-password-of-the-e2e-run");
  await Bun.write(`${dir}/.env`, env);
  await compose("up", "-d");
  await compose("restart", "auth_service");
  expect(await until(async () => (await health(await container("auth_service"))) === "healthy", 60_000, 1000)).toBe(true);
  expect((await login("bob")).status).toBe(200);
  const url = await must(["docker", "exec", "-u", "1000", await container("auth_service"), "cat", "/proc/1/environ"]);
  expect(url).toContain(":rotated-password-of-the-e2e-run@auth_db:5432/");
});

test("a rebuild keeps the generated secrets: a token from before still works", async () => {
  const secret = async () => must(["docker", "exec", await container("transaction_service"), "cat", "/run/secrets/secret_key/secret_key"]);
  const before = await secret();
  await upHealthy("warm");
  expect(await secret()).toBe(before);
  expect((await fetch(`${trans}/account`, { headers: bearer() })).status).toBe(200);
});

test("`stop` gives exit 0 from both services", async () => {
  await compose("stop");
  for (const service of services) expect(await inspect(await container(service), "{{.State.ExitCode}}")).toBe("0");
});

test("`down -v` leaves no container, network or volume", async () => {
  await compose("down", "-v");
  expect(await leftovers(project)).toEqual([]);
});
