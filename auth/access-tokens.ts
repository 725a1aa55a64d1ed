import { SignJWT } from "jose";
import { createMiddleware } from "hono/factory";
import { refuse } from "../common/errors";
import type { AuthenticatedEnv } from "../common/request-context";
import { guard } from "../common/route";
import { bearerToken, secretKey, tokenVerifier } from "../common/tokens";
import type { Sql } from "../db/connect";
import type { AuthConfig } from "./config";
import { REFUSALS } from "./refusals";
import { findUserById, type UserWithSecrets } from "./users";

/** Issuing and checking this service's tokens; the transaction service shares only the check. */
export function tokenService(sql: Sql, config: AuthConfig) {
  const key = secretKey(config.SECRET_KEY, config.ALGORITHM);
  // New tokens are signed with SECRET_KEY only; SECRET_KEY_PREVIOUS is for checking older ones.
  const verify = tokenVerifier(config.SECRET_KEY, config.ALGORITHM, config.SECRET_KEY_PREVIOUS);
  const expiresInSeconds = config.ACCESS_TOKEN_EXPIRE_MINUTES * 60;

  return {
    async issue(user: { id: bigint; token_version: number }) {
      const accessToken = await new SignJWT({ ver: user.token_version })
        .setProtectedHeader({ alg: config.ALGORITHM, typ: "JWT" })
        .setSubject(String(user.id))
        .setIssuedAt()
        .setExpirationTime(`${expiresInSeconds}s`)
        .sign(await key);
      return { access_token: accessToken, token_type: "bearer" as const, expires_in: expiresInSeconds };
    },

    /**
     * Route middleware that puts the caller's user in `c.var.user`: signature and expiry first,
     * then one lookup by primary key that also refuses a token issued before the last password
     * change. It runs before body validation, so a request without a valid token is a 401
     * whatever its body, as in the original.
     */
    authenticate: guard(
      createMiddleware<AuthenticatedEnv<UserWithSecrets>>(async (c, next) => {
        const claims = await verify(bearerToken(c.req.header("authorization")));
        const user = await findUserById(sql, claims.userId);
        if (!user || user.token_version !== claims.version) {
          throw refuse(REFUSALS.invalid_token, { reason: user ? "revoked" : "unknown_user" });
        }
        c.set("userId", claims.userId);
        c.set("user", user);
        await next();
      }),
      [REFUSALS.not_authenticated, REFUSALS.invalid_token],
    ),
  };
}
export type TokenService = ReturnType<typeof tokenService>;
