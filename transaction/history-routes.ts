import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { ValidationError } from "../common/errors";
import { bearerSecurity, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import type { TransactionDeps } from "./deps";
import { TransactionOut, transactionOut } from "./schemas";
import { isOwnTransfer, listTransfers } from "./transfers";

/** Transfer ids are PostgreSQL bigints. */
const MAX_ID = 2n ** 63n - 1n;

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
    // A string of digits, not a coerced number: ids are bigints, and a float would round the
    // largest ones to another transfer's id.
    before_id: z
      .string()
      .regex(/^[1-9][0-9]{0,18}$/, "must be a transfer id (a positive integer)")
      .transform(BigInt)
      .refine((id) => id <= MAX_ID, "must be a transfer id (a positive integer)")
      .optional()
      // No `example`: Swagger UI's "Try it out" would send it, and 1234 is nobody's cursor.
      .openapi({
        type: "integer",
        format: "int64",
        minimum: 1,
        description:
          "Keyset cursor: the `id` of one of your transfers (the last of the previous page); the page starts right " +
          "after it, newest first. Costs the same at any depth, unlike a large `skip`, and a transfer made meanwhile " +
          "does not shift the pages. `skip` still applies after the cursor.",
      }),
  });

const route = (deps: TransactionDeps) =>
  declareRoute({
    method: "get",
    path: "/transactions",
    operationId: "listTransactions",
    tags: ["transactions"],
    summary: "The caller's transfers, sent and received, newest first",
    description:
      "Ties in time are ordered by id, newest first. A user who has never had an account gets `[]`. To page deep " +
      "into a long history, pass the last `id` of a page as `before_id` to get the next one; `skip` costs more the deeper it goes.",
    security: bearerSecurity,
    middleware: deps.authenticate,
    request: { query: query(deps.config.TRANSACTIONS_DEFAULT_LIMIT) },
    responses: { 200: jsonResponse(z.array(TransactionOut), "A page of transfers.") },
  });

export function historyRoutes(app: OpenAPIHono<AppEnv>, deps: TransactionDeps) {
  app.openapi(route(deps), async (c) => {
    const { skip, limit, before_id: beforeId } = c.req.valid("query");
    const uid = BigInt(c.get("user").id);
    const rows = await listTransfers(deps.sql, uid, { skip, limit, beforeId });
    // An empty page is also what a cursor that is not the user's gives; only then is it told apart.
    if (rows.length === 0 && beforeId !== undefined && !(await isOwnTransfer(deps.sql, uid, beforeId))) {
      throw new ValidationError([{ loc: ["query", "before_id"], msg: "is not one of your transfers", type: "unknown_cursor" }]);
    }
    return c.json(rows.map(transactionOut), 200);
  });
}
