import { latestToken, liveSession, toAuth, type Ctx } from "./context";
import { Violation, type ChaosUser } from "./model";
import { endSessions, keep, login } from "./ops-auth";
import { unknownOutcome } from "./recorder";

/** What a user does with sessions (the auth service's POST /token refresh grant, /logout, /sessions). */

export async function refresh(ctx: Ctx, user: ChaosUser): Promise<void> {
  const session = user.sessions.find((s) => s.refreshToken && !s.uncertain);
  if (!session) return void (await login(ctx, user));
  const form = { grant_type: "refresh_token", refresh_token: session.refreshToken! };
  const answer = await toAuth(ctx, "refresh", { path: "/token", form, refreshToken: session.refreshToken });
  if (answer.status === 200) {
    session.accessTokens.push(answer.body.access_token);
    session.refreshToken = answer.body.refresh_token;
    keep(ctx, answer.body);
  } else if (unknownOutcome(answer)) {
    session.uncertain = true;
  } else if (answer.status === 400) {
    throw new Violation("a live session refreshes", `${user.name}'s current refresh token was refused: ${JSON.stringify(answer.body)}`);
  }
}

export async function logout(ctx: Ctx, user: ChaosUser): Promise<void> {
  const session = liveSession(ctx, user);
  if (!session) return void (await login(ctx, user));
  const scope = ctx.rng.weighted({ local: 8, global: 1, others: 1 });
  const answer = await toAuth(ctx, "logout", { method: "POST", path: `/logout?scope=${scope}`, token: latestToken(session) });
  const ended = scope === "local" ? [session] : scope === "global" ? [...user.sessions] : user.sessions.filter((s) => s !== session);
  if (answer.status === 204) endSessions(ctx, user, ended, `logout (scope ${scope}) of ${user.name}`);
  // Unanswered, the sessions may or may not have ended: they are not used, and not asserted on.
  else if (unknownOutcome(answer)) user.sessions = user.sessions.filter((s) => !ended.includes(s));
}

/** GET /sessions: the current session is listed (its id is learnt), and no ended one ever is. */
export async function listSessions(ctx: Ctx, user: ChaosUser): Promise<void> {
  const session = liveSession(ctx, user);
  if (!session) return void (await login(ctx, user));
  const answer = await toAuth(ctx, "list-sessions", { path: "/sessions", token: latestToken(session) });
  if (answer.status !== 200) return;
  const listed = answer.body as { id: string; current: boolean }[];
  const current = listed.filter((s) => s.current);
  if (current.length !== 1) throw new Violation("GET /sessions marks the caller's session", `${user.name}: ${JSON.stringify(listed).slice(0, 300)}`);
  session.id = current[0]!.id;
  const ended = listed.find((s) => user.endedSessionIds.includes(s.id));
  if (ended) throw new Violation("an ended session stays ended", `${user.name}'s session ${ended.id} is listed after it ended`);
}

/** DELETE /sessions/{id} of a session whose id is known, with any live session's token. */
export async function deleteSession(ctx: Ctx, user: ChaosUser): Promise<void> {
  const known = user.sessions.filter((s) => s.id);
  if (known.length === 0) return listSessions(ctx, user);
  const target = ctx.rng.pick(known);
  const caller = ctx.rng.pick(user.sessions);
  const answer = await toAuth(ctx, "delete-session", { method: "DELETE", path: `/sessions/${target.id}`, token: latestToken(caller) });
  if (answer.status === 204) endSessions(ctx, user, [target], `DELETE /sessions/${target.id} of ${user.name}`);
  else if (unknownOutcome(answer)) user.sessions = user.sessions.filter((s) => s !== target);
  else if (answer.status === 404) throw new Violation("a live session can be ended", `${user.name}'s session ${target.id} was not found`);
}
