import type { OpenAPIHono } from "@hono/zod-openapi";
import { createServiceApp } from "../common/http";
import type { Logger } from "../common/logger";
import type { Sql } from "../db/connect";
import type { AuthConfig } from "./config";
import { passwordRoutes } from "./password";
import { registerRoutes } from "./register";
import { passwordThrottle, type PasswordThrottle } from "./throttle";
import { tokenRoutes } from "./token";
import { tokenService, type AuthEnv, type TokenService } from "./tokens";
import { verifyRoutes } from "./verify";

export interface AuthDeps {
  sql: Sql;
  config: AuthConfig;
  log: Logger;
  tokens: TokenService;
  throttle: PasswordThrottle;
}

const DESCRIPTION = `Registers users and issues JWT bearer tokens (OAuth2 password flow).

To try it: \`POST /register\`, then click **Authorize** and log in with the username and password.
A password change revokes every token issued before it.`;

/** Builds the auth service from its dependencies, so that tests build one the same way. */
export function createAuthApp(deps: Omit<AuthDeps, "tokens" | "throttle">): OpenAPIHono<AuthEnv> {
  const { sql, config, log } = deps;
  const app = createServiceApp<AuthEnv["Variables"]["user"]>({
    title: "Auth service",
    description: DESCRIPTION,
    log,
    ready: async () => (await sql`SELECT 1 AS ok`).length === 1,
    securitySchemes: {
      OAuth2PasswordBearer: { type: "oauth2", flows: { password: { tokenUrl: "/token", scopes: {} } } },
      BearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
    },
    tags: [{ name: "auth", description: "Register, log in, change the password, and what the transaction service asks." }],
    corsOrigins: config.CORS_ORIGINS,
  });
  const full: AuthDeps = { ...deps, tokens: tokenService(sql, config), throttle: passwordThrottle(sql, config) };
  registerRoutes(app, full);
  tokenRoutes(app, full);
  passwordRoutes(app, full);
  verifyRoutes(app, full);
  return app;
}
