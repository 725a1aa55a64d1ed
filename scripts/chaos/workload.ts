import type { Ctx } from "./context";
import type { ChaosUser } from "./model";
import { changePassword, login, probeRevoked, register } from "./ops-auth";
import { deleteSession, listSessions, logout, refresh } from "./ops-sessions";
import { account, history, replay, retryUnknown, reuseKey, transfer } from "./ops-money";

/**
 * Lets the workers run, or holds them between operations so that the checks see a quiet
 * system: `pause` returns once no operation is in flight.
 */
export class Gate {
  private paused = false;
  private active = 0;
  private resumed: (() => void)[] = [];
  private idle: (() => void)[] = [];

  async enter(): Promise<void> {
    while (this.paused) await new Promise<void>((resolve) => this.resumed.push(resolve));
    this.active++;
  }

  leave(): void {
    if (--this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  async pause(): Promise<void> {
    this.paused = true;
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  resume(): void {
    this.paused = false;
    for (const resolve of this.resumed.splice(0)) resolve();
  }
}

/** How often each operation is chosen; transfers dominate, as they would in a payment system. */
const WEIGHTS = {
  transfer: 30,
  keyedTransfer: 30,
  replay: 5,
  reuseKey: 2,
  retryUnknown: 4,
  history: 8,
  account: 8,
  register: 2,
  login: 3,
  refresh: 3,
  logout: 2,
  listSessions: 2,
  deleteSession: 1,
  changePassword: 2,
  probeRevoked: 3,
};
type Op = keyof typeof WEIGHTS;
const SESSION_OPS: Op[] = ["refresh", "logout", "listSessions", "deleteSession"];
const USERS_PER_WORKER = 6;
/** Registration goes on all run long, up to this many users a worker, so that each check stays short. */
const MAX_USERS_PER_WORKER = 12;

async function run(ctx: Ctx, op: Op, user: ChaosUser): Promise<void> {
  switch (op) {
    case "transfer":
      return transfer(ctx, user, false);
    case "keyedTransfer":
      return transfer(ctx, user, true);
    case "replay":
      return replay(ctx, user);
    case "reuseKey":
      return reuseKey(ctx, user);
    case "retryUnknown":
      return void (await retryUnknown(ctx, user));
    case "history":
      return history(ctx, user);
    case "account":
      return account(ctx, user);
    case "register":
      return ctx.model.owned(user.owner).length < MAX_USERS_PER_WORKER ? register(ctx, user.owner) : void (await login(ctx, user));
    case "login":
      return void (await login(ctx, user));
    case "refresh":
      return refresh(ctx, user);
    case "logout":
      return logout(ctx, user);
    case "listSessions":
      return listSessions(ctx, user);
    case "deleteSession":
      return deleteSession(ctx, user);
    case "changePassword":
      return changePassword(ctx, user);
    case "probeRevoked":
      return probeRevoked(ctx, user);
  }
}

/** One worker: it alone acts as its users, one operation at a time, until `stopped()` says so. */
export async function worker(ctx: Ctx, id: number, gate: Gate, stopped: () => boolean): Promise<void> {
  const weights = { ...WEIGHTS };
  if (!ctx.model.sessionsSupported) for (const op of SESSION_OPS) weights[op] = 0;
  while (!stopped()) {
    await gate.enter();
    try {
      if (stopped()) return;
      const started = performance.now();
      const owned = ctx.model.owned(id);
      const pending = [...ctx.model.users.values()].some((u) => u.owner === id && u.registered === "unknown");
      if (owned.length < USERS_PER_WORKER || pending) {
        await register(ctx, id);
      } else {
        await run(ctx, ctx.rng.weighted(weights), ctx.rng.pick(owned));
      }
      // An operation this quick met a refused connection or an outage: no need to spin on it.
      if (performance.now() - started < 2) await Bun.sleep(20);
    } finally {
      gate.leave();
    }
  }
}
