import type { Cluster, DatabaseServer, Instance } from "./cluster";
import type { ChaosUser, Model, Session } from "./model";
import type { Prng } from "./prng";
import type { Answer, Recorder, Request } from "./recorder";

/** What an operation needs: the shared record, the services, and its own random stream. */
export interface Ctx {
  model: Model;
  rec: Recorder;
  cluster: Cluster;
  database: DatabaseServer;
  rng: Prng;
  seed: number;
}

/** An instance that is up, as a load balancer would choose one; any instance if none is up. */
export function pickUp(ctx: Ctx, instances: Instance[]): Instance {
  const up = instances.filter((i) => i.up);
  return ctx.rng.pick(up.length > 0 ? up : instances);
}

export const toAuth = (ctx: Ctx, label: string, request: Request): Promise<Answer> => ctx.rec.send(pickUp(ctx, ctx.cluster.auth), label, request);
export const toTransaction = (ctx: Ctx, label: string, request: Request): Promise<Answer> => ctx.rec.send(pickUp(ctx, ctx.cluster.transaction), label, request);

/** A session the client may still use: not ended, and its refresh not in doubt unless only tokens are wanted. */
export function liveSession(ctx: Ctx, user: ChaosUser): Session | undefined {
  return user.sessions.length > 0 ? ctx.rng.pick(user.sessions) : undefined;
}

export const latestToken = (session: Session) => session.accessTokens[session.accessTokens.length - 1]!;

/** Keeps a list from growing without bound over a long run: only the newest entries matter. */
export function pushBounded<T>(list: T[], item: T, max = 20): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
