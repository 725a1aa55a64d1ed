import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { ApiError, unauthorized } from "../common/errors";
import { bearerSecurity, errorResponse, jsonBody, jsonResponse, unauthorizedResponse, validationResponse } from "../common/openapi";
import type { AuthDeps } from "./deps";
import { tooManyAttempts, tooManyAttemptsResponse } from "./throttle";
import type { TokenService } from "./access-tokens";
import type { AuthEnv } from "./deps";
import { Password, UserOut } from "./schemas";
import { changePasswordHash, publicUser } from "./users";

const ChangePasswordIn = z
  .object({
    old_password: z.string().min(1).max(1024).openapi({ format: "password", example: "correct-horse-battery" }),
    new_password: Password,
  })
  .openapi("ChangePasswordIn");

const passwordRoute = (tokens: TokenService) =>
  createRoute({
  method: "post",
  path: "/change-password",
  operationId: "changePassword",
  tags: ["auth"],
  summary: "Change the caller's password",
  description:
    "Checks the old password, sets the new one and revokes every token issued before, this one included: log in again. " +
    "Wrong old passwords are throttled like failed logins.",
  security: bearerSecurity,
  middleware: [tokens.authenticate],
  request: { body: jsonBody(ChangePasswordIn, "The old and the new password.") },
  responses: {
    200: jsonResponse(UserOut, "The password was changed."),
    400: errorResponse("The old password is wrong.", { code: "invalid_credentials", detail: "Incorrect password" }),
    401: unauthorizedResponse,
    422: validationResponse,
    429: tooManyAttemptsResponse,
  },
});

export function passwordRoutes(app: OpenAPIHono<AuthEnv>, { sql, log, tokens, throttle, metrics }: AuthDeps) {
  app.openapi(passwordRoute(tokens), async (c) => {
    const user = c.get("user");
    const { old_password, new_password } = c.req.valid("json");
    const keys = throttle.keys(c, `user:${user.id}`);
    const wait = await throttle.retryAfter(keys);
    if (wait > 0) {
      log.warn("password_change_throttled", { request_id: c.get("requestId"), user_id: String(user.id), retry_after_s: wait });
      metrics.passwordChange("throttled");
      throw tooManyAttempts(wait);
    }
    if (!(await Bun.password.verify(old_password, user.password_hash))) {
      await throttle.failed(keys);
      log.info("password_change_refused", { request_id: c.get("requestId"), user_id: String(user.id), reason: "wrong_password" });
      metrics.passwordChange("wrong_password");
      throw new ApiError(400, "invalid_credentials", "Incorrect password");
    }
    await throttle.succeeded(keys);
    const passwordHash = await Bun.password.hash(new_password, "argon2id");
    const changed = await changePasswordHash(sql, { id: user.id, tokenVersion: user.token_version, passwordHash });
    // No row: another change with this same token won the race and revoked it.
    if (!changed) throw unauthorized();
    log.info("password_changed", { request_id: c.get("requestId"), user_id: String(user.id) });
    metrics.passwordChange("changed");
    return c.json(publicUser(changed), 200);
  });
}
