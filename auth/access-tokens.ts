import { SignJWT } from "jose";
import { createMiddleware } from "hono/factory";
import { refuse } from "../common/errors";
import type { AuthenticatedEnv } from "../common/request-context";
import { guard } from "../common/route";
import { bearerToken, secretKey, tokenVerifier } from "../common/tokens";
import type { AuthConfig } from "./config";
import { REFUSALS } from "./refusals";
import type { Caller } from "./sessions";
import type { VerifyCache } from "./verify-cache";

/** Issuing and checking this service's tokens; the transaction service shares only the check. */
export function tokenService(config: AuthConfig, cache: VerifyCache) {
  const key = secretKey(config.SECRET_KEY, config.ALGORITHM);
  // New tokens are signed with SECRET_KEY only; SECRET_KEY_PREVIOUS is for checking older ones.
  const verify = tokenVerifier(config.SECRET_KEY, config.ALGORITHM, config.SECRET_KEY_PREVIOUS);
  const expiresInSeconds = config.ACCESS_TOKEN_EXPIRE_MINUTES * 60;

  return {
    /** An access token of the session, under the user's current token version. */
    async issue(user: { id: bigint; token_version: number }, sessionId: string) {
      const accessToken = await new SignJWT({ ver: user.token_version, sid: sessionId })
        .setProtectedHeader({ alg: config.ALGORITHM, typ: "JWT" })
        .setSubject(String(user.id))
        .setIssuedAt()
        .setExpirationTime(`${expiresInSeconds}s`)
        .sign(await key);
      return { access_token: accessToken, token_type: "bearer" as const, expires_in: expiresInSeconds };
    },

    /**
     * Route middleware that puts the caller in `c.var.user`: signature and expiry first, then the
     * user's token version and the token's session, from memory (kept exact by LISTEN/NOTIFY) or
     * else read by primary key, which refuse a token issued before the last password change or
     * whose session has ended. It runs before body validation, so a request without a valid token
     * is a 401 whatever its body, as in the original.
     */
    authenticate: guard(
      createMiddleware<AuthenticatedEnv<Caller>>(async (c, next) => {
        const claims = await verify(bearerToken(c.req.header("authorization")));
        if (!claims.sessionId) throw refuse(REFUSALS.invalid_token, { reason: "no_session" });
        const found = await cache.caller(claims.userId, claims.sessionId);
        if (!found) throw refuse(REFUSALS.invalid_token, { reason: "unknown_user" });
        if (found.user.token_version !== claims.version) throw refuse(REFUSALS.invalid_token, { reason: "revoked" });
        if (!found.sessionLive) throw refuse(REFUSALS.invalid_token, { reason: "session_ended" });
        c.set("userId", claims.userId);
        c.set("user", { ...found.user, session_id: claims.sessionId });
        await next();
      }),
      [REFUSALS.not_authenticated, REFUSALS.invalid_token],
    ),
  };
}
export type TokenService = ReturnType<typeof tokenService>;
