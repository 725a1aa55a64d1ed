import type { Instance } from "./cluster";
import { pickUp, pushBounded, type Ctx } from "./context";
import { Violation, type ChaosUser, type TransferRequest } from "./model";
import { unknownOutcome, type Answer } from "./recorder";
import { tokenOf } from "./ops-auth";

const lower = (name: string) => name.toLowerCase();

/**
 * Sends one transfer (a new one, or a retry of `request` with its key) and records what the
 * answer proves: 200 acknowledged, a 4xx or `auth_unavailable` refused (no money may move), no
 * answer or `database_unavailable` unknown (the audit decides, and a retry with the key).
 */
export async function sendTransfer(ctx: Ctx, request: TransferRequest, token: string, instance?: Instance, label = "transfer"): Promise<Answer> {
  const headers: Record<string, string> = request.key ? { "idempotency-key": request.key } : {};
  const json = { receiver_username: request.receiver, amount: request.amountMinor / 100 };
  const target = instance ?? pickUp(ctx, ctx.cluster.transaction);
  request.attempts++;
  const answer = await ctx.rec.send(target, label, { path: "/transfer", json, token, headers });
  if (answer.status === 200) {
    const body = answer.body;
    const replayed = answer.headers.get("idempotent-replayed") === "true";
    if (
      lower(body.sender_username) !== lower(request.sender) ||
      lower(body.receiver_username) !== lower(request.receiver) ||
      Math.round(body.amount * 100) !== request.amountMinor
    ) {
      throw new Violation("a transfer's answer is the transfer asked for", `request #${request.n} answered ${JSON.stringify(body)}`);
    }
    if (replayed && request.attempts === 1) {
      throw new Violation("a new Idempotency-Key is never replayed", `request #${request.n} with key ${request.key} answered Idempotent-Replayed`);
    }
    ctx.model.acknowledge(request, body.id);
  } else if (unknownOutcome(answer)) {
    if (request.state !== "acked") request.state = "unknown";
  } else if (request.state !== "acked") {
    request.state = "refused";
    request.code = answer.body?.code ?? String(answer.status);
  }
  if (request.key && !request.reuse && request.state === "unknown") ctx.model.unknownKeyed.add(request);
  else ctx.model.unknownKeyed.delete(request);
  return answer;
}

/** A new transfer from `user`: mostly to another user, sometimes to nobody, to themself, or too much. */
export function newTransfer(ctx: Ctx, user: ChaosUser, keyed: boolean): TransferRequest {
  const others = ctx.model.registered().filter((u) => u !== user);
  const kind = ctx.rng.weighted({ normal: 90, nobody: 3, self: 3, tooMuch: 4 });
  const receiver =
    kind === "nobody" || others.length === 0 ? `nobody_${ctx.rng.word(6)}` : kind === "self" ? user.name.toUpperCase() : ctx.rng.pick(others).name;
  const amountMinor = kind === "tooMuch" ? ctx.rng.int(10_000_000, 100_000_000) : ctx.rng.int(1, 2500);
  const n = ctx.model.next();
  const request: TransferRequest = {
    n,
    sender: user.name,
    receiver,
    amountMinor,
    state: "unknown",
    attempts: 0,
    key: keyed ? `k-${ctx.seed}-${n}` : undefined,
  };
  ctx.model.transfers.push(request);
  if (keyed) pushBounded(user.keyed, request, 50);
  return request;
}

export async function transfer(ctx: Ctx, user: ChaosUser, keyed: boolean): Promise<void> {
  const token = await tokenOf(ctx, user);
  if (token) await sendTransfer(ctx, newTransfer(ctx, user, keyed), token);
}

const ackedKeyed = (user: ChaosUser) => user.keyed.filter((t) => t.state === "acked");

/** The same key and body again: the first transfer comes back, and no money moves. */
export async function replay(ctx: Ctx, user: ChaosUser): Promise<void> {
  const done = ackedKeyed(user);
  const token = done.length > 0 && (await tokenOf(ctx, user));
  if (!token) return;
  const original = ctx.rng.pick(done);
  const id = original.id;
  const answer = await sendTransfer(ctx, original, token, undefined, "replay");
  if (answer.status === 200 && (answer.body.id !== id || answer.headers.get("idempotent-replayed") !== "true")) {
    throw new Violation("a replay moves no money", `key ${original.key} first gave transfer ${id}, its replay ${JSON.stringify(answer.body)}`);
  }
  if (answer.status >= 400 && answer.status < 500) {
    throw new Violation(
      "a replay returns the first transfer",
      `key ${original.key} (transfer ${id}) replayed as ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
}

/** The same key with another amount: refused with 422, and nothing moves. */
export async function reuseKey(ctx: Ctx, user: ChaosUser): Promise<void> {
  const done = ackedKeyed(user);
  const token = done.length > 0 && (await tokenOf(ctx, user));
  if (!token) return;
  const original = ctx.rng.pick(done);
  const n = ctx.model.next();
  const request: TransferRequest = { ...original, n, amountMinor: original.amountMinor + 1, state: "unknown", attempts: 0, id: undefined, reuse: true };
  ctx.model.transfers.push(request);
  const answer = await sendTransfer(ctx, request, token, undefined, "reuse-key");
  if (answer.status === 200 || (answer.status === 422 && answer.body?.code !== "idempotency_key_reused")) {
    throw new Violation(
      "a key reused with another body is refused",
      `key ${original.key} with amount ${request.amountMinor}: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
}

/** A transfer whose answer was lost is sent again with its key: it is replayed, or made now. */
export async function retryUnknown(ctx: Ctx, user: ChaosUser): Promise<boolean> {
  const unknown = [...ctx.model.unknownKeyed].filter((t) => t.sender === user.name);
  const token = unknown.length > 0 && (await tokenOf(ctx, user));
  if (!token) return false;
  await sendTransfer(ctx, ctx.rng.pick(unknown), token, undefined, "retry");
  return true;
}

export async function history(ctx: Ctx, user: ChaosUser): Promise<void> {
  const token = await tokenOf(ctx, user);
  if (!token) return;
  const query = ctx.rng.chance(0.5) ? "" : `?limit=${ctx.rng.int(1, 1000)}&skip=${ctx.rng.int(0, 20)}`;
  const answer = await ctx.rec.send(pickUp(ctx, ctx.cluster.transaction), "history", { path: `/transactions${query}`, token });
  if (answer.status !== 200) return;
  const foreign = (answer.body as any[]).find((t) => lower(t.sender_username) !== lower(user.name) && lower(t.receiver_username) !== lower(user.name));
  if (foreign) throw new Violation("a history holds only the user's transfers", `${user.name} was shown ${JSON.stringify(foreign)}`);
}

export async function account(ctx: Ctx, user: ChaosUser): Promise<void> {
  const token = await tokenOf(ctx, user);
  if (!token) return;
  const answer = await ctx.rec.send(pickUp(ctx, ctx.cluster.transaction), "account", { path: "/account", token });
  if (answer.status === 200 && !(answer.body.balance >= 0)) throw new Violation("no balance is negative", `${user.name}: ${JSON.stringify(answer.body)}`);
}
