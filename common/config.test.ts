import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { loadAuthConfig } from "../auth/config";
import { loadTransactionConfig } from "../transaction/config";
import { EXAMPLE_SECRETS } from "./config";

/** What both services' configurations share: ENV, the refusal of known secrets, defaults that follow the ports. */

const SECRET = "a-secret-of-exactly-32-bytes-ok!";
const AUTH = { AUTH_DATABASE_URL: "postgres://auth:pw@localhost:5432/auth", SECRET_KEY: SECRET };
const TRANS = { TRANS_DATABASE_URL: "postgres://transaction:pw@localhost:5432/transaction", SECRET_KEY: SECRET };
const [EXAMPLE_KEY, EXAMPLE_DB_PASSWORD] = [...EXAMPLE_SECRETS];

const refusal = (load: () => unknown) => {
  try {
    load();
    return "accepted";
  } catch (error) {
    return (error as Error).message;
  }
};

describe("ENV", () => {
  for (const [given, meant] of [
    ["dev", "dev"],
    ["development", "dev"],
    ["test", "test"],
    ["prod", "prod"],
    ["production", "prod"],
    ["", "prod"],
  ]) {
    test(`"${given}" means ${meant}`, () => {
      expect(loadAuthConfig({ ...AUTH, ENV: given }).ENV).toBe(meant as never);
      expect(loadTransactionConfig({ ...TRANS, ENV: given }).ENV).toBe(meant as never);
    });
  }
});

describe("known secrets", () => {
  for (const env of ["prod", "production", "test"]) {
    test(`ENV=${env} refuses the example SECRET_KEY, with what to do`, () => {
      expect(refusal(() => loadAuthConfig({ ...AUTH, ENV: env, SECRET_KEY: EXAMPLE_KEY }))).toBe(
        "invalid configuration: SECRET_KEY is the example value from .env_example: set a random one (openssl rand -hex 32), or ENV=dev for development",
      );
      expect(refusal(() => loadTransactionConfig({ ...TRANS, ENV: env, SECRET_KEY: EXAMPLE_KEY }))).toContain("SECRET_KEY is the example value");
    });
  }

  test("an empty SECRET_KEY is a missing one", () => {
    expect(refusal(() => loadAuthConfig({ ...AUTH, SECRET_KEY: "" }))).toBe("invalid configuration: SECRET_KEY is required");
  });

  test("a database URL with an example password is refused outside ENV=dev, percent-encoded or not", () => {
    const url = `postgresql://auth:${encodeURIComponent(EXAMPLE_DB_PASSWORD!)}@auth_db:5432/auth`;
    expect(refusal(() => loadAuthConfig({ ...AUTH, AUTH_DATABASE_URL: url }))).toStartWith(
      "invalid configuration: AUTH_DATABASE_URL holds the example password from .env_example",
    );
    const transUrl = `postgresql+asyncpg://t:${[...EXAMPLE_SECRETS][2]}@db/transaction`;
    expect(refusal(() => loadTransactionConfig({ ...TRANS, TRANS_DATABASE_URL: transUrl }))).toContain("TRANS_DATABASE_URL holds the example password");
  });

  test("ENV=dev accepts them all, and a URL without a password is accepted anywhere", () => {
    const url = `postgresql://auth:${EXAMPLE_DB_PASSWORD}@auth_db:5432/auth`;
    expect(loadAuthConfig({ ...AUTH, ENV: "development", SECRET_KEY: EXAMPLE_KEY, AUTH_DATABASE_URL: url }).SECRET_KEY).toBe(EXAMPLE_KEY!);
    expect(loadAuthConfig({ ...AUTH, AUTH_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/auth" }).ENV).toBe("prod");
  });
});

describe("defaults that follow the ports", () => {
  test("the auth service's CORS origins follow TRANS_SERVICE_PORT", () => {
    expect(loadAuthConfig(AUTH).CORS_ORIGINS).toEqual(["http://localhost:8001", "http://127.0.0.1:8001"]);
    expect(loadAuthConfig({ ...AUTH, TRANS_SERVICE_PORT: "9101", CORS_ORIGINS: "" }).CORS_ORIGINS).toEqual(["http://localhost:9101", "http://127.0.0.1:9101"]);
    expect(loadAuthConfig({ ...AUTH, TRANS_SERVICE_PORT: "9101", CORS_ORIGINS: "https://a.example, https://b.example" }).CORS_ORIGINS).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });

  test("the transaction service's tokenUrl and auth URL follow AUTH_SERVICE_PORT", () => {
    expect(loadTransactionConfig(TRANS)).toMatchObject({ DOCS_TOKEN_URL: "http://localhost:8000/token", AUTH_SERVICE_URL: "http://localhost:8000" });
    expect(loadTransactionConfig({ ...TRANS, AUTH_SERVICE_PORT: "9100", DOCS_TOKEN_URL: "", AUTH_SERVICE_URL: "" })).toMatchObject({
      DOCS_TOKEN_URL: "http://localhost:9100/token",
      AUTH_SERVICE_URL: "http://localhost:9100",
    });
    expect(
      loadTransactionConfig({ ...TRANS, AUTH_SERVICE_PORT: "9100", DOCS_TOKEN_URL: "https://auth.example/token", AUTH_SERVICE_URL: "http://auth:9100/" }),
    ).toMatchObject({ DOCS_TOKEN_URL: "https://auth.example/token", AUTH_SERVICE_URL: "http://auth:9100" });
  });

  test("an empty variable takes its default, as docker-compose.yml hands on `${NAME:-}`", () => {
    expect(loadTransactionConfig({ ...TRANS, AUTH_TIMEOUT_MS: "", TRANSACTIONS_DEFAULT_LIMIT: "", IS_DEBUG: "" })).toMatchObject({
      AUTH_TIMEOUT_MS: 2000,
      TRANSACTIONS_DEFAULT_LIMIT: 1000,
      IS_DEBUG: false,
    });
  });
});

test("bun transaction/index.ts with the example SECRET_KEY exits 1 with one line that says what to do", async () => {
  const dir = mkdtempSync(`${tmpdir()}/trans-index-`);
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../transaction/index.ts")], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...TRANS, SECRET_KEY: EXAMPLE_KEY!, LOGS_DIR: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(1);
  expect(stderr.trimEnd().split("\n")).toEqual([
    "transaction_service: invalid configuration: SECRET_KEY is the example value from .env_example: set a random one (openssl rand -hex 32), or ENV=dev for development",
  ]);
});
