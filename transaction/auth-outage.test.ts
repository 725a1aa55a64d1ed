import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { forgeToken, request, transfer, transferCount, type Answer } from "./test-client";
import { startTransactionService, type RunningTransaction } from "./test-server";

/**
 * A transaction service whose auth service is down, silent or broken: every request that needs
 * the auth service is answered 503 auth_unavailable within AUTH_TIMEOUT_MS plus some slack,
 * never 404 and never a hang, and no money moves. A token that is bad on its face is still
 * refused with 401 without asking anyone.
 */
const TIMEOUT_MS = 300;
const SLACK_MS = 1200;

/** Accepts connections and never answers a byte. */
const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });

/** A port nothing listens on: the connection is refused at once. */
const closedPort = (() => {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
})();

/** Answers every request with a 500, as an auth service with a broken database might. */
const failing = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ detail: "boom" }, { status: 500 }) });

/**
 * Confirms every token as user 1 ("alice") but never answers /check-user: the receiver lookup is
 * what hangs, after authentication succeeded.
 */
const checkUserHangs = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: (req) =>
    new URL(req.url).pathname === "/verify"
      ? Response.json({ id: 1, username: "alice", email: "alice@example.com", created_at: new Date().toISOString() })
      : new Promise<Response>(() => {}),
});

const env = { AUTH_TIMEOUT_MS: String(TIMEOUT_MS) };
const outages: Record<string, RunningTransaction> = {};
let token: string;

beforeAll(async () => {
  const urls = {
    silent: `http://127.0.0.1:${silent.port}`,
    refused: `http://127.0.0.1:${closedPort}`,
    failing: failing.url.origin,
    checkUserHangs: checkUserHangs.url.origin,
  };
  await Promise.all(Object.entries(urls).map(async ([name, authUrl]) => (outages[name] = await startTransactionService(authUrl, env))));
  // Signed with the shared secret, so it passes the local check and only the auth service can judge it.
  token = await forgeToken("1");
}, 30_000);

afterAll(async () => {
  await Promise.all(Object.values(outages).map((service) => service.stop()));
  silent.stop(true);
  await failing.stop(true);
  await checkUserHangs.stop(true);
}, 30_000);

async function expectUnavailable(answer: Answer) {
  expect({ status: answer.status, body: answer.body }).toEqual({
    status: 503,
    body: { detail: "The auth service is unavailable; nothing was done, try again", code: "auth_unavailable" },
  });
  expect(answer.elapsedMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
}

describe.each([
  ["accepts connections and never answers", "silent"],
  ["refuses connections", "refused"],
  ["answers 500", "failing"],
])("with an auth service that %s", (_, name) => {
  test("POST /transfer answers 503 auth_unavailable quickly and writes no transfer", async () => {
    const service = outages[name]!;
    await expectUnavailable(await transfer(service.url, token, { receiver_username: "bob", amount: 10 }));
    expect(await transferCount(service)).toBe(0);
    const [accounts] = await service.db.sql`SELECT count(*)::int AS n FROM accounts`;
    expect(accounts!.n).toBe(0);
  });

  test("GET /account and GET /transactions answer 503 auth_unavailable quickly", async () => {
    const service = outages[name]!;
    await expectUnavailable(await request(service.url, "GET", "/account", { token }));
    await expectUnavailable(await request(service.url, "GET", "/transactions", { token }));
  });

  test("a garbage or expired token is still refused with 401, without waiting for the auth service", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    for (const bad of ["garbage", await forgeToken("1", { iat: past, exp: past + 60 })]) {
      const answer = await transfer(outages[name]!.url, bad, { receiver_username: "bob", amount: 10 });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe("invalid_token");
      expect(answer.headers.get("www-authenticate")).toBe("Bearer");
      expect(answer.elapsedMs).toBeLessThan(TIMEOUT_MS);
    }
  });
});

describe("with an auth service that confirms the token but never answers /check-user", () => {
  test("a transfer to an unknown receiver is 503 auth_unavailable, not 404, and nothing is written", async () => {
    const service = outages.checkUserHangs!;
    await expectUnavailable(await transfer(service.url, token, { receiver_username: "bob", amount: 10 }));
    expect(await transferCount(service)).toBe(0);
  });
});
