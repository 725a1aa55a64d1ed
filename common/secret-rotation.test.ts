import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jwtVerify, SignJWT } from "jose";
import { createAuthApp } from "../auth/app";
import { loadAuthConfig } from "../auth/config";
import { createTransactionApp } from "../transaction/app";
import { loadTransactionConfig } from "../transaction/config";
import { testDatabase, type TestDatabase } from "../db/testing";
import { ConfigError } from "./config";
import { Logger } from "./logger";
import { serve, type Served } from "./server";
import { request, tempLogsDir } from "./testing";

/**
 * Rotating SECRET_KEY: with the old secret in SECRET_KEY_PREVIOUS, tokens it signed stay valid
 * (until they expire) on both services, new tokens are signed with the new secret only, and once
 * SECRET_KEY_PREVIOUS is removed the old tokens stop working.
 */
const OLD = "the-old-secret-of-at-least-32-bytes-long";
const NEW = "the-new-secret-of-at-least-32-bytes-long";
const OTHER = "a-secret-nobody-configured-of-32-bytes!!";

let authDb: TestDatabase;
let transDb: TestDatabase;
const running: { served: Served; log: Logger }[] = [];

/** An instance of a service on the shared databases, so that several can run side by side with other secrets. */
function start(kind: "auth" | "transaction", env: Record<string, string>): string {
  const log = new Logger({ file: `${tempLogsDir(kind)}/${kind}.log`, maxBytes: 1 << 20, maxFiles: 1, debug: false, stdout: false });
  const common = { LOGS_DIR: tempLogsDir(kind), ENV: "test", ...env };
  const app =
    kind === "auth"
      ? createAuthApp({ sql: authDb.sql, config: loadAuthConfig({ AUTH_DATABASE_URL: authDb.url, ...common }), log })
      : createTransactionApp({ sql: transDb.sql, config: loadTransactionConfig({ TRANS_DATABASE_URL: transDb.url, ...common }), log });
  const served = serve({ fetch: app.fetch as never, port: 0, close: async () => {} });
  running.push({ served, log });
  return `http://127.0.0.1:${served.port}`;
}

const verify = async (url: string, token: string) => (await request(url, "POST", "/verify", { token })).status;
const account = async (url: string, token: string) => (await request(url, "GET", "/account", { token })).status;
const login = async (url: string) =>
  (await request(url, "POST", "/token", { form: { username: "alice", password: "password-123" } })).body.access_token as string;

let userId: string;
let oldToken: string;
let before: string;
let during: string;
let after: string;

beforeAll(async () => {
  [authDb, transDb] = await Promise.all([testDatabase("auth"), testDatabase("transaction")]);
  before = start("auth", { SECRET_KEY: OLD });
  const registered = await request(before, "POST", "/register", { json: { username: "alice", email: "alice@example.com", password: "password-123" } });
  userId = String(registered.body.id);
  oldToken = await login(before);
  during = start("auth", { SECRET_KEY: NEW, SECRET_KEY_PREVIOUS: OLD });
  after = start("auth", { SECRET_KEY: NEW });
}, 30_000);

afterAll(async () => {
  for (const { served, log } of running) {
    await served.shutdown();
    log.close();
  }
  await authDb.drop();
  await transDb.drop();
});

describe("during a rotation (SECRET_KEY new, SECRET_KEY_PREVIOUS old)", () => {
  test("a token the old secret signed is still accepted by the auth service", async () => {
    expect(await verify(during, oldToken)).toBe(200);
  });

  test("a new token is signed with the new secret, not the old one", async () => {
    const token = await login(during);
    const key = (secret: string) => new TextEncoder().encode(secret);
    expect((await jwtVerify(token, key(NEW))).payload.sub).toBe(userId);
    expect(
      await jwtVerify(token, key(OLD)).then(
        () => "verified",
        (e) => e.code,
      ),
    ).toBe("ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    expect(await verify(during, token)).toBe(200);
  });

  test("the transaction service accepts both, and refuses a token of a secret it was never given", async () => {
    const trans = start("transaction", { SECRET_KEY: NEW, SECRET_KEY_PREVIOUS: OLD, AUTH_SERVICE_URL: during });
    expect(await account(trans, oldToken)).toBe(200);
    expect(await account(trans, await login(during))).toBe(200);
    const foreign = await new SignJWT({ ver: 0, sid: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(OTHER));
    expect(await account(trans, foreign)).toBe(401);
    expect(await verify(during, foreign)).toBe(401);
  });

  test("an expired token of the old secret is refused", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ ver: 0, sid: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(userId)
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(OLD));
    expect(await verify(during, expired)).toBe(401);
  });
});

describe("after the rotation (SECRET_KEY_PREVIOUS removed)", () => {
  test("the old token is refused by both services and a new one works", async () => {
    const trans = start("transaction", { SECRET_KEY: NEW, AUTH_SERVICE_URL: after });
    expect(await verify(after, oldToken)).toBe(401);
    expect(await account(trans, oldToken)).toBe(401);
    expect(await account(trans, await login(after))).toBe(200);
  });
});

describe("SECRET_KEY_PREVIOUS in the configuration", () => {
  const base = { SECRET_KEY: NEW, ENV: "prod" };
  const loaders = {
    auth: (env: Record<string, string>) => loadAuthConfig({ AUTH_DATABASE_URL: "postgres://u@h/db", ...base, ...env }),
    transaction: (env: Record<string, string>) => loadTransactionConfig({ TRANS_DATABASE_URL: "postgres://u@h/db", ...base, ...env }),
  };
  for (const [service, load] of Object.entries(loaders)) {
    test(`${service}: shorter than 32 bytes is refused naming it; empty means none`, () => {
      expect(() => load({ SECRET_KEY_PREVIOUS: "short" })).toThrow(ConfigError);
      expect(() => load({ SECRET_KEY_PREVIOUS: "short" })).toThrow(/SECRET_KEY_PREVIOUS must be at least 32 bytes/);
      expect(load({ SECRET_KEY_PREVIOUS: "" }).SECRET_KEY_PREVIOUS).toBeUndefined();
      expect(load({ SECRET_KEY_PREVIOUS: OLD }).SECRET_KEY_PREVIOUS).toBe(OLD);
    });
  }
});
