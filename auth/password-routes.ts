import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { refuse } from "../common/errors";
import { bearerSecurity, jsonBody, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import { transaction } from "../db/connect";
import type { TokenService } from "./access-tokens";
import { clientAddress } from "./client-address";
import type { AuthDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { Password, UserOut } from "./schemas";
import { recordEnded } from "./session-grants";
import { endSessions } from "./sessions";
import { changePasswordHash, findUserById, publicUser } from "./users";

const ChangePasswordIn = z
  .object({
    old_password: z.string().min(1).max(1024).openapi({ format: "password", example: "correct-horse-battery" }),
    new_password: Password,
  })
  .openapi("ChangePasswordIn");

const route = (tokens: TokenService) =>
  declareRoute({
    method: "post",
    path: "/change-password",
    operationId: "changePassword",
    tags: ["auth"],
    summary: "Change the caller's password",
    description:
      "Checks the old password, sets the new one, revokes every token issued before (this one included) and ends every " +
      "session: log in again. Wrong old passwords are throttled like failed logins.",
    security: bearerSecurity,
    middleware: tokens.authenticate,
    request: { body: jsonBody(ChangePasswordIn, "The old and the new password.") },
    responses: { 200: jsonResponse(UserOut, "The password was changed.") },
    refusals: [REFUSALS.wrong_old_password, REFUSALS.too_many_attempts],
  });

export function passwordRoutes(app: OpenAPIHono<AppEnv>, { sql, log, config, tokens, throttle, metrics, cache }: AuthDeps) {
  app.openapi(route(tokens), async (c) => {
    const caller = c.get("user");
    // The hash is read here, not kept with the caller in memory; the version guard below still
    // refuses the change if another one revoked this token meanwhile.
    const user = await findUserById(sql, caller.id);
    if (!user) throw refuse(REFUSALS.invalid_token, { reason: "unknown_user" });
    const { old_password, new_password } = c.req.valid("json");
    const requestId = c.get("requestId");
    const check = await throttle.reserve(`user:${user.id}`, clientAddress(c, config.TRUST_PROXY));
    if ("retryAfter" in check) {
      log.warn("password_change_throttled", { request_id: requestId, user_id: String(user.id), retry_after_s: check.retryAfter });
      metrics.passwordChange("throttled");
      throw refuse(REFUSALS.too_many_attempts, { headers: { "Retry-After": String(check.retryAfter) } });
    }
    if (!(await Bun.password.verify(old_password, user.password_hash))) {
      await check.failed();
      log.info("password_change_refused", { request_id: requestId, user_id: String(user.id), reason: "wrong_password" });
      metrics.passwordChange("wrong_password");
      throw refuse(REFUSALS.wrong_old_password);
    }
    await check.succeeded();
    const passwordHash = await Bun.password.hash(new_password, "argon2id");
    // One transaction: the new version and the ended sessions are seen together or not at all.
    const { changed, ended } = await transaction(sql, async (tx) => {
      const changed = await changePasswordHash(tx, { id: user.id, tokenVersion: caller.token_version, passwordHash });
      return { changed, ended: changed ? await endSessions(tx, { userId: user.id, reason: "password_changed" }) : [] };
    });
    // Before answering: this instance refuses the old tokens and sessions from now on, not from
    // when its own notification comes back.
    cache.forgetUser(user.id);
    // No row: another change with this same token won the race and revoked it.
    if (!changed) throw refuse(REFUSALS.invalid_token, { reason: "revoked" });
    log.info("password_changed", { request_id: requestId, user_id: String(user.id) });
    metrics.passwordChange("changed");
    recordEnded({ log, metrics, cache }, requestId, user.id, "password_changed", ended);
    return c.json(publicUser(changed), 200);
  });
}
