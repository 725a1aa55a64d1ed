import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compose, namedVolumes, read, root, schemaKeys, scripts, service, strings, variablesIn } from "./docker-files";

/**
 * docker-compose.yml read against the repo, in a second and with no Docker engine: every
 * script, variable and secret it names must exist where it is expected, and each container
 * must get exactly the settings and secrets it uses. scripts/dockerfile.test.ts reads the
 * images; `bun run test:compose` (scripts/compose.e2e.ts) then runs the whole stack for real.
 */

const SECRET_FILES = /^\/run\/secrets\/(\w+)\/\w+$/;

describe("docker-compose.yml", () => {
  test("declares the secrets job and the six services", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "auth_db",
      "auth_migrate",
      "auth_service",
      "secrets",
      "transaction_db",
      "transaction_migrate",
      "transaction_service",
    ]);
  });

  test("reads every variable it uses from .env_example", async () => {
    const listed = (await read(".env_example")).split("\n").map((l) => /^\s*#? ?(?:export\s+)?([A-Za-z_]\w*)=/.exec(l)?.[1]);
    const used = new Set(strings(compose).flatMap(variablesIn));
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((v) => !listed.includes(v))).toEqual([]);
  });

  test("holds no secret: a password or key is handed on from .env to the secrets job, or read from a secret file", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.env_file).toBeUndefined();
      for (const [key, value] of Object.entries(s.environment ?? {}).filter(([k]) => /PASSWORD|SECRET|TOKEN_URL$|_KEY$|DATABASE_URL/i.test(k))) {
        if (key.endsWith("_FILE")) expect(`${name} ${key}=${value}`).toMatch(/=\/run\/secrets\/\w+\/\w+$/);
        else if (key !== "DOCS_TOKEN_URL") expect(`${name} ${key}=${value}`).toMatch(/^secrets \w+=\$\{\w+:-\}$/);
      }
    }
    expect(strings(compose).filter((s) => /\w+:\/\/[^/\s]*@/.test(s))).toEqual([]);
  });

  test("mounts each secret volume only where its secret is used, and read-only outside the secrets job", () => {
    const readers: Record<string, string[]> = {};
    for (const [name, s] of Object.entries(compose.services)) {
      for (const { volume, path, readOnly } of namedVolumes(s).filter((v) => v.path.startsWith("/run/secrets/"))) {
        expect(path).toBe(`/run/secrets/${volume}`);
        expect(readOnly).toBe(name !== "secrets");
        (readers[volume] ??= []).push(name);
      }
    }
    expect(readers).toEqual({
      secret_key: ["secrets", "auth_service", "transaction_service"],
      auth_db_owner: ["secrets", "auth_db", "auth_migrate"],
      auth_db_login: ["secrets", "auth_migrate", "auth_service"],
      transaction_db_owner: ["secrets", "transaction_db", "transaction_migrate"],
      transaction_db_login: ["secrets", "transaction_migrate", "transaction_service"],
    });
    // Every secret file a container is told about lies in a volume that container mounts.
    for (const [name, s] of Object.entries(compose.services)) {
      for (const value of Object.values(s.environment ?? {})) {
        const volume = SECRET_FILES.exec(value)?.[1];
        if (volume) expect(`${name}: ${namedVolumes(s).some((v) => v.volume === volume)}`).toBe(`${name}: true`);
      }
    }
  });

  test("starts nothing before the secrets job has finished", () => {
    expect(service("secrets").entrypoint).toEqual(["bun", "docker/secrets.ts"]);
    expect(service("secrets").restart).toBe("no");
    expect(service("secrets").network_mode).toBe("none");
    for (const db of ["auth_db", "transaction_db"]) {
      expect(service(db).depends_on).toEqual({ secrets: { condition: "service_completed_successfully" } });
    }
  });
});

const sides = [
  { side: "auth", prefix: "AUTH", dockerfile: "Dockerfile.auth", url: "AUTH_DATABASE_URL", portVar: "AUTH_SERVICE_PORT", port: 8000 },
  { side: "transaction", prefix: "TRANS", dockerfile: "Dockerfile.transaction", url: "TRANS_DATABASE_URL", portVar: "TRANS_SERVICE_PORT", port: 8001 },
] as const;

describe.each(sides)("the $side side", ({ side, prefix, dockerfile, url, portVar, port }) => {
  const db = service(`${side}_db`),
    migrate = service(`${side}_migrate`),
    app = service(`${side}_service`);

  test("its database is a pinned postgres on a named volume, checked by pg_isready over TCP, and unpublished", () => {
    expect(db.image).toMatch(/^postgres:\d+\.\d+(-[a-z]+)?$/);
    const volume = db.volumes?.find((v) => v.endsWith(":/var/lib/postgresql/data"))?.split(":")[0];
    expect(Object.keys(compose.volumes ?? {})).toContain(volume ?? "(no data volume)");
    expect(db.healthcheck?.test?.join(" ")).toContain("pg_isready -h 127.0.0.1 -U $$POSTGRES_USER -d $$POSTGRES_DB");
    expect(db.healthcheck).toMatchObject({
      interval: expect.any(String),
      timeout: expect.any(String),
      retries: expect.any(Number),
      start_period: expect.any(String),
    });
    expect(db.ports).toBeUndefined();
    expect(Object.keys(db.environment ?? {}).sort()).toEqual(["POSTGRES_DB", "POSTGRES_PASSWORD_FILE", "POSTGRES_USER"]);
  });

  test("its migrate job runs the migrate script as the owner, with the login role's name and password", () => {
    expect(migrate.build).toEqual({ context: ".", dockerfile });
    expect(migrate.command).toEqual(["bun", "run", `migrate:${side}`]);
    expect(scripts[`migrate:${side}`]).toBeString();
    expect(migrate.environment).toEqual({
      [`${url}_FILE`]: `/run/secrets/${side}_db_owner/database_url`,
      [`${prefix}_DB_SERVICE_USER`]: expect.stringMatching(new RegExp(`^\\$\\{${prefix}_DB_SERVICE_USER:-\\w+\\}$`)),
      [`${prefix}_DB_SERVICE_PASSWORD_FILE`]: `/run/secrets/${side}_db_login/password`,
    });
    // The names db/migrate.ts reads: the URL and the role's pair.
    const code = readFileSync(join(root, "db/migrate.ts"), "utf8");
    expect(code).toContain(`"${url}"`);
    expect(code).toContain(`"${prefix}_DB_SERVICE_USER"`);
    expect(migrate.depends_on).toEqual({ [`${side}_db`]: { condition: "service_healthy" } });
    expect(migrate.restart).toBe("no");
  });

  test("its service gets exactly the settings its configuration reads, its secrets as files", () => {
    const reads = schemaKeys("common/config.ts", `${side}/config.ts`);
    expect(reads.length).toBeGreaterThan(10);
    const given = Object.keys(app.environment ?? {}).map((k) => k.replace(/_FILE$/, ""));
    expect(given.sort()).toEqual([...new Set(reads)].sort());
    expect(app.environment?.[`${url}_FILE`]).toBe(`/run/secrets/${side}_db_login/database_url`);
    expect(app.environment?.SECRET_KEY_FILE).toBe("/run/secrets/secret_key/secret_key");
  });

  test("its service waits for the migrations, publishes its port (not the metrics port), mounts ./logs and is health-checked", () => {
    expect(app.build).toEqual({ context: ".", dockerfile });
    // One image name per side, shared with its migrate job (and on the auth side the secrets job).
    expect(app.image).toBe(`auth-trans-app-${side}:local`);
    expect(migrate.image).toBe(app.image!);
    if (side === "auth") expect(service("secrets")).toMatchObject({ image: app.image, build: app.build });
    expect(app.environment?.LOGS_DIR).toBe("/app/logs");
    expect(app.environment?.[portVar]).toBe(`\${${portVar}:-${port}}`);
    expect(app.ports).toEqual([`\${${portVar}:-${port}}:\${${portVar}:-${port}}`]);
    // The metrics port is handed on (unset, the service's own default), and by the line above published nowhere.
    expect(app.environment?.METRICS_PORT).toBe("${METRICS_PORT:-}");
    expect(app.volumes).toContain("./logs:/app/logs");
    expect(app.restart).toBe("unless-stopped");
    expect(app.depends_on).toMatchObject({
      [`${side}_db`]: { condition: "service_healthy" },
      [`${side}_migrate`]: { condition: "service_completed_successfully" },
    });
  });
});

test("transaction_service also waits for a healthy auth_service and reaches it by name", () => {
  const app = service("transaction_service");
  expect(app.depends_on?.auth_service).toEqual({ condition: "service_healthy" });
  expect(app.environment?.AUTH_SERVICE_URL).toBe("http://auth_service:${AUTH_SERVICE_PORT:-8000}");
});
