import { connect } from "../db/connect";

/**
 * The baselines for /verify: a bare Bun.serve that answers every request with a small JSON body,
 * with no routing, validation, token check or logging. Given a database URL it also runs the one
 * primary-key lookup /verify needs, so the report can tell what the database round trip costs
 * from what the service's own code costs.
 */
const [portArg, databaseUrl] = Bun.argv.slice(2);
const sql = databaseUrl ? connect(databaseUrl, { max: 20 }) : undefined;
const body = JSON.stringify({ id: 1, username: "bench", email: "bench@example.com", created_at: new Date().toISOString() });
const headers = { "content-type": "application/json" };
Bun.serve({
  port: Number(portArg ?? 0),
  hostname: "127.0.0.1",
  fetch: sql
    ? async () => {
        // User 1 exists once the benchmark has registered its users; before that, null.
        const [user] = await sql`SELECT id, username, email, created_at, password_hash, token_version FROM users WHERE id = ${1}`;
        return new Response(JSON.stringify(user ? { id: Number(user.id), username: user.username } : null), { headers });
      }
    : () => new Response(body, { headers }),
});
