import { findCaller } from "../auth/sessions";
import { connect } from "../db/connect";

/**
 * The baselines for /verify: a bare Bun.serve that answers every request with a small JSON body,
 * with no routing, validation, token check or logging. Given a database URL it also runs the one
 * read /verify makes (the user and the token's session, each by primary key), so the report can
 * tell what the database round trip costs from what the service's own code costs.
 */
const [portArg, databaseUrl] = Bun.argv.slice(2);
const sql = databaseUrl ? connect(databaseUrl, { max: 20 }) : undefined;
const body = JSON.stringify({ id: 1, username: "bench", email: "bench@example.com", created_at: new Date().toISOString() });
const headers = { "content-type": "application/json" };
// Any session id will do: the read costs the same whether or not the session exists.
const sessionId = crypto.randomUUID();
Bun.serve({
  port: Number(portArg ?? 0),
  hostname: "127.0.0.1",
  fetch: sql
    ? async () => {
        // User 1 exists once the benchmark has registered its users; before that, null.
        const found = await findCaller(sql, "1", sessionId);
        return new Response(JSON.stringify(found ? { id: Number(found.user.id), username: found.user.username } : null), { headers });
      }
    : () => new Response(body, { headers }),
});
