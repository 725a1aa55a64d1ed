import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { post, refresh } from "../auth/test-client";
import { account, registerUsers, startServices, transfer, transferCount, type Services } from "./test-client";

// Each login checks a password with argon2id, 50 to 200 ms on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * The transaction service asks the auth service on every request, so a session ended at the
 * auth service stops working here at once, with no cache to wait out.
 */
let services: Services;
beforeAll(async () => {
  services = await startServices();
  await registerUsers(services.auth.url, "alice", "bob");
});
afterAll(() => services.stop());

async function session() {
  const answer = await post(services.auth.url, "/token", { form: { username: "alice", password: "password-123" } });
  return answer.body as { access_token: string; refresh_token: string };
}

test.each(["local", "global"])("right after a logout (scope=%s), a transfer and GET /account are refused with 401", async (scope) => {
  const { access_token: token } = await session();
  expect((await transfer(services.trans.url, token, { receiver_username: "bob", amount: 1 })).status).toBe(200);
  const before = await transferCount(services.trans);
  expect((await post(services.auth.url, `/logout?scope=${scope}`, { token })).status).toBe(204);
  const refused = await transfer(services.trans.url, token, { receiver_username: "bob", amount: 1 });
  expect({ status: refused.status, code: refused.body.code, bearer: refused.headers.get("www-authenticate") }).toEqual({
    status: 401,
    code: "invalid_token",
    bearer: "Bearer",
  });
  expect((await account(services.trans.url, { id: 0, username: "alice", token })).status).toBe(401);
  expect(await transferCount(services.trans)).toBe(before);
});

test("a refreshed access token moves money; the one it replaced still does until it expires, as the session lives", async () => {
  const first = await session();
  const second = (await refresh(services.auth.url, first.refresh_token)).body;
  for (const token of [second.access_token, first.access_token]) {
    expect((await transfer(services.trans.url, token, { receiver_username: "bob", amount: 1 })).status).toBe(200);
  }
});
