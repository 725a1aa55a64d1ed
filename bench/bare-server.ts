/**
 * The baseline for /verify: a bare Bun.serve that answers every request with a small JSON body,
 * with no routing, validation, database or logging. The ratio of /verify to this is what the
 * service's own work costs.
 */
const body = JSON.stringify({ id: 1, username: "bench", email: "bench@example.com", created_at: new Date().toISOString() });
const server = Bun.serve({
  port: Number(Bun.argv[2] ?? 0),
  hostname: "127.0.0.1",
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});
console.log(server.port);
