/**
 * Sends every request of a burst at once and prints each answer's status and code as JSON. It
 * runs as a process of its own, started with BUN_CONFIG_MAX_HTTP_REQUESTS raised: Bun's fetch
 * otherwise keeps at most 256 requests in flight per process and queues the rest, and the
 * concurrency tests must really have them all in flight together.
 *
 * stdin: {"url": "...", "requests": [{"token": "...", "body": {...}}]}
 */
const { url, requests } = (await Bun.stdin.json()) as { url: string; requests: { token: string; body: unknown }[] };
const answers = await Promise.all(
  requests.map(async ({ token, body }) => {
    const response = await fetch(`${url}/transfer`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await response.json().catch(() => ({}))) as { code?: string };
    return { status: response.status, code: json.code };
  }),
);
console.log(JSON.stringify(answers));
export {};
