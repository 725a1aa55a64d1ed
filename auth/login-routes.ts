import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { fromZod, refuse } from "../common/errors";
import { jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import { LookupName } from "../common/schemas";
import type { AuthDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { findUserForLogin } from "./users";

const TokenIn = z
  .object({
    username: LookupName.openapi({ description: "The username (any case) or the email.", example: "alice" }),
    password: z.string().min(1).max(1024).openapi({ format: "password", example: "correct-horse-battery" }),
    grant_type: z.literal("password").optional().openapi({ description: "OAuth2 password grant; optional." }),
    scope: z.string().max(1024).optional().openapi({ description: "Accepted and ignored." }),
    client_id: z.string().max(1024).optional(),
    client_secret: z.string().max(1024).optional(),
  })
  .openapi("TokenIn");

const TokenOut = z
  .object({
    access_token: z.string().openapi({ example: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…" }),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds until the token expires.", example: 1800 }),
  })
  .openapi("TokenOut");

const route = declareRoute({
  method: "post",
  path: "/token",
  operationId: "login",
  tags: ["auth"],
  summary: "Log in (OAuth2 password flow)",
  description:
    "Exchanges a username (or email) and password for a bearer token. Send a form " +
    "(`application/x-www-form-urlencoded`, as OAuth2 clients and Swagger UI's Authorize do) or JSON. " +
    "Repeated failures are throttled per account and per client address.",
  request: {
    body: {
      description: "The credentials, as a form or as JSON.",
      content: { "application/x-www-form-urlencoded": { schema: TokenIn }, "application/json": { schema: TokenIn } },
    },
  },
  responses: { 200: jsonResponse(TokenOut, "A bearer token.") },
  refusals: [REFUSALS.invalid_credentials, REFUSALS.too_many_attempts],
});

/** Whichever of the two declared bodies arrived; with neither, the fields are reported missing. */
function credentials(c: Context<AppEnv, "/token", { out: { json: z.infer<typeof TokenIn>; form: z.infer<typeof TokenIn> } }>) {
  const type = c.req.header("content-type") ?? "";
  if (/json/i.test(type)) return c.req.valid("json");
  if (/form/i.test(type)) return c.req.valid("form");
  const result = TokenIn.safeParse({});
  throw fromZod(result.error!, "form", {});
}

export function loginRoutes(app: OpenAPIHono<AppEnv>, { sql, log, tokens, throttle }: AuthDeps) {
  // An unknown user's password is checked against this hash, so that a login for a user who
  // does not exist costs the same argon2id work as one for a user who does.
  const dummyHash = Bun.password.hash(crypto.randomUUID(), "argon2id");

  app.openapi(route, async (c) => {
    const { username, password } = credentials(c);
    const requestId = c.get("requestId");
    const user = await findUserForLogin(sql, username);
    // Lower-casing can lengthen a name ("İ" becomes two characters); the key column holds 320.
    const keys = throttle.keys(c, user ? `user:${user.id}` : `name:${username.toLowerCase()}`.slice(0, 320));
    const wait = await throttle.retryAfter(keys);
    if (wait > 0) {
      log.warn("login_throttled", { request_id: requestId, user_id: user && String(user.id), retry_after_s: wait });
      throw refuse(REFUSALS.too_many_attempts, { headers: { "Retry-After": String(wait) } });
    }
    const valid = await Bun.password.verify(password, user?.password_hash ?? (await dummyHash));
    if (!user || !valid) {
      await throttle.failed(keys);
      log.info("login_failed", { request_id: requestId, user_id: user && String(user.id), reason: user ? "wrong_password" : "unknown_user" });
      throw refuse(REFUSALS.invalid_credentials);
    }
    await throttle.succeeded(keys);
    c.set("userId", String(user.id));
    log.info("logged_in", { request_id: requestId, user_id: String(user.id) });
    return c.json(await tokens.issue(user), 200);
  });
}
