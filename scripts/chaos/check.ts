import { resolve } from "node:path";
import { connect } from "../../db/connect";
import type { Ctx } from "./context";
import { formatMinor, Violation, type ChaosUser, type TransferRequest } from "./model";
import { tokenOf } from "./ops-auth";
import { sendTransfer } from "./ops-money";

const root = resolve(import.meta.dir, "../..");
const lower = (name: string) => name.toLowerCase();

interface Row {
  id: number;
  sender: string;
  receiver: string;
  amount: number;
  key: string | null;
}

/** `bun run audit`, exactly as an operator runs it, against the run's transaction database. */
async function runAuditor(ctx: Ctx): Promise<void> {
  const proc = Bun.spawn(["bun", "run", "audit"], {
    cwd: root,
    env: { ...process.env, TRANS_DATABASE_URL: ctx.database.transUrl },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Violation("the auditor (bun run audit) finds the ledger balanced", `exit ${code}: ${(out + err).trim()}`);
}

async function ledger(ctx: Ctx): Promise<Row[]> {
  const sql = connect(ctx.database.transUrl, { max: 1 });
  try {
    const rows = await sql<{ id: bigint; sender: string; receiver: string; amount: bigint; key: string | null }[]>`
      SELECT t.id, s.username AS sender, r.username AS receiver, t.amount, k.key
      FROM transfers t JOIN accounts s ON s.id = t.sender_id JOIN accounts r ON r.id = t.receiver_id
      LEFT JOIN idempotency_keys k ON k.transfer_id = t.id`;
    return rows.map((r) => ({ id: Number(r.id), sender: r.sender, receiver: r.receiver, amount: Number(r.amount), key: r.key }));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Every transfer in the ledger must be one the client asked for and was not refused: an
 * acknowledged one (same parties, same amount), or one whose answer was lost. A lost one with
 * a key must be the key's request; one without a key is matched by its parties and amount.
 */
function reconcile(ctx: Ctx, rows: Row[]): { committed: number } {
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const [id, request] of ctx.model.acked) {
    const row = byId.get(id);
    if (!row) throw new Violation("every acknowledged transfer is in the history", `transfer ${id} (request #${request.n}) is not in the ledger`);
    if (lower(row.sender) !== lower(request.sender) || lower(row.receiver) !== lower(request.receiver) || row.amount !== request.amountMinor) {
      throw new Violation("every acknowledged transfer is in the history", `transfer ${id} is ${JSON.stringify(row)}, acknowledged as request #${request.n}`);
    }
  }
  const byKey = new Map<string, TransferRequest>();
  const keyless = new Map<string, TransferRequest[]>();
  for (const t of ctx.model.transfers) {
    if (t.key && !t.reuse) byKey.set(`${lower(t.sender)}\n${t.key}`, t);
    if (!t.key && t.state === "unknown") {
      const triple = `${lower(t.sender)}\n${lower(t.receiver)}\n${t.amountMinor}`;
      keyless.set(triple, [...(keyless.get(triple) ?? []), t]);
    }
  }
  let committed = 0;
  for (const row of rows) {
    if (ctx.model.acked.has(row.id) || ctx.model.committed.has(row.id)) continue;
    const described = `transfer ${row.id} (${row.sender} → ${row.receiver}, ${formatMinor(row.amount)})`;
    if (row.key) {
      const request = byKey.get(`${lower(row.sender)}\n${row.key}`);
      if (!request || request.state === "refused") {
        throw new Violation(
          "no refused transfer moved money",
          `${described} under key ${row.key}, which the client ${request ? `saw refused (${request.code})` : "never sent"}`,
        );
      }
      continue; // Its answer was lost and its retry has not got through yet: the next check retries it.
    }
    const candidates = keyless.get(`${lower(row.sender)}\n${lower(row.receiver)}\n${row.amount}`);
    const request = candidates?.shift();
    if (!request) throw new Violation("no refused transfer moved money", `${described} matches no unanswered request of the client`);
    request.state = "committed";
    request.id = row.id;
    ctx.model.committed.set(row.id, request);
    committed++;
  }
  return { committed };
}

/** Every page of the user's history: each of their transfers exactly once, and nothing else. */
async function checkHistory(ctx: Ctx, user: ChaosUser, token: string, expected: Set<number>): Promise<void> {
  const seen: number[] = [];
  for (let skip = 0; ; skip += 1000) {
    const answer = await ctx.rec.send(ctx.rng.pick(ctx.cluster.transaction), "check-history", { path: `/transactions?limit=1000&skip=${skip}`, token });
    if (answer.status !== 200) throw new Violation("the history can be read after a fault", `${user.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
    seen.push(...(answer.body as { id: number }[]).map((t) => t.id));
    if (answer.body.length < 1000) break;
  }
  const unique = new Set(seen);
  if (unique.size !== seen.length) {
    const twice = seen.find((id, i) => seen.indexOf(id) !== i);
    throw new Violation("every acknowledged transfer in the history exactly once", `${user.name}'s history lists ${twice} twice`);
  }
  const missing = [...expected].find((id) => !unique.has(id));
  if (missing !== undefined) throw new Violation("every acknowledged transfer in the history exactly once", `${user.name}'s history lacks transfer ${missing}`);
  const extra = seen.find((id) => !expected.has(id));
  if (extra !== undefined)
    throw new Violation("no refused transfer moved money", `${user.name}'s history lists transfer ${extra}, which the client never had acknowledged`);
}

export interface CheckReport {
  retried: number;
  committedUnacknowledged: number;
  transfers: number;
  users: number;
}

/** Everything the client recorded against what the services and the database say; the workers are paused. */
export async function checkAll(ctx: Ctx): Promise<CheckReport> {
  const pending = [...ctx.model.unknownKeyed];
  for (const request of pending) {
    const sender = ctx.model.users.get(lower(request.sender))!;
    const token = await tokenOf(ctx, sender);
    if (token) await sendTransfer(ctx, request, token, undefined, "check-retry");
  }
  await runAuditor(ctx);
  const rows = await ledger(ctx);
  const { committed } = reconcile(ctx, rows);
  const moved = ctx.model.transfers.filter((t) => t.state === "acked" || t.state === "committed");
  const balances = new Map<string, number>();
  const involved = new Map<string, Set<number>>();
  for (const t of moved) {
    for (const [name, delta] of [
      [lower(t.sender), -t.amountMinor],
      [lower(t.receiver), t.amountMinor],
    ] as const) {
      balances.set(name, (balances.get(name) ?? 0) + delta);
      involved.set(name, (involved.get(name) ?? new Set()).add(t.id!));
    }
  }
  let total = 0;
  const users = ctx.model.registered();
  for (const user of users) {
    const token = await tokenOf(ctx, user);
    if (!token) throw new Violation("a user's current password logs in", `${user.name} could not log in for the check`);
    await checkHistory(ctx, user, token, involved.get(lower(user.name)) ?? new Set());
    const answer = await ctx.rec.send(ctx.rng.pick(ctx.cluster.transaction), "check-account", { path: "/account", token });
    if (answer.status !== 200) throw new Violation("the account can be read after a fault", `${user.name}: ${answer.status}`);
    const balanceMinor = Math.round(answer.body.balance * 100);
    const expected = ctx.model.openingMinor + (balances.get(lower(user.name)) ?? 0);
    if (balanceMinor < 0) throw new Violation("no balance is negative", `${user.name}: ${formatMinor(balanceMinor)}`);
    if (balanceMinor !== expected) {
      throw new Violation(
        "each balance is its opening plus what the client saw received minus sent",
        `${user.name}: ${formatMinor(balanceMinor)}, expected ${formatMinor(expected)}`,
      );
    }
    total += balanceMinor;
  }
  if (total !== users.length * ctx.model.openingMinor) {
    throw new Violation("the sum of balances equals the sum of openings", `${formatMinor(total)} over ${users.length} accounts`);
  }
  return { retried: pending.length, committedUnacknowledged: committed, transfers: rows.length, users: users.length };
}
