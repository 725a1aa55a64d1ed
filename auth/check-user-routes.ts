import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { refuse } from "../common/errors";
import { bearerSecurity, jsonBody, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import { LookupName } from "../common/schemas";
import type { TokenService } from "./access-tokens";
import type { AuthDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { findUserByUsername } from "./users";

const CheckUserIn = z.object({ username: LookupName.openapi({ example: "bob", description: "Found without regard to case." }) }).openapi("CheckUserIn");
const CheckUserOut = z.object({ id: z.number().int().openapi({ example: 2 }), username: z.string().openapi({ example: "bob" }) }).openapi("CheckUserOut");

const route = (tokens: TokenService) =>
  declareRoute({
    method: "post",
    path: "/check-user",
    operationId: "checkUser",
    tags: ["auth"],
    summary: "Is this username registered?",
    description: "For a signed-in caller: answers the user's id and the username as registered.",
    security: bearerSecurity,
    middleware: tokens.authenticate,
    request: { body: jsonBody(CheckUserIn, "The username to look up.") },
    responses: { 200: jsonResponse(CheckUserOut, "The user exists.") },
    refusals: [REFUSALS.user_not_found],
  });

export function checkUserRoutes(app: OpenAPIHono<AppEnv>, { sql, tokens }: AuthDeps) {
  app.openapi(route(tokens), async (c) => {
    const user = await findUserByUsername(sql, c.req.valid("json").username);
    if (!user) throw refuse(REFUSALS.user_not_found);
    return c.json({ id: Number(user.id), username: user.username }, 200);
  });
}
