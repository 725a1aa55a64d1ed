import { createMiddleware } from "hono/factory";
import type { AuthenticatedEnv } from "../common/request-context";
import { guard } from "../common/route";
import { bearerToken, tokenVerifier } from "../common/tokens";
import type { AuthClient, AuthUser } from "./auth-client";
import { REFUSALS } from "./refusals";

/** The caller as the auth service confirmed them, with the token to ask it more on their behalf. */
export type Caller = AuthUser & { token: string };

/**
 * A token that is malformed, expired, wrongly signed or of another algorithm is refused here
 * with the shared secret, without a call; a good-looking one is confirmed by the auth service's
 * /verify, so that a token revoked by a password change stops working at once.
 */
export function authenticate(auth: AuthClient, secret: string, algorithm: string, previousSecret?: string) {
  const verifyLocally = tokenVerifier(secret, algorithm, previousSecret);
  return guard(
    createMiddleware<AuthenticatedEnv<Caller>>(async (c, next) => {
      const token = bearerToken(c.req.header("authorization"));
      await verifyLocally(token);
      const user = await auth.verify(token, c.get("requestId"));
      c.set("userId", String(user.id));
      c.set("user", { id: user.id, username: user.username, token });
      await next();
    }),
    [REFUSALS.not_authenticated, REFUSALS.invalid_token, REFUSALS.auth_unavailable],
  );
}
