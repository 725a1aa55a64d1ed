import type { OpenAPIHono } from "@hono/zod-openapi";
import { Registry } from "prom-client";
import { createServiceApp } from "../common/http";
import type { AppEnv } from "../common/request-context";
import { instrumentSql } from "../db/pool-metrics";
import { tokenService } from "./access-tokens";
import { checkUserRoutes } from "./check-user-routes";
import type { AuthDeps } from "./deps";
import { loginRoutes } from "./login-routes";
import { authMetrics } from "./metrics";
import { passwordRoutes } from "./password-routes";
import { registerRoutes } from "./register-routes";
import { sessionRoutes } from "./session-routes";
import { passwordThrottle, registrationThrottle } from "./throttle";
import { verifyRoutes } from "./verify-routes";

const DESCRIPTION = `Registers users and issues JWT bearer tokens (OAuth2 password flow).

To try it: \`POST /register\`, then click **Authorize** and log in with the username and password.
Each login starts a session; \`POST /token\` with \`grant_type=refresh_token\` renews its tokens, \`POST /logout\`
ends it. A password change revokes every token issued before it and ends every session.`;

/**
 * Builds the auth service from its dependencies, so that tests build one the same way. With a
 * `registry`, requests and the pool are measured into it; without one, metrics are off.
 */
export function createAuthApp(deps: Pick<AuthDeps, "sql" | "config" | "log"> & { registry?: Registry }): OpenAPIHono<AppEnv> {
  const { config, log, registry } = deps;
  const sql = registry ? instrumentSql(deps.sql, registry) : deps.sql;
  const app = createServiceApp({
    title: "Auth service",
    description: DESCRIPTION,
    log,
    ready: async () => (await sql`SELECT 1 AS ok`).length === 1,
    securitySchemes: {
      OAuth2PasswordBearer: { type: "oauth2", flows: { password: { tokenUrl: "/token", scopes: {} } } },
      BearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
    },
    tags: [
      { name: "auth", description: "Register, log in, change the password, and what the transaction service asks." },
      { name: "sessions", description: "Log out, and see or end the sessions that logins started." },
    ],
    corsOrigins: config.CORS_ORIGINS,
    registry,
  });
  const full: AuthDeps = {
    sql,
    config,
    log,
    tokens: tokenService(sql, config),
    throttle: passwordThrottle(sql, config),
    registrations: registrationThrottle(sql, config),
    metrics: authMetrics(registry ?? new Registry()),
  };
  registerRoutes(app, full);
  loginRoutes(app, full);
  passwordRoutes(app, full);
  verifyRoutes(app, full);
  checkUserRoutes(app, full);
  sessionRoutes(app, full);
  return app;
}
