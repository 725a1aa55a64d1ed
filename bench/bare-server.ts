/**
 * The baseline for /verify: a bare Bun.serve that answers every request with a JSON body of the
 * same size, with no routing, validation, token check or logging.
 */
const [portArg] = Bun.argv.slice(2);
const body = JSON.stringify({ id: 1, username: "bench1", email: "bench1@example.com", created_at: new Date().toISOString() });
const headers = { "content-type": "application/json" };
Bun.serve({ port: Number(portArg ?? 0), hostname: "127.0.0.1", fetch: () => new Response(body, { headers }) });
