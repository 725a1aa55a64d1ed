import type { OpenAPIHono } from "@hono/zod-openapi";
import { bearerSecurity, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import type { TokenService } from "./access-tokens";
import type { AuthDeps } from "./deps";
import { UserOut } from "./schemas";
import { publicUser } from "./users";

const route = (tokens: TokenService) =>
  declareRoute({
    method: "post",
    path: "/verify",
    operationId: "verify",
    tags: ["auth"],
    summary: "Who does this token belong to?",
    description: "Answers the token's user, or 401 if the token is invalid, expired, revoked by a password change, or of a session that has ended.",
    security: bearerSecurity,
    middleware: tokens.authenticate,
    responses: { 200: jsonResponse(UserOut, "The token is valid.") },
  });

export function verifyRoutes(app: OpenAPIHono<AppEnv>, { tokens }: AuthDeps) {
  app.openapi(route(tokens), async (c) => c.json(publicUser(c.get("user")), 200));
}
