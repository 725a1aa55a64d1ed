import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { transaction } from "../db/connect";
import { get, login, post, refresh } from "./test-client";
import { startAuthService, type RunningAuth } from "./test-server";
import { createSession } from "./sessions";
import { hashRefreshToken, newRefreshToken } from "./refresh-tokens";
import { findUserForLogin } from "./users";

// Each login and password change costs argon2id, 50 to 200 ms on a small, busy machine.
setDefaultTimeout(120_000);

/**
 * A login checks the password and only then starts its session. A password change that lands in
 * between must still end that session: otherwise the login, which proved only the old password,
 * leaves a refresh token that keeps minting valid tokens under the new one.
 */
let auth: RunningAuth;

beforeAll(async () => {
  auth = await startAuthService({ LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000", LOGIN_MAX_FAILURES_PER_ADDRESS: "1000" });
});
afterAll(() => auth.stop());

const newSession = (userId: bigint, tokenVersion: number) => {
  const id = crypto.randomUUID();
  const token = newRefreshToken(id);
  const session = { id, userId, tokenVersion, refreshTokenHash: hashRefreshToken(token), clientAddress: "192.0.2.1", userAgent: "" };
  return { ...session, refreshDays: 30, lifetimeDays: 90, maxPerUser: 100 };
};

describe("a session is only started for the password that was checked", () => {
  test("createSession waits for a password change in progress, then starts nothing", async () => {
    const { sql } = auth.db;
    await post(auth.url, "/register", { json: { username: "race1", email: "race1@example.com", password: "password-123" } });
    const user = (await findUserForLogin(sql, "race1"))!;
    let created: Awaited<ReturnType<typeof createSession>> | "pending" = "pending";
    let insert: Promise<unknown> = Promise.resolve();
    await transaction(sql, async (tx) => {
      await tx`UPDATE users SET token_version = token_version + 1 WHERE id = ${user.id}`;
      insert = createSession(sql, newSession(user.id, user.token_version)).then((r) => (created = r));
      await Bun.sleep(300);
      // The password change has not committed yet: the login's insert waits for it.
      expect(created).toBe("pending");
    });
    await insert;
    expect(created).toBeUndefined();
    const [row] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM sessions WHERE user_id = ${user.id}`;
    expect(row?.count).toBe(0);
    // With the version it read matching, it starts the session.
    expect(await createSession(sql, newSession(user.id, user.token_version + 1))).toEqual({ evicted: [] });
  });

  test("logins and refreshes racing a password change: nothing issued during it works afterwards", async () => {
    await post(auth.url, "/register", { json: { username: "race2", email: "race2@example.com", password: "password-0" } });
    for (let round = 0; round < 4; round++) {
      const [oldPassword, newPassword] = [`password-${round}`, `password-${round + 1}`];
      const before = await Promise.all(Array.from({ length: 6 }, () => login(auth.url, "race2", oldPassword)));
      for (const answer of before) expect(answer.status).toBe(200);
      const answers = await Promise.all([
        post(auth.url, "/change-password", { token: before[0]!.body.access_token, json: { old_password: oldPassword, new_password: newPassword } }),
        ...before.slice(1).map((answer) => refresh(auth.url, answer.body.refresh_token)),
        // Logins spread over the change's own argon2id work, so that some check the old password
        // before it is replaced and start their session after.
        ...Array.from({ length: 12 }, (_, i) => Bun.sleep(i * 40).then(() => login(auth.url, "race2", oldPassword))),
      ]);
      expect(answers[0]!.status).toBe(200);
      // Whatever each racer got (tokens, or a refusal), none of it outlives the change.
      const issued = answers.slice(1).filter((answer) => answer.status === 200);
      for (const answer of issued) {
        expect((await post(auth.url, "/verify", { token: answer.body.access_token })).status).toBe(401);
        expect((await refresh(auth.url, answer.body.refresh_token)).status).toBe(400);
      }
      for (const answer of answers.slice(1)) expect([200, 400]).toContain(answer.status);
      const fresh = await login(auth.url, "race2", newPassword);
      const sessions = await get(auth.url, "/sessions", { token: fresh.body.access_token });
      expect(sessions.body).toHaveLength(1);
      await post(auth.url, "/logout", { token: fresh.body.access_token });
    }
  });
});
