import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { ConfigError } from "../common/config";
import { inFlightAtShutdown } from "../common/testing";
import { freePort, healthy, until } from "../scripts/processes";
import { testDatabase } from "../db/testing";
import { loadAuthConfig } from "./config";

// Starting bun and a database for the subprocess tests takes seconds on a small, busy machine.
setDefaultTimeout(30_000);

const SECRET = "a-secret-of-exactly-32-bytes-ok!";
const VALID = { AUTH_DATABASE_URL: "postgres://auth:pw@localhost:5432/auth", SECRET_KEY: SECRET };

function configError(env: Record<string, string | undefined>): string {
  try {
    loadAuthConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("loadAuthConfig accepted the configuration");
}

describe("loadAuthConfig", () => {
  test("fills the original's defaults around the two required variables", () => {
    expect(loadAuthConfig(VALID)).toMatchObject({
      AUTH_SERVICE_PORT: 8000,
      ALGORITHM: "HS256",
      ACCESS_TOKEN_EXPIRE_MINUTES: 30,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: 10,
      LOGIN_MAX_FAILURES_PER_ADDRESS: 200,
      LOGIN_FAILURE_WINDOW_MINUTES: 15,
      REGISTRATION_MAX_PER_ADDRESS: 50,
      REGISTRATION_WINDOW_MINUTES: 60,
      REFRESH_TOKEN_EXPIRE_DAYS: 30,
      SESSION_LIFETIME_DAYS: 90,
      REFRESH_REUSE_GRACE_SECONDS: 10,
      MAX_SESSIONS_PER_USER: 100,
      PURGE_INTERVAL_SECONDS: 60,
      TRUST_PROXY: 0,
      LOGS_DIR: "./logs",
      ENV: "prod",
      METRICS_PORT: 9000,
    });
  });

  test("takes METRICS_PORT=0 as metrics off", () => {
    expect(loadAuthConfig({ ...VALID, METRICS_PORT: "0" }).METRICS_PORT).toBe(0);
  });

  test("reads TRUST_PROXY as a number of proxies, and the earlier on/off words as one or none", () => {
    const proxies = (value: string) => loadAuthConfig({ ...VALID, TRUST_PROXY: value }).TRUST_PROXY;
    expect(["0", "1", "2", "true", "YES", "false", "no", ""].map(proxies)).toEqual([0, 1, 2, 1, 1, 0, 0, 0]);
  });

  test("allows REFRESH_REUSE_GRACE_SECONDS=0, which turns the grace window off", () => {
    expect(loadAuthConfig({ ...VALID, REFRESH_REUSE_GRACE_SECONDS: "0" }).REFRESH_REUSE_GRACE_SECONDS).toBe(0);
  });

  test("accepts the original's postgresql+asyncpg:// URL", () => {
    const url = "postgresql+asyncpg://auth:pw@auth_db:5432/auth";
    expect(loadAuthConfig({ ...VALID, AUTH_DATABASE_URL: url }).AUTH_DATABASE_URL).toBe(url);
  });

  test("counts SECRET_KEY in bytes: 16 two-byte characters are enough", () => {
    expect(loadAuthConfig({ ...VALID, SECRET_KEY: "é".repeat(16) }).SECRET_KEY).toBe("é".repeat(16));
  });

  test("accepts a short SECRET_KEY with ENV=dev", () => {
    expect(loadAuthConfig({ ...VALID, SECRET_KEY: "dev", ENV: "dev" }).SECRET_KEY).toBe("dev");
  });

  const refusals: [string, Record<string, string | undefined>, RegExp][] = [
    ["a missing AUTH_DATABASE_URL", { AUTH_DATABASE_URL: undefined }, /AUTH_DATABASE_URL is required/],
    ["an AUTH_DATABASE_URL that is not a URL", { AUTH_DATABASE_URL: "not a url" }, /AUTH_DATABASE_URL must be a postgres/],
    ["a MySQL AUTH_DATABASE_URL", { AUTH_DATABASE_URL: "mysql://root@db/auth" }, /AUTH_DATABASE_URL must be a postgres/],
    ["a missing SECRET_KEY", { SECRET_KEY: undefined }, /SECRET_KEY is required/],
    ["a SECRET_KEY of 31 bytes", { SECRET_KEY: SECRET.slice(1) }, /SECRET_KEY must be at least 32 bytes/],
    ["a short SECRET_KEY with ENV=prod", { SECRET_KEY: "dev", ENV: "prod" }, /SECRET_KEY must be at least 32 bytes/],
    ["ALGORITHM=none", { ALGORITHM: "none" }, /ALGORITHM/],
    ["ALGORITHM=RS256", { ALGORITHM: "RS256" }, /ALGORITHM/],
    ["a non-numeric ACCESS_TOKEN_EXPIRE_MINUTES", { ACCESS_TOKEN_EXPIRE_MINUTES: "soon" }, /ACCESS_TOKEN_EXPIRE_MINUTES (?!is required)/],
    ["ACCESS_TOKEN_EXPIRE_MINUTES=0", { ACCESS_TOKEN_EXPIRE_MINUTES: "0" }, /ACCESS_TOKEN_EXPIRE_MINUTES/],
    ["a port above 65535", { AUTH_SERVICE_PORT: "70000" }, /AUTH_SERVICE_PORT/],
    ["LOGIN_MAX_FAILURES_PER_ACCOUNT=0", { LOGIN_MAX_FAILURES_PER_ACCOUNT: "0" }, /LOGIN_MAX_FAILURES_PER_ACCOUNT/],
    ["a fractional LOGIN_MAX_FAILURES_PER_ADDRESS", { LOGIN_MAX_FAILURES_PER_ADDRESS: "2.5" }, /LOGIN_MAX_FAILURES_PER_ADDRESS/],
    ["a negative TRUST_PROXY", { TRUST_PROXY: "-1" }, /TRUST_PROXY/],
    ["TRUST_PROXY=maybe", { TRUST_PROXY: "maybe" }, /TRUST_PROXY must be the number of proxies/],
    ["REGISTRATION_MAX_PER_ADDRESS=0", { REGISTRATION_MAX_PER_ADDRESS: "0" }, /REGISTRATION_MAX_PER_ADDRESS/],
    ["REFRESH_TOKEN_EXPIRE_DAYS=0", { REFRESH_TOKEN_EXPIRE_DAYS: "0" }, /REFRESH_TOKEN_EXPIRE_DAYS/],
    ["a negative REFRESH_REUSE_GRACE_SECONDS", { REFRESH_REUSE_GRACE_SECONDS: "-1" }, /REFRESH_REUSE_GRACE_SECONDS/],
    ["an unknown ENV", { ENV: "staging" }, /ENV/],
    ["IS_DEBUG=maybe", { IS_DEBUG: "maybe" }, /IS_DEBUG/],
    ["METRICS_PORT equal to AUTH_SERVICE_PORT", { AUTH_SERVICE_PORT: "8000", METRICS_PORT: "8000" }, /METRICS_PORT must differ from AUTH_SERVICE_PORT/],
    ["METRICS_PORT equal to the default AUTH_SERVICE_PORT", { METRICS_PORT: "8000" }, /METRICS_PORT must differ from AUTH_SERVICE_PORT/],
    ["a negative METRICS_PORT", { METRICS_PORT: "-1" }, /METRICS_PORT/],
  ];
  for (const [name, change, message] of refusals) {
    test(`refuses ${name} with a ConfigError naming the variable`, () => {
      expect(configError({ ...VALID, ...change })).toMatch(message);
    });
  }
});

describe("bun auth/index.ts", () => {
  /** The service as `bun run start:auth` runs it, in an empty folder so that no .env file is read. */
  function start(env: Record<string, string>) {
    const base: Record<string, string | undefined> = { ...process.env };
    for (const name of ["AUTH_DATABASE_URL", "SECRET_KEY", "ENV", "ALGORITHM", "AUTH_SERVICE_PORT", "METRICS_PORT"]) delete base[name];
    const logsDir = mkdtempSync(`${tmpdir()}/auth-index-`);
    return Bun.spawn(["bun", `${import.meta.dir}/index.ts`], {
      cwd: logsDir,
      // A free metrics port: the default 9000 may be held by something else on this machine.
      env: { ...base, LOGS_DIR: logsDir, METRICS_PORT: String(freePort()), ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
  }

  test("without SECRET_KEY exits non-zero with one stderr line naming SECRET_KEY", async () => {
    const proc = start({ AUTH_DATABASE_URL: VALID.AUTH_DATABASE_URL });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).not.toBe(0);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toContain("SECRET_KEY");
  });

  test("with a malformed AUTH_DATABASE_URL exits non-zero with one line naming it", async () => {
    const proc = start({ AUTH_DATABASE_URL: "mysql://root@db/auth", SECRET_KEY: SECRET });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).not.toBe(0);
    expect(stderr.trimEnd().split("\n")).toEqual([expect.stringContaining("AUTH_DATABASE_URL")]);
  });

  test("with a LOGS_DIR it cannot write exits non-zero with one line naming the log file", async () => {
    const notAFolder = `${mkdtempSync(`${tmpdir()}/auth-logs-file-`)}/file`;
    await Bun.write(notAFolder, "");
    const proc = start({ AUTH_DATABASE_URL: VALID.AUTH_DATABASE_URL, SECRET_KEY: SECRET, LOGS_DIR: notAFolder });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(1);
    expect(stderr.trimEnd().split("\n")).toEqual([expect.stringContaining("cannot open the log file")]);
  });

  test("with a METRICS_PORT that is taken exits 1 with one line naming it", async () => {
    const taken = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      const proc = start({
        AUTH_DATABASE_URL: VALID.AUTH_DATABASE_URL,
        SECRET_KEY: SECRET,
        AUTH_SERVICE_PORT: String(freePort()),
        METRICS_PORT: String(taken.port),
      });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(1);
      expect(stderr.trimEnd().split("\n")).toEqual([expect.stringContaining(`cannot listen on METRICS_PORT ${taken.port}`)]);
    } finally {
      taken.stop(true);
    }
  });

  test("with a valid environment serves /health, and on SIGTERM finishes in-flight requests and exits 0", async () => {
    const db = await testDatabase("auth");
    const [port, metricsPort] = [freePort(), freePort()];
    const logsDir = mkdtempSync(`${tmpdir()}/auth-index-debug-`);
    const proc = start({
      AUTH_DATABASE_URL: db.url,
      SECRET_KEY: SECRET,
      AUTH_SERVICE_PORT: String(port),
      METRICS_PORT: String(metricsPort),
      IS_DEBUG: "1",
      LOGS_DIR: logsDir,
    });
    try {
      expect(await until(() => healthy(`http://127.0.0.1:${port}`), 10_000)).toBe(true);
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ status: "ok" });
      // The metrics are on their own port, and only there.
      expect(metricsPort).not.toBe(port);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      // Five registrations hash five passwords one after another on a small machine, so most
      // of them are still running when the signal arrives; none may be cut off.
      const inFlight = ["a", "b", "c", "d", "e"].map((name) =>
        fetch(`http://127.0.0.1:${port}/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: `graceful_${name}`, email: `graceful_${name}@example.com`, password: "password-123" }),
        }),
      );
      await Bun.sleep(30);
      proc.kill("SIGTERM");
      expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await proc.exited).toBe(0);
      // The log proves the premise: registrations started before the shutdown line and ended after it.
      const straddling = await inFlightAtShutdown(`${logsDir}/auth_service/auth_service.log`);
      expect(straddling.filter((line) => line.path === "/register" && line.status === 200).length).toBeGreaterThanOrEqual(1);
      expect(
        await fetch(`http://127.0.0.1:${port}/health`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
      expect(
        await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
      const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users`;
      expect(row!.n).toBe(5);
      // IS_DEBUG=1 adds the configuration as a debug line, with the secret and the URL's credentials left out.
      const log = await Bun.file(`${logsDir}/auth_service/auth_service.log`).text();
      const parsed = log
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      expect(parsed[0]).toMatchObject({ event: "started", service: "auth_service", port });
      expect(parsed.filter((line) => line.event === "shutdown")).toEqual([expect.objectContaining({ level: "info", signal: "SIGTERM" })]);
      const configuration = parsed.find((line) => line.event === "configuration");
      expect(configuration).toMatchObject({ level: "debug", SECRET_KEY: "[redacted]", AUTH_SERVICE_PORT: port });
      expect(log).not.toContain(SECRET);
      expect(log).not.toContain(db.url);
    } finally {
      proc.kill();
      await db.drop();
    }
  });
});
