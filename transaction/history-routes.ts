import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { bearerSecurity, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import type { TransactionDeps } from "./deps";
import { TransactionOut, transactionOut } from "./schemas";
import { listTransfers } from "./transfers";

const query = (defaultLimit: number) =>
  z.object({
    skip: z.coerce
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .default(0)
      // Coercion turns null into 0, so the generator would call this parameter nullable (a query
      // string never carries null); naming the type replaces the whole generated schema.
      .openapi({
        type: "integer",
        minimum: 0,
        maximum: 1_000_000_000,
        default: 0,
        description: "How many of the newest transfers to skip.",
        example: 0,
      }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(defaultLimit)
      .openapi({ description: `How many transfers at most (1 to 1000, default ${defaultLimit}).`, example: 100 }),
  });

const route = (deps: TransactionDeps) =>
  declareRoute({
    method: "get",
    path: "/transactions",
    operationId: "listTransactions",
    tags: ["transactions"],
    summary: "The caller's transfers, sent and received, newest first",
    description: "Ties in time are ordered by id, newest first. A user who has never had an account gets `[]`.",
    security: bearerSecurity,
    middleware: deps.authenticate,
    request: { query: query(deps.config.TRANSACTIONS_DEFAULT_LIMIT) },
    responses: { 200: jsonResponse(z.array(TransactionOut), "A page of transfers.") },
  });

export function historyRoutes(app: OpenAPIHono<AppEnv>, deps: TransactionDeps) {
  app.openapi(route(deps), async (c) => {
    const { skip, limit } = c.req.valid("query");
    const rows = await listTransfers(deps.sql, BigInt(c.get("user").id), { skip, limit });
    return c.json(rows.map(transactionOut), 200);
  });
}
