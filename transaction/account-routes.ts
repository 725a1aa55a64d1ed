import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { bearerSecurity, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import { openAccount } from "./accounts";
import type { TransactionDeps } from "./deps";
import { toUnits } from "./money";

const AccountOut = z
  .object({
    id: z.number().int().openapi({ example: 1, description: "The account id (this service's)." }),
    uid: z.number().int().openapi({ example: 7, description: "The user id (the auth service's)." }),
    username: z.string().openapi({ example: "alice" }),
    balance: z.number().openapi({ example: 1000 }),
    created_at: z.string().openapi({ format: "date-time", example: "2026-01-01T12:00:00.000Z" }),
  })
  .openapi("AccountOut");

const route = (deps: TransactionDeps) =>
  declareRoute({
    method: "get",
    path: "/account",
    operationId: "getAccount",
    tags: ["transactions"],
    summary: "The caller's account and balance",
    description: "Opens the account on first use with the configured starting balance.",
    security: bearerSecurity,
    middleware: deps.authenticate,
    responses: { 200: jsonResponse(AccountOut, "The account.") },
  });

export function accountRoutes(app: OpenAPIHono<AppEnv>, deps: TransactionDeps) {
  app.openapi(route(deps), async (c) => {
    const user = c.get("user");
    const account = await openAccount(deps.sql, { uid: BigInt(user.id), username: user.username, openingMinor: deps.config.DEFAULT_BALANCE });
    return c.json(
      {
        id: Number(account.id),
        uid: Number(account.uid),
        username: account.username,
        balance: toUnits(account.balance),
        created_at: account.created_at.toISOString(),
      },
      200,
    );
  });
}
