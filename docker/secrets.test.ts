import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EXAMPLE_SECRETS } from "../common/config";

/**
 * docker/secrets.ts as the compose `secrets` job runs it, writing into a temporary folder in
 * place of /run/secrets: what it generates, keeps, takes from `.env`, and refuses to use.
 */
const script = resolve(import.meta.dir, "secrets.ts");
const root = mkdtempSync(join(tmpdir(), "secrets-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES = [
  "secret_key/secret_key",
  "auth_db_owner/password",
  "auth_db_owner/database_url",
  "auth_db_login/password",
  "auth_db_login/database_url",
  "transaction_db_owner/password",
  "transaction_db_owner/database_url",
  "transaction_db_login/password",
  "transaction_db_login/database_url",
];

/** Runs the job with exactly `env` (no `.env` of this machine), answering its output and the files. */
async function run(dir: string, env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, script, dir], { env: { PATH: process.env.PATH ?? "", ...env }, cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  const files = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f), "utf8")]));
  return { out, files };
}

describe("the secrets job", () => {
  const dir = join(root, "install");
  let first: Awaited<ReturnType<typeof run>>;

  test("generates every secret left empty, as 64 hex characters readable by root alone", async () => {
    first = await run(dir, { SECRET_KEY: "", AUTH_DB_PASSWORD: "" });
    for (const f of FILES.filter((f) => !f.endsWith("database_url"))) expect(first.files[f]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(FILES.filter((f) => !f.endsWith("database_url")).map((f) => first.files[f])).size).toBe(5);
    for (const f of FILES) expect((statSync(join(dir, f)).mode & 0o777).toString(8)).toBe("400");
    expect(readdirSync(join(dir, "auth_db_owner")).sort()).toEqual(["database_url", "password"]);
    expect(first.out).toContain("secrets: SECRET_KEY generated");
  });

  test("writes each database URL with the default names, the compose host and the decided password", () => {
    const owner = new URL(first.files["auth_db_owner/database_url"]!);
    expect([owner.username, owner.host, owner.pathname, owner.password]).toEqual(["auth", "auth_db:5432", "/auth", first.files["auth_db_owner/password"]!]);
    const login = new URL(first.files["transaction_db_login/database_url"]!);
    expect([login.username, login.host, login.pathname, login.password]).toEqual([
      "transaction_service",
      "transaction_db:5432",
      "/transaction",
      first.files["transaction_db_login/password"]!,
    ]);
  });

  test("keeps what it generated on the next start, and never prints a value", async () => {
    const again = await run(dir, {});
    expect(again.files).toEqual(first.files);
    expect(again.out).toContain("secrets: SECRET_KEY kept from an earlier start");
    for (const value of Object.values(first.files)) expect(again.out + first.out).not.toContain(value);
  });

  test("uses a value set in .env as given, URL-encoded where it goes into a URL", async () => {
    const password = "p@ss:w/rd%?#é";
    const set = await run(dir, { SECRET_KEY: "k".repeat(40), AUTH_DB_SERVICE_PASSWORD: password, AUTH_DB_SERVICE_USER: "svc", AUTH_DB_NAME: "authdb" });
    expect(set.files["secret_key/secret_key"]).toBe("k".repeat(40));
    expect(set.files["auth_db_login/password"]).toBe(password);
    const url = new URL(set.files["auth_db_login/database_url"]!);
    expect([url.username, decodeURIComponent(url.password), url.pathname]).toEqual(["svc", password, "/authdb"]);
    expect(set.files["auth_db_owner/password"]).toBe(first.files["auth_db_owner/password"]!);
    expect(set.out).toContain("secrets: AUTH_DB_SERVICE_PASSWORD from .env");
  });

  test("never uses an example value from .env_example: a fresh installation gets a random one", async () => {
    const fresh = join(root, "examples");
    const examples = [...EXAMPLE_SECRETS];
    const got = await run(fresh, { SECRET_KEY: examples[0]!, AUTH_DB_PASSWORD: examples[1]!, TRANS_DB_PASSWORD: examples[2]! });
    expect(Object.values(got.files).filter((v) => examples.some((e) => v.includes(e)))).toEqual([]);
    expect(got.out).toContain("secrets: SECRET_KEY in .env is the example from .env_example, so it is not used");
  });
});

test(".env_example ships no secret: each password or key is empty or a known example", async () => {
  const lines = (await Bun.file(resolve(import.meta.dir, "../.env_example")).text()).split("\n");
  const secrets = lines.map((l) => /^([A-Z_]*(?:PASSWORD|SECRET_KEY))=(.*)$/.exec(l)).filter((m) => m !== null);
  expect(secrets.map((m) => m[1])).toEqual(expect.arrayContaining(["SECRET_KEY", "AUTH_DB_PASSWORD", "AUTH_DB_SERVICE_PASSWORD", "TRANS_DB_SERVICE_PASSWORD"]));
  for (const [, name, value] of secrets) expect(`${name}=${value === "" || EXAMPLE_SECRETS.has(value!) ? "" : value}`).toBe(`${name}=`);
});
