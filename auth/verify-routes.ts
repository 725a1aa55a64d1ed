import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { bearerSecurity, jsonResponse, unauthorizedResponse } from "../common/openapi";
import type { AuthDeps } from "./deps";
import type { TokenService } from "./access-tokens";
import type { AuthEnv } from "./deps";
import { UserOut } from "./schemas";
import { publicUser } from "./users";

const verifyRoute = (tokens: TokenService) =>
  createRoute({
  method: "post",
  path: "/verify",
  operationId: "verify",
  tags: ["auth"],
  summary: "Who does this token belong to?",
  description: "Answers the token's user, or 401 if the token is invalid, expired or revoked by a password change.",
  security: bearerSecurity,
  middleware: [tokens.authenticate],
  responses: { 200: jsonResponse(UserOut, "The token is valid."), 401: unauthorizedResponse },
});

export function verifyRoutes(app: OpenAPIHono<AuthEnv>, { tokens }: AuthDeps) {
  app.openapi(verifyRoute(tokens), async (c) => c.json(publicUser(c.get("user")), 200));
}
