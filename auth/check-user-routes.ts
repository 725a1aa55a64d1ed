import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "../common/errors";
import { bearerSecurity, errorResponse, jsonBody, jsonResponse, unauthorizedResponse, validationResponse, LookupName } from "../common/openapi";
import type { TokenService } from "./access-tokens";
import type { AuthDeps, AuthEnv } from "./deps";
import { findUserByUsername } from "./users";

const CheckUserIn = z
  .object({ username: LookupName.openapi({ example: "bob", description: "Found without regard to case." }) })
  .openapi("CheckUserIn");
const CheckUserOut = z
  .object({ id: z.number().int().openapi({ example: 2 }), username: z.string().openapi({ example: "bob" }) })
  .openapi("CheckUserOut");

const checkUserRoute = (tokens: TokenService) =>
  createRoute({
  method: "post",
  path: "/check-user",
  operationId: "checkUser",
  tags: ["auth"],
  summary: "Is this username registered?",
  description: "For a signed-in caller: answers the user's id and the username as registered.",
  security: bearerSecurity,
  middleware: [tokens.authenticate],
  request: { body: jsonBody(CheckUserIn, "The username to look up.") },
  responses: {
    200: jsonResponse(CheckUserOut, "The user exists."),
    401: unauthorizedResponse,
    404: errorResponse("No user has that name.", { code: "user_not_found", detail: "User not found" }),
    422: validationResponse,
  },
});

export function checkUserRoutes(app: OpenAPIHono<AuthEnv>, { sql, tokens }: AuthDeps) {
  app.openapi(checkUserRoute(tokens), async (c) => {
    const user = await findUserByUsername(sql, c.req.valid("json").username);
    if (!user) throw new ApiError(404, "user_not_found", "User not found");
    return c.json({ id: Number(user.id), username: user.username }, 200);
  });
}
