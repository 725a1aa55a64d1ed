import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { refuse } from "../common/errors";
import { bearerSecurity, jsonBody, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import type { TokenService } from "./access-tokens";
import type { AuthDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { Password, UserOut } from "./schemas";
import { changePasswordHash, publicUser } from "./users";

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
    "Checks the old password, sets the new one and revokes every token issued before, this one included: log in again. " +
    "Wrong old passwords are throttled like failed logins.",
  security: bearerSecurity,
  middleware: tokens.authenticate,
  request: { body: jsonBody(ChangePasswordIn, "The old and the new password.") },
  responses: { 200: jsonResponse(UserOut, "The password was changed.") },
  refusals: [REFUSALS.wrong_old_password, REFUSALS.too_many_attempts],
});

export function passwordRoutes(app: OpenAPIHono<AppEnv>, { sql, log, tokens, throttle }: AuthDeps) {
  app.openapi(route(tokens), async (c) => {
    const user = c.get("user");
    const { old_password, new_password } = c.req.valid("json");
    const keys = throttle.keys(c, `user:${user.id}`);
    const wait = await throttle.retryAfter(keys);
    if (wait > 0) {
      log.warn("password_change_throttled", { request_id: c.get("requestId"), user_id: String(user.id), retry_after_s: wait });
      throw refuse(REFUSALS.too_many_attempts, { headers: { "Retry-After": String(wait) } });
    }
    if (!(await Bun.password.verify(old_password, user.password_hash))) {
      await throttle.failed(keys);
      log.info("password_change_refused", { request_id: c.get("requestId"), user_id: String(user.id), reason: "wrong_password" });
      throw refuse(REFUSALS.wrong_old_password);
    }
    await throttle.succeeded(keys);
    const passwordHash = await Bun.password.hash(new_password, "argon2id");
    const changed = await changePasswordHash(sql, { id: user.id, tokenVersion: user.token_version, passwordHash });
    // No row: another change with this same token won the race and revoked it.
    if (!changed) throw refuse(REFUSALS.invalid_token, { reason: "revoked" });
    log.info("password_changed", { request_id: c.get("requestId"), user_id: String(user.id) });
    return c.json(publicUser(changed), 200);
  });
}
