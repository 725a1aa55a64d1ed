import { jwtVerify } from "jose";
import { refuse } from "./errors";
import { SHARED_REFUSALS } from "./refusals";

export interface TokenClaims {
  userId: string;
  /** The user's token version when the token was issued; a password change bumps it. */
  version: number;
  /** The session the token belongs to (`sid`); logging out of it revokes the token. */
  sessionId?: string;
}

/**
 * The shared secret as an HMAC CryptoKey, imported once: handed a raw secret, jose would import
 * it again on every sign and verify.
 */
export function secretKey(secret: string, algorithm: string): Promise<CryptoKey> {
  const hash = `SHA-${algorithm.slice(2)}`;
  return crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash }, false, ["sign", "verify"]);
}

/** `Authorization: Bearer <token>`, or the contract's 401 with `WWW-Authenticate: Bearer`. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw refuse(SHARED_REFUSALS.not_authenticated);
  const match = /^Bearer +([A-Za-z0-9_\-.]{1,4096})$/i.exec(header.trim());
  if (!match) throw refuse(SHARED_REFUSALS.invalid_token, { reason: "malformed_authorization_header" });
  return match[1]!;
}

/** User ids are PostgreSQL `bigint`s; a larger `sub` would fail in the database, not as a 401. */
const MAX_USER_ID = 2n ** 63n - 1n;

/** Session ids are UUIDs; anything else would fail in the database, not as a 401. */
export const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How many verified tokens a process remembers; each entry is a token string and two numbers. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Checks a token's signature, algorithm and expiry with the shared secret. The algorithm is
 * pinned, so `alg: none` and tokens signed with another algorithm are refused. During a secret
 * rotation, a token whose signature the current secret refuses is tried with the previous one,
 * so that tokens issued before the rotation keep working until they expire.
 *
 * A client sends the same token with every request, so the claims of a token whose signature
 * checked out are remembered by its exact text: the same bytes always verify the same way, and
 * only the expiry, checked on every use, can change the answer. Revocation is not decided here
 * but by the token version in the database, on every request.
 */
export function tokenVerifier(secret: string, algorithm: string, previousSecret?: string) {
  const keys = [secretKey(secret, algorithm), ...(previousSecret ? [secretKey(previousSecret, algorithm)] : [])];
  const check = async (token: string) => {
    for (const [i, key] of keys.entries()) {
      try {
        return await jwtVerify(token, await key, { algorithms: [algorithm], requiredClaims: ["sub", "iat", "exp"] });
      } catch (error) {
        const wrongKey = (error as { code?: string }).code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED";
        if (!wrongKey || i === keys.length - 1) throw error;
      }
    }
    throw new Error("no key to verify with");
  };
  const verified = new Map<string, TokenClaims & { expiresAt: number }>();
  return async (token: string): Promise<TokenClaims> => {
    const known = verified.get(token);
    if (known) {
      if (known.expiresAt > Date.now() / 1000) return { userId: known.userId, version: known.version, sessionId: known.sessionId };
      verified.delete(token);
      throw refuse(SHARED_REFUSALS.invalid_token, { reason: "ERR_JWT_EXPIRED" });
    }
    let payload;
    try {
      ({ payload } = await check(token));
    } catch (error) {
      // jose's codes (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, …) say why.
      throw refuse(SHARED_REFUSALS.invalid_token, { reason: (error as { code?: string }).code ?? "unreadable_token" });
    }
    const { sub, ver, exp, sid } = payload;
    const validSub = typeof sub === "string" && /^[1-9][0-9]{0,18}$/.test(sub) && BigInt(sub) <= MAX_USER_ID;
    const validSid = sid === undefined || (typeof sid === "string" && SESSION_ID.test(sid));
    if (!validSub || !Number.isSafeInteger(ver) || !validSid) throw refuse(SHARED_REFUSALS.invalid_token, { reason: "bad_claims" });
    const claims = { userId: sub, version: ver as number, sessionId: sid as string | undefined };
    // A Map iterates in insertion order, so the first key is the oldest entry.
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, { ...claims, expiresAt: exp! });
    return claims;
  };
}
