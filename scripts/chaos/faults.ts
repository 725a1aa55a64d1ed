import { until } from "../processes";
import { connect } from "../../db/connect";
import type { Instance } from "./cluster";
import { latestToken, type Ctx } from "./context";
import { Violation, type ChaosUser } from "./model";
import { changePassword, login, tokenOf } from "./ops-auth";
import { newTransfer, sendTransfer } from "./ops-money";
import type { Answer } from "./recorder";

export const FAULTS = ["kill-transaction", "term-instance", "restart-auth", "restart-postgres", "kill-listen"] as const;
export type Fault = (typeof FAULTS)[number];

/** The controller acts as these two users; no worker does. */
export interface Sentinels {
  payer: ChaosUser;
  victim: ChaosUser;
}

/** Keyed transfers from the payer, fired at one instance and left running. */
async function burst(ctx: Ctx, s: Sentinels, instance: Instance, count: number): Promise<Promise<Answer>[]> {
  const token = await tokenOf(ctx, s.payer);
  if (!token) throw new Violation("the sentinel user logs in", `${s.payer.name} could not log in before a fault`);
  return Array.from({ length: count }, () => {
    const request = newTransfer(ctx, s.payer, true);
    request.amountMinor = ctx.rng.int(1, 100);
    return sendTransfer(ctx, request, token, instance, "burst");
  });
}

async function restart(ctx: Ctx, instance: Instance): Promise<void> {
  await Bun.sleep(ctx.rng.int(200, 1000));
  await ctx.cluster.start(instance);
}

async function killTransaction(ctx: Ctx, s: Sentinels): Promise<string> {
  const instance = ctx.rng.pick(ctx.cluster.transaction);
  const answers = await burst(ctx, s, instance, 16);
  await Bun.sleep(ctx.rng.int(2, 40));
  await ctx.cluster.signal(instance, "SIGKILL");
  const lost = (await Promise.all(answers)).filter((a) => a.status === 0).length;
  await restart(ctx, instance);
  return `SIGKILL ${instance.name} with 16 keyed transfers sent to it: ${lost} unanswered`;
}

/** Requests that reached the instance before SIGTERM must all be answered, and it must exit 0. */
async function termInstance(ctx: Ctx, s: Sentinels): Promise<string> {
  const instance = ctx.rng.pick(ctx.cluster.all);
  let answers: Promise<Answer>[];
  if (instance.kind === "transaction") answers = await burst(ctx, s, instance, 16);
  else {
    // Logins hash a password each (tens of ms of argon2id), so several are still running at SIGTERM.
    answers = Array.from({ length: 6 }, () =>
      ctx.rec.send(instance, "burst-login", { path: "/token", form: { username: s.payer.name, password: s.payer.passwords[0]! } }),
    );
  }
  await Bun.sleep(50);
  const signalled = performance.now();
  const code = await ctx.cluster.signal(instance, "SIGTERM");
  const exitMs = Math.round(performance.now() - signalled);
  const done = await Promise.all(answers);
  const cut = done.filter((a) => a.status === 0);
  if (cut.length > 0)
    throw new Violation("SIGTERM: requests already accepted finish", `${instance.name}: ${cut.length} of ${done.length} got no answer (${cut[0]!.error})`);
  if (code !== 0) throw new Violation("SIGTERM: a graceful shutdown exits 0", `${instance.name} exited ${code}`);
  await restart(ctx, instance);
  const answered = Object.entries(Object.groupBy(done, (a) => `${a.status}${a.body?.code ? ` ${a.body.code}` : ""}`)).map(([k, v]) => `${v!.length}× ${k}`);
  return `SIGTERM ${instance.name} with ${done.length} requests in flight: all answered (${answered.join(", ")}), exit 0 after ${exitMs} ms`;
}

/** With the auth service down, a transfer is refused with 503 auth_unavailable at once. */
async function restartAuth(ctx: Ctx, s: Sentinels): Promise<string> {
  const token = await tokenOf(ctx, s.payer);
  if (!token) throw new Violation("the sentinel user logs in", `${s.payer.name} could not log in before a fault`);
  await Promise.all(ctx.cluster.auth.map((i) => ctx.cluster.signal(i, "SIGTERM")));
  const timings: number[] = [];
  for (const instance of ctx.cluster.transaction) {
    const request = newTransfer(ctx, s.payer, true);
    request.receiver = s.victim.name;
    const answer = await sendTransfer(ctx, request, token, instance, "auth-down-probe");
    if (answer.status !== 503 || answer.body?.code !== "auth_unavailable" || answer.ms > 1000) {
      throw new Violation(
        "auth down: transfers get 503 auth_unavailable, fast",
        `${instance.name}: ${answer.status} ${JSON.stringify(answer.body)} in ${Math.round(answer.ms)} ms`,
      );
    }
    timings.push(Math.round(answer.ms));
  }
  await Bun.sleep(ctx.rng.int(500, 2000));
  await Promise.all(ctx.cluster.auth.map((i) => ctx.cluster.start(i)));
  return `both auth instances stopped: transfers answered 503 auth_unavailable in ${timings.join(", ")} ms; restarted`;
}

const ready = (instance: Instance) =>
  fetch(`${instance.url}/ready`, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    () => 0,
  );

/** /ready turns 503 while PostgreSQL is down and 200 after, with no service restarted. */
async function restartPostgres(ctx: Ctx): Promise<string> {
  const pids = ctx.cluster.all.map((i) => i.process?.pid);
  const { restart } = ctx.database;
  let how: string;
  if (restart) {
    await restart.stop();
    for (const instance of ctx.cluster.all) {
      const status = await ready(instance);
      if (status !== 503) throw new Violation("PostgreSQL down: /ready answers 503", `${instance.name} answered ${status}`);
    }
    await Bun.sleep(ctx.rng.int(300, 2000));
    await restart.start();
    how = "PostgreSQL stopped (fast shutdown) and started again";
  } else {
    // Not our server to restart: every connection of the services is cut instead.
    const admin = connect(ctx.database.authUrl, { max: 1 });
    const [row] = await admin<{ n: number }[]>`
      SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname IN (${new URL(ctx.database.authUrl).pathname.slice(1)}, ${new URL(ctx.database.transUrl).pathname.slice(1)}) AND pid <> pg_backend_pid()`;
    await admin.end({ timeout: 5 });
    how = `CHAOS_DATABASE_URL is not ours to restart: ${row!.n} service connections terminated instead`;
  }
  for (const instance of ctx.cluster.all) {
    if (!(await until(async () => (await ready(instance)) === 200, 20_000, 200))) {
      throw new Violation("the pools recover without a service restart", `${instance.name}'s /ready was not 200 within 20 s`);
    }
  }
  if (ctx.cluster.all.some((i, n) => i.process?.pid !== pids[n] || i.process?.exitCode !== null)) {
    throw new Violation("the pools recover without a service restart", "a service process exited during the database restart");
  }
  return `${how}: /ready 503 on every instance, then 200 again with the same processes`;
}

/** The auth service's LISTEN connection (of the verify cache) is killed; a revoked token must still be refused. */
async function killListen(ctx: Ctx, s: Sentinels): Promise<string> {
  const admin = connect(ctx.database.authUrl, { max: 1 });
  const [row] = await admin<{ n: number }[]>`
    SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`;
  await admin.end({ timeout: 5 });
  const note = row!.n > 0 ? `${row!.n} LISTEN connection(s) terminated` : "no LISTEN connection to terminate (no verify cache listens)";
  const session = await login(ctx, s.victim);
  if (!session) throw new Violation("the sentinel user logs in", `${s.victim.name} could not log in`);
  const token = latestToken(session);
  // Each instance sees the token once while it is good, as a cache would remember it.
  for (const instance of ctx.cluster.transaction) await ctx.rec.send(instance, "listen-warm", { path: "/account", token });
  await changePassword(ctx, s.victim);
  if (s.victim.sessions.length > 0) return `${note}; the password change was not confirmed, so no revocation probe`;
  for (const instance of [...ctx.cluster.auth, ...ctx.cluster.transaction]) {
    const path = instance.kind === "auth" ? "/verify" : "/account";
    const answer = await ctx.rec.send(instance, "listen-probe", { method: instance.kind === "auth" ? "POST" : "GET", path, token });
    if (answer.status !== 401) throw new Violation("no token of a changed password is accepted", `${instance.name} ${path}: ${answer.status}`);
  }
  return `${note}; a token revoked right after was refused (401) by all four instances`;
}

export async function inject(ctx: Ctx, fault: Fault, sentinels: Sentinels): Promise<string> {
  switch (fault) {
    case "kill-transaction":
      return killTransaction(ctx, sentinels);
    case "term-instance":
      return termInstance(ctx, sentinels);
    case "restart-auth":
      return restartAuth(ctx, sentinels);
    case "restart-postgres":
      return restartPostgres(ctx);
    case "kill-listen":
      return killListen(ctx, sentinels);
  }
}
