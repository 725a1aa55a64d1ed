import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { ApiError } from "./errors";
import { tokenVerifier } from "./tokens";

const SECRET = "unit-test-secret-of-at-least-32-bytes!";
const now = () => Math.floor(Date.now() / 1000);

function sign(claims: { sub?: string; ver?: number; sid?: unknown; exp: number }, secret = SECRET) {
  const jwt = new SignJWT({ ver: claims.ver ?? 0, sid: claims.sid }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(claims.exp);
  if (claims.sub) jwt.setSubject(claims.sub);
  return jwt.sign(new TextEncoder().encode(secret));
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return (error as ApiError).status;
}

describe("tokenVerifier", () => {
  test("answers the claims of a good token, the second time from memory", async () => {
    const verify = tokenVerifier(SECRET, "HS256");
    const token = await sign({ sub: "42", ver: 3, exp: now() + 60 });
    expect(await verify(token)).toEqual({ userId: "42", version: 3 });
    expect(await verify(token)).toEqual({ userId: "42", version: 3 });
  });

  test("refuses a remembered token once it has expired", async () => {
    const verify = tokenVerifier(SECRET, "HS256");
    const token = await sign({ sub: "7", exp: now() + 1 });
    expect(await verify(token)).toEqual({ userId: "7", version: 0 });
    await Bun.sleep(2100);
    expect(await refusal(verify(token))).toBe(401);
  });

  test("does not remember refusals: a token with a bad signature is refused every time", async () => {
    const verify = tokenVerifier(SECRET, "HS256");
    const forged = await sign({ sub: "7", exp: now() + 60 }, "another-secret-of-at-least-32-bytes!!");
    expect(await refusal(verify(forged))).toBe(401);
    expect(await refusal(verify(forged))).toBe(401);
  });

  test("refuses a token whose subject is not a user id", async () => {
    const verify = tokenVerifier(SECRET, "HS256");
    expect(await refusal(verify(await sign({ sub: "alice", exp: now() + 60 })))).toBe(401);
    expect(await refusal(verify(await sign({ exp: now() + 60 })))).toBe(401);
  });

  test("answers the session id of a token that has one, and refuses a session id that is not a UUID", async () => {
    const verify = tokenVerifier(SECRET, "HS256");
    const sid = crypto.randomUUID();
    expect(await verify(await sign({ sub: "7", sid, exp: now() + 60 }))).toEqual({ userId: "7", version: 0, sessionId: sid });
    for (const bad of ["session-1", 42, sid.toUpperCase(), `${sid}'--`]) {
      expect(await refusal(verify(await sign({ sub: "7", sid: bad, exp: now() + 60 })))).toBe(401);
    }
  });
});
