import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { freePort, healthy, until } from "../scripts/processes";
import { connect, ensureDatabase, withDatabase } from "../db/connect";
import { startEmbedded } from "../db/embedded";
import { migrate } from "../db/migrate";
import { median, pgbench, wrk, type LoadResult } from "./load";

/**
 * The benchmark: each measurement is a ratio against a baseline measured in the same run, on
 * the same machine, with the same concurrency, so that the figures mean something on any machine.
 *   /verify   against a bare Bun.serve answering the same size of JSON;
 *   /transfer against pgbench running the very SQL a transfer runs, straight on PostgreSQL.
 * Rounds alternate target and baseline; medians are reported. Needs wrk and pgbench
 * (Debian: apt-get install wrk postgresql-client).
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/**
 * BENCH_METRICS=0 runs both services with METRICS_PORT=0. BENCH_METRICS=compare also starts a
 * second pair with metrics off and measures /transfer on both pairs in every round (in turns),
 * so that what metrics cost is read against the same noise.
 */
const METRICS = process.env.BENCH_METRICS !== "0";
const COMPARE = process.env.BENCH_METRICS === "compare";
const USERS = 20;
const SECRET = "bench-secret-of-at-least-thirty-two-bytes";
const root = `${import.meta.dir}/..`;

async function waitForHealth(url: string): Promise<void> {
  if (!(await until(() => healthy(url), 10_000))) throw new Error(`${url} did not become healthy`);
}

const children: Bun.Subprocess[] = [];
function start(args: string[], env: Record<string, string>): Bun.Subprocess {
  const child = Bun.spawn(args, { cwd: root, env: { ...process.env, ...env }, stdout: "ignore", stderr: "inherit" });
  children.push(child);
  return child;
}

const ownServer = process.env.BENCH_DATABASE_URL
  ? undefined
  : await (async () => {
      const parent = mkdtempSync(`${tmpdir()}/pg-bench-`);
      chmodSync(parent, 0o755);
      return startEmbedded({ dir: `${parent}/data`, persistent: false });
    })();
const serverUrl = process.env.BENCH_DATABASE_URL ?? ownServer!.url;
try {
  const suffix = `${process.pid}`;
  const authDb = withDatabase(serverUrl, `bench_auth_${suffix}`);
  const transDb = withDatabase(serverUrl, `bench_transaction_${suffix}`);
  for (const [name, dir] of [[`bench_auth_${suffix}`, "auth"], [`bench_transaction_${suffix}`, "transaction"]] as const) {
    await ensureDatabase(serverUrl, name);
    const sql = connect(withDatabase(serverUrl, name), { max: 1 });
    await migrate(sql, `${root}/${dir}/migrations`, () => {});
    await sql.end();
  }

  const [authPort, transPort, barePort, selectPort] = [freePort(), freePort(), freePort(), freePort()];
  /** An auth and a transaction service with their own logs, and metrics on free ports or off. */
  function startPair(authPort: number, transPort: number, metrics: boolean) {
    const common = { SECRET_KEY: SECRET, LOGS_DIR: mkdtempSync(`${tmpdir()}/bench-logs-`), DB_POOL_MAX: "20", ENV: "prod" };
    const metricsPort = () => (metrics ? String(freePort()) : "0");
    start(["bun", "auth/index.ts"], { ...common, AUTH_DATABASE_URL: authDb, AUTH_SERVICE_PORT: String(authPort), METRICS_PORT: metricsPort() });
    start(["bun", "transaction/index.ts"], {
      ...common,
      METRICS_PORT: metricsPort(),
      TRANS_DATABASE_URL: transDb,
      TRANS_SERVICE_PORT: String(transPort),
      AUTH_SERVICE_URL: `http://127.0.0.1:${authPort}`,
      DEFAULT_BALANCE: "1000000000.00",
    });
    return `http://127.0.0.1:${transPort}`;
  }
  startPair(authPort, transPort, METRICS);
  const transOffUrl = COMPARE ? startPair(freePort(), freePort(), false) : undefined;
  start(["bun", "bench/bare-server.ts", String(barePort)], {});
  start(["bun", "bench/bare-server.ts", String(selectPort), authDb], {});
  const authUrl = `http://127.0.0.1:${authPort}`;
  const transUrl = `http://127.0.0.1:${transPort}`;
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const selectUrl = `http://127.0.0.1:${selectPort}`;
  await Promise.all([authUrl, transUrl, bareUrl, selectUrl, ...(transOffUrl ? [transOffUrl] : [])].map(waitForHealth));

  // Users bench1..benchN get auth ids 1..N on the fresh database; their accounts are opened by
  // a first transfer each, so that both measured paths only move money between open accounts.
  const tokens: string[] = [];
  for (let i = 1; i <= USERS; i++) {
    const user = { username: `bench${i}`, email: `bench${i}@example.com`, password: "bench-password" };
    await fetch(`${authUrl}/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(user) });
    const login = await fetch(`${authUrl}/token`, { method: "POST", body: new URLSearchParams(user) });
    tokens.push(((await login.json()) as { access_token: string }).access_token);
  }
  for (let i = 0; i < USERS; i++) {
    const res = await fetch(`${transUrl}/transfer`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens[i]}`, "content-type": "application/json" },
      body: JSON.stringify({ receiver_username: `bench${((i + 1) % USERS) + 1}`, amount: 0.01 }),
    });
    if (res.status !== 200) throw new Error(`warm-up transfer: ${res.status} ${await res.text()}`);
  }

  const luaTokens = `tokens = {${tokens.map((t) => `"${t}"`).join(",")}}`;
  const verifyLua = `${luaTokens}
request = function()
  return wrk.format("POST", "/verify", { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end`;
  const bareLua = `${luaTokens}
request = function()
  return wrk.format("POST", "/", { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end`;
  const transferLua = `${luaTokens}
request = function()
  local s = math.random(${USERS})
  local r = ((s + math.random(${USERS - 1}) - 1) % ${USERS}) + 1
  return wrk.format("POST", "/transfer", { ["Authorization"] = "Bearer " .. tokens[s], ["Content-Type"] = "application/json" },
    '{"receiver_username":"bench' .. r .. '","amount":0.01}')
end`;
  const pgbenchScript = `\\set s random(1, ${USERS})
\\set r 1 + ((:s + random(1, ${USERS - 1}) - 1) % ${USERS})
SELECT * FROM transfer_money(:s, 'bench' || :s, :r, 'bench' || :r, 1, 100000000000, NULL, NULL);
`;

  const load = { seconds: SECONDS, connections: CONNECTIONS };
  const results: Record<string, LoadResult[]> = { verify: [], bare: [], bareSelect: [], transfer: [], pgbench: [], transferOff: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    results.bare!.push(await wrk({ ...load, url: bareUrl, lua: bareLua }));
    results.bareSelect!.push(await wrk({ ...load, url: selectUrl, lua: bareLua }));
    results.verify!.push(await wrk({ ...load, url: authUrl, lua: verifyLua }));
    results.pgbench!.push(await pgbench({ ...load, url: transDb, script: pgbenchScript }));
    const transfers = [["transfer", transUrl], ...(transOffUrl ? [["transferOff", transOffUrl]] : [])];
    // In turns, so that neither side always runs first.
    for (const [name, url] of round % 2 ? transfers : transfers.reverse()) results[name!]!.push(await wrk({ ...load, url: url!, lua: transferLua }));
    console.error(`round ${round}/${ROUNDS} done`);
  }

  const rps = (name: string) => median(results[name]!.map((r) => r.requestsPerSecond));
  const errors = (name: string) => results[name]!.reduce((sum, r) => sum + r.errors, 0);
  const report = {
    machine: { cores: navigator.hardwareConcurrency, bun: Bun.version, connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, metrics: METRICS },
    median_requests_per_second: {
      bare_bun_serve: rps("bare"),
      bare_bun_serve_with_the_same_select: rps("bareSelect"),
      verify: rps("verify"),
      pgbench_transfer_money: rps("pgbench"),
      http_transfer: rps("transfer"),
    },
    ratios: {
      verify_vs_bare: rps("verify") / rps("bare"),
      verify_vs_bare_with_the_same_select: rps("verify") / rps("bareSelect"),
      transfer_vs_pgbench: rps("transfer") / rps("pgbench"),
    },
    non_2xx_or_failed: { verify: errors("verify"), transfer: errors("transfer"), pgbench: errors("pgbench") },
    ...(COMPARE && {
      metrics_cost: {
        http_transfer_metrics_on: rps("transfer"),
        http_transfer_metrics_off: rps("transferOff"),
        on_vs_off: rps("transfer") / rps("transferOff"),
        rounds_on: results.transfer!.map((r) => Math.round(r.requestsPerSecond)),
        rounds_off: results.transferOff!.map((r) => Math.round(r.requestsPerSecond)),
        non_2xx_or_failed_off: errors("transferOff"),
      },
    }),
  };
  console.log(JSON.stringify(report, null, 2));
  const audit = Bun.spawnSync(["bun", "transaction/audit.ts"], { cwd: root, env: { ...process.env, TRANS_DATABASE_URL: transDb } });
  console.log(audit.stdout.toString().trim());
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  await ownServer?.stop();
}
