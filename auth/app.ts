import type { OpenAPIHono } from "@hono/zod-openapi";
import { Registry } from "prom-client";
import { createServiceApp } from "../common/http";
import type { AppEnv } from "../common/request-context";
import type { AppDeps } from "../common/server";
import { instrumentSql } from "../db/pool-metrics";
import { tokenService } from "./access-tokens";
import { checkUserRoutes } from "./check-user-routes";
import type { AuthConfig } from "./config";
import type { AuthDeps } from "./deps";
import { loginRoutes } from "./login-routes";
import { authMetrics } from "./metrics";
import { passwordRoutes } from "./password-routes";
import { registerRoutes } from "./register-routes";
import { sessionRoutes } from "./session-routes";
import { passwordThrottle, registrationThrottle } from "./throttle";
import { verifyCache, type VerifyCache } from "./verify-cache";
import { verifyRoutes } from "./verify-routes";

const DESCRIPTION = `Registers users and issues JWT bearer tokens (OAuth2 password flow).

To try it: \`POST /register\`, then click **Authorize** and log in with the username and password.
Each login starts a session; \`POST /token\` with \`grant_type=refresh_token\` renews its tokens, \`POST /logout\`
ends it. A password change revokes every token issued before it and ends every session.`;

/**
 * Builds the auth service from its dependencies, so that tests build one the same way. With a
 * `registry`, requests and the pool are measured into it; without one, metrics are off. `cache`
 * is given by tests that look into it; otherwise the app makes its own.
 */
export function createAuthApp(deps: AppDeps<AuthConfig> & { cache?: VerifyCache }): OpenAPIHono<AppEnv> {
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
  const cache = deps.cache ?? verifyCache({ sql, log, maxEntries: config.VERIFY_CACHE_SIZE, onShutdown: deps.onShutdown });
  const full: AuthDeps = {
    sql,
    config,
    log,
    cache,
    tokens: tokenService(config, cache),
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
