import { latestToken, liveSession, pushBounded, toAuth, toTransaction, type Ctx } from "./context";
import { Violation, type ChaosUser, type Session } from "./model";
import { unknownOutcome } from "./recorder";

/** Registers a new user owned by `owner`, or retries one whose registration went unanswered. */
export async function register(ctx: Ctx, owner: number): Promise<void> {
  const pending = [...ctx.model.users.values()].find((u) => u.owner === owner && u.registered === "unknown");
  let user = pending;
  if (!user) {
    const name = `c${ctx.seed % 100000}_${ctx.model.next()}_${ctx.rng.word(4)}`;
    user = {
      name,
      email: `${name}@chaos.example`,
      passwords: [`pw-${ctx.rng.word(20)}`],
      registered: "unknown",
      sessions: [],
      revokedTokens: [],
      revokedRefreshTokens: [],
      endedSessionIds: [],
      keyed: [],
      owner,
    };
    ctx.model.users.set(name.toLowerCase(), user);
    ctx.model.secrets.add(user.passwords[0]!);
  }
  const answer = await toAuth(ctx, "register", { path: "/register", json: { username: user.name, email: user.email, password: user.passwords[0] } });
  // username_taken after an unanswered attempt: that attempt created the user.
  if (answer.status === 200 || (pending && answer.status === 400 && /_taken$/.test(answer.body?.code))) user.registered = "yes";
  else if (answer.status === 400) throw new Violation("registration", `a fresh username ${user.name} was refused: ${JSON.stringify(answer.body)}`);
}

/** Remembers the tokens of an answer, for the scan of the logs. */
export function keep(ctx: Ctx, body: { access_token?: string; refresh_token?: string }): void {
  for (const secret of [body.access_token, body.refresh_token]) if (secret) ctx.model.secrets.add(secret);
}

/** Logs in with the password (each candidate, when a change's answer was lost), by name or email, as a form or JSON. */
export async function login(ctx: Ctx, user: ChaosUser): Promise<Session | undefined> {
  for (const password of [...user.passwords]) {
    const username = ctx.rng.chance(0.2) ? user.email : ctx.rng.chance(0.3) ? user.name.toUpperCase() : user.name;
    const fields = { username, password };
    const answer = await toAuth(ctx, "login", ctx.rng.chance(0.5) ? { path: "/token", form: fields } : { path: "/token", json: fields });
    if (answer.status === 200) {
      const session: Session = { accessTokens: [answer.body.access_token], refreshToken: answer.body.refresh_token, uncertain: false };
      keep(ctx, answer.body);
      user.passwords = [password];
      pushBounded(user.sessions, session, 3);
      return session;
    }
    if (answer.status === 400 && user.passwords.length === 1) {
      throw new Violation("a user's current password logs in", `${user.name} was refused: ${JSON.stringify(answer.body)}`);
    }
    if (answer.status !== 400) return undefined;
  }
  return undefined;
}

/** A token of a live session, logging in first if the user has none. */
export async function tokenOf(ctx: Ctx, user: ChaosUser): Promise<string | undefined> {
  const session = liveSession(ctx, user) ?? (await login(ctx, user));
  return session && latestToken(session);
}

/** Records that these sessions ended when the call that ended them returned: their tokens must be refused from now on. */
export function endSessions(ctx: Ctx, user: ChaosUser, ended: Session[], why: string): void {
  for (const session of ended) {
    for (const token of session.accessTokens) {
      ctx.rec.revoke(token, why);
      pushBounded(user.revokedTokens, token);
    }
    if (session.refreshToken && !session.uncertain) {
      ctx.rec.revoke(session.refreshToken, why);
      pushBounded(user.revokedRefreshTokens, session.refreshToken);
    }
  }
  for (const session of ended) if (session.id) pushBounded(user.endedSessionIds, session.id);
  user.sessions = user.sessions.filter((s) => !ended.includes(s));
}

export async function changePassword(ctx: Ctx, user: ChaosUser): Promise<void> {
  if (user.passwords.length > 1 || user.sessions.length === 0) return void (await login(ctx, user));
  const token = latestToken(ctx.rng.pick(user.sessions));
  const next = `pw-${ctx.rng.word(20)}`;
  ctx.model.secrets.add(next);
  const answer = await toAuth(ctx, "change-password", { path: "/change-password", json: { old_password: user.passwords[0], new_password: next }, token });
  if (answer.status === 200) {
    endSessions(ctx, user, [...user.sessions], `the password change of ${user.name}`);
    user.passwords = [next];
  } else if (unknownOutcome(answer)) {
    user.sessions = [];
    user.passwords = [next, user.passwords[0]!];
  } else if (answer.status === 400) {
    throw new Violation("a user's current password is accepted", `${user.name}'s old password was refused at /change-password`);
  }
}

/** Sends a revoked token or refresh token; the recorder fails the run if it is accepted. */
export async function probeRevoked(ctx: Ctx, user: ChaosUser): Promise<void> {
  if (user.revokedRefreshTokens.length > 0 && ctx.rng.chance(0.3)) {
    const refreshToken = ctx.rng.pick(user.revokedRefreshTokens);
    await toAuth(ctx, "probe-revoked-refresh", { path: "/token", form: { grant_type: "refresh_token", refresh_token: refreshToken }, refreshToken });
    return;
  }
  if (user.revokedTokens.length === 0) return;
  const token = ctx.rng.pick(user.revokedTokens);
  if (ctx.rng.chance(0.5)) await toAuth(ctx, "probe-revoked-verify", { method: "POST", path: "/verify", token });
  else await toTransaction(ctx, "probe-revoked-account", { path: "/account", token });
}
