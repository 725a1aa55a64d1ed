import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { refuse } from "../common/errors";
import { jsonBody, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import { clientAddress } from "./client-address";
import type { AuthDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { Password, UserOut, Username } from "./schemas";
import { DuplicateUser, insertUser, publicUser, takenField } from "./users";

const RegisterIn = z
  .object({
    username: Username,
    email: z
      .email()
      .max(254)
      .transform((email) => email.toLowerCase())
      .openapi({ example: "alice@example.com", description: "Stored lower-cased; unique." }),
    password: Password,
  })
  .openapi("RegisterIn");

const route = declareRoute({
  method: "post",
  path: "/register",
  operationId: "register",
  tags: ["auth"],
  summary: "Register a new user",
  description: "Creates a user. Usernames are unique without regard to case; emails are stored lower-cased. " + "Registrations are limited per client address.",
  request: { body: jsonBody(RegisterIn, "The new user.") },
  responses: { 200: jsonResponse(UserOut, "The user was created.") },
  refusals: [REFUSALS.username_taken, REFUSALS.email_taken, REFUSALS.too_many_registrations],
});

const taken = (field: "username" | "email") => refuse(field === "email" ? REFUSALS.email_taken : REFUSALS.username_taken);

export function registerRoutes(app: OpenAPIHono<AppEnv>, { sql, log, config, registrations, metrics }: AuthDeps) {
  app.openapi(route, async (c) => {
    const { username, email, password } = c.req.valid("json");
    const requestId = c.get("requestId");
    const wait = await registrations(clientAddress(c, config.TRUST_PROXY));
    if (wait > 0) {
      log.warn("registration_throttled", { request_id: requestId, retry_after_s: wait });
      metrics.registration("throttled");
      throw refuse(REFUSALS.too_many_registrations, { headers: { "Retry-After": String(wait) } });
    }
    // A name already taken is refused before the costly hash; the unique indexes still decide
    // between two registrations of one new name that race past this check.
    const field = await takenField(sql, username, email);
    if (field) {
      log.info("registration_refused", { request_id: requestId, reason: `${field}_taken` });
      metrics.registration(`${field}_taken`);
      throw taken(field);
    }
    const passwordHash = await Bun.password.hash(password, "argon2id");
    try {
      const user = await insertUser(sql, { username, email, passwordHash });
      c.set("userId", String(user.id));
      log.info("user_registered", { request_id: requestId, user_id: String(user.id) });
      metrics.registration("created");
      return c.json(publicUser(user), 200);
    } catch (error) {
      if (!(error instanceof DuplicateUser)) throw error;
      log.info("registration_refused", { request_id: requestId, reason: `${error.field}_taken` });
      metrics.registration(`${error.field}_taken`);
      throw taken(error.field);
    }
  });
}
