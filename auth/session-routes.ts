import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { refuse } from "../common/errors";
import { bearerSecurity, jsonResponse } from "../common/openapi";
import type { AppEnv } from "../common/request-context";
import { declareRoute } from "../common/route";
import { SESSION_ID } from "../common/tokens";
import type { TokenService } from "./access-tokens";
import type { AuthDeps } from "./deps";
import { REFUSALS } from "./refusals";
import { recordEnded } from "./session-grants";
import { endSessions, listSessions } from "./sessions";

const SessionOut = z
  .object({
    id: z.string().openapi({ example: "8d4c1b2a-7e6f-4d4c-9b2a-1e6f5d4c3b2a", format: "uuid" }),
    created_at: z.string().openapi({ description: "When the session logged in.", format: "date-time", example: "2026-01-01T12:00:00.000Z" }),
    last_used_at: z
      .string()
      .openapi({ description: "When it logged in or last refreshed its tokens.", format: "date-time", example: "2026-01-02T08:30:00.000Z" }),
    client_address: z.string().openapi({ description: "The client address at login.", example: "203.0.113.7" }),
    user_agent: z.string().openapi({ description: "The User-Agent at login; empty when none was sent.", example: "Mozilla/5.0 (X11; Linux x86_64)" }),
    current: z.boolean().openapi({ description: "Whether the token of this request belongs to it." }),
  })
  .openapi("SessionOut");

const ended = { description: "Done; the access tokens of the ended sessions are refused from now on." };

const routes = (tokens: TokenService) => ({
  logout: declareRoute({
    method: "post",
    path: "/logout",
    operationId: "logout",
    tags: ["sessions"],
    summary: "Log out",
    description:
      "Ends the session of this token (`scope=local`, the default), every session of the user (`global`), or every " +
      "one but this (`others`). Their access tokens are refused at once and their refresh tokens no longer work.",
    security: bearerSecurity,
    middleware: tokens.authenticate,
    request: {
      query: z.object({
        scope: z.enum(["local", "global", "others"]).default("local").openapi({ description: "Which sessions to end.", example: "local" }),
      }),
    },
    responses: { 204: ended },
  }),
  list: declareRoute({
    method: "get",
    path: "/sessions",
    operationId: "listSessions",
    tags: ["sessions"],
    summary: "The caller's sessions",
    description: "Every live session of the user, most recently used first; `current` marks the one of this token.",
    security: bearerSecurity,
    middleware: tokens.authenticate,
    responses: { 200: jsonResponse(z.array(SessionOut), "The live sessions.") },
  }),
  remove: declareRoute({
    method: "delete",
    path: "/sessions/{id}",
    operationId: "deleteSession",
    tags: ["sessions"],
    summary: "End one of the caller's sessions",
    description: "Ends the session (this one too, if named). Another user's session, or one already ended, is not found.",
    security: bearerSecurity,
    middleware: tokens.authenticate,
    request: { params: z.object({ id: z.string().openapi({ description: "The session's id, from `GET /sessions`.", format: "uuid" }) }) },
    responses: { 204: ended },
    refusals: [REFUSALS.session_not_found],
  }),
});

export function sessionRoutes(app: OpenAPIHono<AppEnv>, { sql, log, tokens, metrics, cache }: AuthDeps) {
  const { logout, list, remove } = routes(tokens);

  app.openapi(logout, async (c) => {
    const { scope } = c.req.valid("query");
    const user = c.get("user");
    const current = user.session_id;
    const which = scope === "local" ? { only: current } : scope === "others" ? { except: current } : {};
    const endedIds = await endSessions(sql, { userId: user.id, reason: "logout", ...which });
    log.info("logged_out", { request_id: c.get("requestId"), user_id: String(user.id), session_id: current, scope });
    recordEnded({ log, metrics, cache }, c.get("requestId"), user.id, "logout", endedIds);
    return c.body(null, 204);
  });

  app.openapi(list, async (c) => {
    const user = c.get("user");
    const sessions = await listSessions(sql, user.id);
    return c.json(
      sessions.map((s) => ({
        id: s.id,
        created_at: s.created_at.toISOString(),
        last_used_at: s.last_used_at.toISOString(),
        client_address: s.client_address,
        user_agent: s.user_agent,
        current: s.id === user.session_id,
      })),
      200,
    );
  });

  app.openapi(remove, async (c) => {
    const id = c.req.valid("param").id.toLowerCase();
    const user = c.get("user");
    // Not a session id at all: no session of that id exists, which is all the caller needs to know.
    const endedIds = SESSION_ID.test(id) ? await endSessions(sql, { userId: user.id, only: id, reason: "deleted" }) : [];
    if (endedIds.length === 0) throw refuse(REFUSALS.session_not_found);
    recordEnded({ log, metrics, cache }, c.get("requestId"), user.id, "deleted", endedIds);
    return c.body(null, 204);
  });
}
