import { createMiddleware } from "hono/factory";
import { bearerToken, tokenVerifier } from "../common/tokens";
import type { AuthClient } from "./auth-client";
import type { TransactionEnv } from "./deps";

/**
 * A token that is malformed, expired, wrongly signed or of another algorithm is refused here
 * with the shared secret, without a call; a good-looking one is confirmed by the auth service's
 * /verify, so that a token revoked by a password change stops working at once.
 */
export function authenticate(auth: AuthClient, secret: string, algorithm: string, previousSecret?: string) {
  const verifyLocally = tokenVerifier(secret, algorithm, previousSecret);
  return createMiddleware<TransactionEnv>(async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    await verifyLocally(token);
    const user = await auth.verify(token, c.get("requestId"));
    c.set("userId", String(user.id));
    c.set("user", { id: user.id, username: user.username, token });
    await next();
  });
}
