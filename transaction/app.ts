import type { OpenAPIHono } from "@hono/zod-openapi";
import { Registry } from "prom-client";
import { createServiceApp } from "../common/http";
import type { AppEnv } from "../common/request-context";
import { instrumentSql } from "../db/pool-metrics";
import { accountRoutes } from "./account-routes";
import { authClient } from "./auth-client";
import { authenticate } from "./authenticate";
import type { TransactionDeps } from "./deps";
import { historyRoutes } from "./history-routes";
import { transactionMetrics } from "./metrics";
import { transferRoutes } from "./transfer-routes";

const description = (tokenUrl: string) => `Moves money between registered users, exactly and all or nothing.

**How to get a token:**
1. Register a user on the auth service: \`POST /register\` on its own page, ${tokenUrl.replace(/\/token$/, "/docs")}.
2. Click **Authorize** here and, under OAuth2PasswordBearer, log in with that username and password
   (leave client_id and client_secret empty). Swagger UI asks \`${tokenUrl}\` for the token and sends it
   with every request from this page.

Or get a token from \`POST /token\` yourself and paste it into **BearerAuth**.

Amounts are JSON numbers with at most two decimals. Every account starts with the configured
balance when first used. Send an \`Idempotency-Key\` header to make a retried transfer safe.`;

/**
 * Builds the transaction service from its dependencies, so that tests build one the same way.
 * With a `registry`, requests and the pool are measured into it; without one, metrics are off.
 */
export function createTransactionApp(deps: Pick<TransactionDeps, "sql" | "config" | "log"> & { registry?: Registry }): OpenAPIHono<AppEnv> {
  const { config, log, registry } = deps;
  const sql = registry ? instrumentSql(deps.sql, registry) : deps.sql;
  const app = createServiceApp({
    title: "Transaction service",
    description: description(config.DOCS_TOKEN_URL),
    log,
    ready: async () => (await sql`SELECT 1 AS ok`).length === 1,
    securitySchemes: {
      OAuth2PasswordBearer: { type: "oauth2", flows: { password: { tokenUrl: config.DOCS_TOKEN_URL, scopes: {} } } },
      BearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
    },
    tags: [{ name: "transactions", description: "Send money, list your transfers, see your balance. Every route needs a token." }],
    registry,
  });
  const metrics = transactionMetrics(registry ?? new Registry());
  const auth = authClient({ baseUrl: config.AUTH_SERVICE_URL, timeoutMs: config.AUTH_TIMEOUT_MS, log, metrics });
  const full: TransactionDeps = {
    sql,
    config,
    log,
    auth,
    authenticate: authenticate(auth, config.SECRET_KEY, config.ALGORITHM, config.SECRET_KEY_PREVIOUS),
    metrics,
  };
  transferRoutes(app, full);
  historyRoutes(app, full);
  accountRoutes(app, full);
  return app;
}
