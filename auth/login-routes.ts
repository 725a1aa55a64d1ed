import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { fromZod, refuse } from "../common/errors";
import { jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute, guard } from "../common/route";
import { LookupName } from "../common/schemas";
import { clientAddress } from "./client-address";
import type { AuthDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { refreshSession, startSession, type Tokens } from "./session-grants";
import { findUserForLogin } from "./users";

const Password = z.string().min(1).max(1024).openapi({ format: "password", example: "correct-horse-battery" });

/** Each grant's fields are optional here and required by the grant that needs them. */
const TokenIn = z
  .object({
    grant_type: z.string().max(64).optional().openapi({ description: "`password` (the default) or `refresh_token`.", example: "password" }),
    username: LookupName.optional().openapi({ description: "The username (any case) or the email; for the password grant.", example: "alice" }),
    password: Password.optional().openapi({ description: "For the password grant." }),
    refresh_token: z.string().max(1024).optional().openapi({ description: "For the refresh_token grant: the latest refresh token." }),
    scope: z.string().max(1024).optional().openapi({ description: "Accepted and ignored." }),
    client_id: z.string().max(1024).optional(),
    client_secret: z.string().max(1024).optional(),
  })
  .openapi("TokenIn");
type TokenInput = z.infer<typeof TokenIn>;

/** What the password grant needs; missing fields are a 422, as in the original. */
const PasswordGrant = z.object({ username: LookupName, password: Password });

const TokenOut = z
  .object({
    access_token: z.string().openapi({ example: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…" }),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds until the access token expires.", example: 1800 }),
    refresh_token: z.string().openapi({
      description: "Opaque; exchange it here (`grant_type=refresh_token`) for new tokens. Each one works once.",
      example: "q1Xr0m2Qw7m0c2VjcmV0LWlzLW9wYXF1ZS1hbmQtc2luZ2xlLXVzZQ-8d4c1b2a7e6f5d4c",
    }),
  })
  .openapi("TokenOut");

const FORM = /^(multipart\/form-data|application\/x-www-form-urlencoded)$/;

/**
 * Reads a form body before the validator does, so that one that cannot be parsed is refused as
 * every 400 of /token is, with RFC 6749's `error`. The validator then reuses the parsed form.
 */
const readForm = guard(
  createMiddleware<AppEnv>(async (c, next) => {
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (FORM.test(mediaType)) {
      try {
        await c.req.formData();
      } catch (error) {
        throw refuse(REFUSALS.malformed_token_request, { reason: (error as Error).message });
      }
    }
    await next();
  }),
  [REFUSALS.malformed_token_request],
);

const route = declareRoute({
  method: "post",
  path: "/token",
  operationId: "login",
  tags: ["auth"],
  summary: "Log in, or refresh the tokens (OAuth2)",
  description:
    "The password grant (the default) exchanges a username (or email) and password for an access token and a refresh " +
    "token, and starts a session. `grant_type=refresh_token` exchanges the latest refresh token for new ones (rotation): " +
    "the old one is spent, and presenting a spent one again ends the session, except within a few seconds of its " +
    "rotation (see the README). Send a form (`application/x-www-form-urlencoded`, as OAuth2 clients and Swagger UI's " +
    "Authorize do) or JSON. Failed passwords are throttled per account and per client address. Every 400 carries " +
    "RFC 6749's `error` beside `detail` and `code`.",
  middleware: readForm,
  request: {
    body: {
      description: "The grant's fields, as a form or as JSON.",
      content: { "application/x-www-form-urlencoded": { schema: TokenIn }, "application/json": { schema: TokenIn } },
    },
  },
  responses: {
    200: {
      ...jsonResponse(TokenOut, "The tokens."),
      headers: {
        "Cache-Control": { description: "`no-store`, as RFC 6749 asks of every answer that holds a token.", schema: { type: "string" as const } },
      },
    },
  },
  refusals: [REFUSALS.invalid_credentials, REFUSALS.invalid_grant, REFUSALS.unsupported_grant_type, REFUSALS.invalid_request, REFUSALS.too_many_attempts],
});

/** Whichever of the two declared bodies arrived; with neither, the fields are reported missing. */
function tokenInput(c: Context<AppEnv, "/token", { out: { json: TokenInput; form: TokenInput } }>): TokenInput {
  const type = c.req.header("content-type") ?? "";
  if (/json/i.test(type)) return c.req.valid("json");
  if (/form/i.test(type)) return c.req.valid("form");
  throw fromZod(PasswordGrant.safeParse({}).error!, "form", {});
}

/**
 * An unknown user's password is checked against this hash, so that a login for a user who does
 * not exist costs the same argon2id work as one for a user who does.
 */
const dummyHash = Bun.password.hash(crypto.randomUUID(), "argon2id");

/** Checks the password under the throttle, then starts a session. */
async function passwordGrant(c: Context<AppEnv>, deps: AuthDeps, input: TokenInput): Promise<Tokens> {
  const { sql, log, config, throttle, metrics } = deps;
  const parsed = PasswordGrant.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error, "form", input);
  const { username, password } = parsed.data;
  const requestId = c.get("requestId");
  const user = await findUserForLogin(sql, username);
  // Lower-casing can lengthen a name ("İ" becomes two characters); the key column holds 320.
  const account = user ? `user:${user.id}` : `name:${username.toLowerCase()}`.slice(0, 320);
  const check = await throttle.reserve(account, clientAddress(c, config.TRUST_PROXY));
  if ("retryAfter" in check) {
    log.warn("login_throttled", { request_id: requestId, user_id: user && String(user.id), retry_after_s: check.retryAfter });
    metrics.login("throttled");
    throw refuse(REFUSALS.too_many_attempts, { headers: { "Retry-After": String(check.retryAfter) } });
  }
  const valid = await Bun.password.verify(password, user?.password_hash ?? (await dummyHash));
  if (!user || !valid) {
    await check.failed();
    const reason = user ? "wrong_password" : "unknown_user";
    log.info("login_failed", { request_id: requestId, user_id: user && String(user.id), reason });
    metrics.login(reason);
    throw refuse(REFUSALS.invalid_credentials);
  }
  await check.succeeded();
  c.set("userId", String(user.id));
  log.info("logged_in", { request_id: requestId, user_id: String(user.id) });
  // Counted once the session exists: a password change racing this login refuses it there.
  const tokens = await startSession(c, deps, user);
  metrics.login("success");
  return tokens;
}

export function loginRoutes(app: OpenAPIHono<AppEnv>, deps: AuthDeps) {
  app.openapi(route, async (c) => {
    const input = tokenInput(c);
    const noStore = { "Cache-Control": "no-store" };
    // An empty field counts as absent, as in the original (FastAPI reads an empty form field as unset).
    switch (input.grant_type || "password") {
      case "password":
        return c.json(await passwordGrant(c, deps, input), 200, noStore);
      case "refresh_token":
        if (!input.refresh_token) throw refuse(REFUSALS.invalid_request);
        return c.json(await refreshSession(c, deps, input.refresh_token), 200, noStore);
      default:
        throw refuse(REFUSALS.unsupported_grant_type);
    }
  });
}
