import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { registerAndLogin, TEST_SECRET } from "../../auth/test-server";
import { logLines } from "../../common/testing";
import { freePort, healthy, until } from "../../scripts/processes";
import { testDatabase, type TestDatabase } from "../../db/testing";

/**
 * The alert rules pass promtool, and a real Prometheus (Debian's package; .ci/run installs it)
 * scrapes both services, started as `bun run start:*` starts them, each on its own metrics port.
 */
setDefaultTimeout(60_000);

const root = resolve(import.meta.dir, "../..");
const here = import.meta.dir;
const TRANSFERS = 5;
const TRACE = "0af7651916cd43dd8448eb211c80319c";

test("promtool check rules accepts alerts.yml", () => {
  const run = Bun.spawnSync(["promtool", "check", "rules", `${here}/alerts.yml`]);
  expect({ exitCode: run.exitCode, out: run.stdout.toString() }).toEqual({ exitCode: 0, out: expect.stringContaining("SUCCESS: 5 rules found") });
});

test("promtool test rules: each alert fires on its series and stays quiet on healthy ones", () => {
  const run = Bun.spawnSync(["promtool", "test", "rules", "alerts.test.yml"], { cwd: here });
  expect({ exitCode: run.exitCode, out: `${run.stdout}${run.stderr}` }).toEqual({ exitCode: 0, out: expect.stringContaining("SUCCESS") });
});

describe("a real Prometheus scraping both services", () => {
  const work = mkdtempSync(`${tmpdir()}/prometheus-test-`);
  const ports = { auth: freePort(), authMetrics: freePort(), trans: freePort(), transMetrics: freePort(), prometheus: freePort() };
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const children: Subprocess[] = [];
  const dbs: TestDatabase[] = [];
  // A test run that dies must not leave Prometheus or a service behind.
  const killAll = () => children.forEach((child) => child.kill("SIGKILL"));
  process.on("exit", killAll);

  function start(args: string[], env: Record<string, string>, log: string): Subprocess {
    // In an empty folder, so that no .env of the developer's is read.
    const child = Bun.spawn(args, {
      cwd: work,
      env: { PATH: process.env.PATH, ...env },
      stdout: Bun.file(`${work}/${log}`),
      stderr: Bun.file(`${work}/${log}.err`),
    });
    children.push(child);
    return child;
  }

  /** One PromQL query through Prometheus's HTTP API. */
  async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(`${url(ports.prometheus)}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success") throw new Error(`${promql}: ${JSON.stringify(body)}`);
    return body.data.result;
  }
  const scalar = async (promql: string) => Number((await query(promql))[0]?.value[1] ?? NaN);

  beforeAll(async () => {
    dbs.push(await testDatabase("auth"), await testDatabase("transaction"));
    const common = { SECRET_KEY: TEST_SECRET, ENV: "test", LOGS_DIR: `${work}/logs`, IS_DEBUG: "1" };
    start(
      ["bun", `${root}/auth/index.ts`],
      { ...common, AUTH_DATABASE_URL: dbs[0]!.url, AUTH_SERVICE_PORT: String(ports.auth), METRICS_PORT: String(ports.authMetrics) },
      "auth.out",
    );
    start(
      ["bun", `${root}/transaction/index.ts`],
      {
        ...common,
        TRANS_DATABASE_URL: dbs[1]!.url,
        TRANS_SERVICE_PORT: String(ports.trans),
        METRICS_PORT: String(ports.transMetrics),
        AUTH_SERVICE_URL: url(ports.auth),
      },
      "transaction.out",
    );
    await Bun.write(
      `${work}/prometheus.yml`,
      `global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["${here}/alerts.yml"]
scrape_configs:
  - job_name: auth
    static_configs: [{targets: ["127.0.0.1:${ports.authMetrics}"]}]
  - job_name: transaction
    static_configs: [{targets: ["127.0.0.1:${ports.transMetrics}"]}]
`,
    );
    start(
      ["prometheus", `--config.file=${work}/prometheus.yml`, `--storage.tsdb.path=${work}/tsdb`, `--web.listen-address=127.0.0.1:${ports.prometheus}`],
      {},
      "prometheus.out",
    );
    const ready = await until(async () => (await healthy(url(ports.auth))) && (await healthy(url(ports.trans))), 20_000);
    if (!ready)
      throw new Error(`the services did not start: ${readFileSync(`${work}/auth.out.err`, "utf8")}${readFileSync(`${work}/transaction.out.err`, "utf8")}`);
    const prometheusReady = await until(
      () =>
        fetch(`${url(ports.prometheus)}/-/ready`).then(
          (r) => r.ok,
          () => false,
        ),
      20_000,
    );
    if (!prometheusReady) throw new Error(`Prometheus did not start: ${readFileSync(`${work}/prometheus.out.err`, "utf8").slice(-2000)}`);
  });

  afterAll(async () => {
    for (const child of children) child.kill("SIGTERM");
    await Promise.race([Promise.all(children.map((child) => child.exited)), Bun.sleep(10_000)]);
    killAll();
    process.off("exit", killAll);
    await Promise.all(dbs.map((db) => db.drop()));
  });

  test("serves /metrics only on the metrics ports", async () => {
    expect(ports.authMetrics).not.toBe(ports.auth);
    expect(ports.transMetrics).not.toBe(ports.trans);
    for (const [service, metrics] of [
      [ports.auth, ports.authMetrics],
      [ports.trans, ports.transMetrics],
    ] as const) {
      expect((await fetch(`${url(service)}/metrics`)).status).toBe(404);
      expect((await fetch(`${url(metrics)}/metrics`)).status).toBe(200);
    }
  });

  test("sees both services up, every transfer made, and the alert rules loaded", async () => {
    const alice = await registerAndLogin(url(ports.auth), "alice");
    await registerAndLogin(url(ports.auth), "bob");
    for (let i = 0; i < TRANSFERS; i++) {
      const answer = await fetch(`${url(ports.trans)}/transfer`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json", traceparent: `00-${TRACE}-b7ad6b7169203331-01` },
        body: JSON.stringify({ receiver_username: "bob", amount: 1 }),
      });
      expect(answer.status).toBe(200);
    }
    // Prometheus hands its scrape loops their targets in batches, seconds apart: wait for both.
    const upByJob = async () => Object.fromEntries((await query("up")).map((r) => [r.metric.job, r.value[1]]));
    const done = () => scalar('sum(transaction_transfers_total{outcome="done"})');
    const bothUp = async () => {
      const up = await upByJob();
      return up.auth === "1" && up.transaction === "1";
    };
    const seen = await until(async () => (await bothUp()) && (await done()) === TRANSFERS, 30_000, 250);
    expect(await upByJob()).toEqual({ auth: "1", transaction: "1" });
    expect(await done()).toBe(TRANSFERS);
    expect(seen).toBe(true);
    expect(await scalar('sum(http_requests_total{job="transaction",route="/transfer",status="200"})')).toBe(TRANSFERS);
    expect(await scalar("sum(transaction_money_moved_minor_total)")).toBe(TRANSFERS * 100);
    expect(await scalar('sum(auth_registrations_total{outcome="created"})')).toBe(2);
    const rules = (await (await fetch(`${url(ports.prometheus)}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual([
      "AuthServiceUnreachable",
      "HighErrorRate",
      "RefreshTokenReuse",
      "ThrottlingSpike",
      "TransferLatencyHigh",
    ]);
    expect(loaded.every((r) => r.health === "ok")).toBe(true);
  });

  test("finds every transfer's lines in both services' logs by the client's trace id", async () => {
    const trans = (await logLines(`${work}/logs/transaction_service/transaction_service.log`)).filter((l) => l.trace_id === TRACE);
    const auth = (await logLines(`${work}/logs/auth_service/auth_service.log`)).filter((l) => l.trace_id === TRACE);
    // Per transfer: the request line, transfer_done and the /verify debug line here; the /verify request there.
    expect(trans.filter((l) => l.event === "transfer_done")).toHaveLength(TRANSFERS);
    expect(auth.filter((l) => l.event === "request" && l.path === "/verify")).toHaveLength(TRANSFERS);
    const spans = new Set(trans.map((l) => l.span_id));
    expect(spans.size).toBe(TRANSFERS);
    expect(auth.every((l) => spans.has(l.parent_span_id))).toBe(true);
  });
});
