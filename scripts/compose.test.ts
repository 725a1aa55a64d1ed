import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, normalize, resolve } from "node:path";

/**
 * No Docker engine runs where the tests run, so docker-compose.yml, the Dockerfiles and
 * .dockerignore are checked by reading them against the repo: every script, file, package
 * and variable they name must exist where they expect it.
 */

interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[];
  env_file?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
  restart?: string;
  healthcheck?: { test?: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
}

const root = resolve(import.meta.dir, "..");
const read = (path: string) => Bun.file(join(root, path)).text();
const compose = Bun.YAML.parse(await read("docker-compose.yml")) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const pkg = (await Bun.file(join(root, "package.json")).json()) as {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
};
const scripts = pkg.scripts ?? {};
const ignored = (await read(".dockerignore")).split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** Every string in the parsed file, keys included, since compose interpolates them all. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

/** `${VAR}`, `${VAR:-default}` and `$VAR`; `$$` is compose's escape for a literal `$`. */
function variablesIn(text: string): string[] {
  return [...text.matchAll(/(?<!\$)\$(?:\{([A-Za-z_]\w*)[^}]*\}|([A-Za-z_]\w*))/g)].map((m) => (m[1] ?? m[2])!);
}

interface Instruction { op: string; args: string }

function instructions(dockerfile: string): Instruction[] {
  return dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
    .map((line) => {
      const op = line.split(/\s+/)[0]!;
      return { op: op.toUpperCase(), args: line.slice(op.length).trim() };
    });
}

/** The files a package script starts, e.g. `bun db/migrate.ts auth` -> `db/migrate.ts`. */
function entryFiles(script: string): string[] {
  return (scripts[script] ?? "").split(/\s+/).filter((word) => /\.(ts|js)$/.test(word));
}

const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Follows relative imports from the entry files and collects the packages they load at run time. */
function reach(entries: string[]) {
  const files = new Set<string>(), packages = new Set<string>(), missing: string[] = [];
  const queue = [...entries];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    if (!existsSync(join(root, file))) { missing.push(file); continue; }
    files.add(file);
    if (!/\.(ts|js)$/.test(file)) continue;
    const text = readFileSync(join(root, file), "utf8");
    // Type-only imports are erased before Bun runs a file, but the file is part of the service's source all the same.
    const typeOnly = [...text.matchAll(/import\s+type\s[^'";]*?from\s+["'](\.[^"']+)["']/g)].map((m) => ({ path: m[1]! }));
    for (const { path: spec } of [...transpiler.scanImports(text), ...typeOnly]) {
      if (spec.startsWith(".")) {
        const base = normalize(join(dirname(file), spec));
        const hit = [base, `${base}.ts`, `${base}/index.ts`].find((c) => existsSync(join(root, c)) && statSync(join(root, c)).isFile());
        queue.push(hit ?? base);
      } else if (!/^(node|bun):/.test(spec) && spec !== "bun" && !builtinModules.includes(spec)) {
        packages.add(spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/"));
      }
    }
  }
  return { files, packages, missing };
}

const isIgnored = (path: string) =>
  ignored.some((p) => path === p || path.startsWith(`${p.replace(/\/$/, "")}/`) || new Bun.Glob(p).match(path));

describe("docker-compose.yml", () => {
  test("declares the six services", () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ["auth_db", "auth_migrate", "auth_service", "transaction_db", "transaction_migrate", "transaction_service"]);
  });

  test("reads every variable it uses from .env_example", async () => {
    const listed = (await read(".env_example")).split("\n").map((l) => /^\s*(?:export\s+)?([A-Za-z_]\w*)=/.exec(l)?.[1]);
    const used = new Set(strings(compose).flatMap(variablesIn));
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((v) => !listed.includes(v))).toEqual([]);
  });

  test("holds no literal password or secret", () => {
    const env = Object.values(compose.services).flatMap((s) => Object.entries(s.environment ?? {}));
    for (const [key, value] of env.filter(([k]) => /PASSWORD|SECRET|TOKEN|KEY/i.test(k))) {
      expect(`${key}=${value}`).toMatch(/=\$\{[A-Za-z_]\w*\}$/);
    }
    for (const url of strings(compose).flatMap((s) => s.match(/\w+:\/\/[^/\s]*@/g) ?? [])) {
      expect(url).toMatch(/^\w+:\/\/\$\{\w+\}:\$\{\w+\}@$/);
    }
  });
});

const sides = [
  { side: "auth", dockerfile: "Dockerfile.auth", url: "AUTH_DATABASE_URL", portVar: "AUTH_SERVICE_PORT", port: 8000 },
  { side: "transaction", dockerfile: "Dockerfile.transaction", url: "TRANS_DATABASE_URL", portVar: "TRANS_SERVICE_PORT", port: 8001 },
] as const;

describe.each(sides)("the $side side", ({ side, dockerfile, url, portVar, port }) => {
  const db = service(`${side}_db`), migrate = service(`${side}_migrate`), app = service(`${side}_service`);
  const dbUrl = new RegExp(`^postgresql://\\$\\{\\w+\\}:\\$\\{\\w+\\}@${side}_db:5432/\\$\\{\\w+\\}$`);

  test("its database is a pinned postgres on a named volume, checked by pg_isready, and unpublished", () => {
    expect(db.image).toMatch(/^postgres:\d+\.\d+(-[a-z]+)?$/);
    const volume = db.volumes?.find((v) => v.endsWith(":/var/lib/postgresql/data"))?.split(":")[0];
    expect(Object.keys(compose.volumes ?? {})).toContain(volume ?? "(no data volume)");
    expect(db.healthcheck?.test?.join(" ")).toContain("pg_isready -U $$POSTGRES_USER -d $$POSTGRES_DB");
    expect(db.healthcheck).toMatchObject({ interval: expect.any(String), timeout: expect.any(String), retries: expect.any(Number), start_period: expect.any(String) });
    expect(db.ports).toBeUndefined();
  });

  test("its migrate job runs the migrate script once its database is healthy", () => {
    expect(migrate.build).toEqual({ context: ".", dockerfile });
    expect(migrate.command).toEqual(["bun", "run", `migrate:${side}`]);
    expect(scripts[`migrate:${side}`]).toBeString();
    expect(migrate.environment?.[url]).toMatch(dbUrl);
    expect(migrate.depends_on).toEqual({ [`${side}_db`]: { condition: "service_healthy" } });
    expect(migrate.restart).toBe("no");
  });

  test("its service waits for the migrations, publishes its port, mounts ./logs and is health-checked", () => {
    expect(app.build).toEqual({ context: ".", dockerfile });
    expect(app.env_file).toBe(".env");
    expect(app.environment?.[url]).toMatch(dbUrl);
    expect(app.environment?.LOGS_DIR).toBe("/app/logs");
    expect(app.ports).toEqual([`\${${portVar}:-${port}}:\${${portVar}:-${port}}`]);
    expect(app.volumes).toContain("./logs:/app/logs");
    expect(app.restart).toBe("unless-stopped");
    expect(app.healthcheck?.test?.join(" ")).toContain(`process.env.${portVar} ?? ${port}) + '/health'`);
    expect(app.depends_on).toMatchObject({
      [`${side}_db`]: { condition: "service_healthy" },
      [`${side}_migrate`]: { condition: "service_completed_successfully" },
    });
  });

  test(`${dockerfile} builds from pinned Debian Bun, installs from the lockfile and runs as bun`, async () => {
    const steps = instructions(await read(dockerfile));
    const stages = new Set(steps.filter((s) => s.op === "FROM").map((s) => s.args.split(/\s+AS\s+/i)[1]).filter(Boolean));
    for (const from of steps.filter((s) => s.op === "FROM").map((s) => s.args.split(/\s+/)[0]!).filter((f) => !stages.has(f))) {
      const [image, tag = "latest"] = from.split(":");
      expect(image).toBe("oven/bun");
      expect(tag).toStartWith(`${Bun.version}-`);
      expect(tag).not.toMatch(/alpine|latest/);
    }
    expect(steps.some((s) => s.op === "RUN" && /\bbun install\b.*--frozen-lockfile/.test(s.args))).toBe(true);
    expect(steps.findLast((s) => s.op === "USER")?.args).toMatch(/^(?!root\b|0\b)\S+$/);
    expect(steps.find((s) => s.op === "EXPOSE")?.args).toBe(String(port));
    expect(steps.find((s) => s.op === "HEALTHCHECK")?.args).toContain(`process.env.${portVar} ?? ${port}) + '/health'`);
    expect(JSON.parse(steps.findLast((s) => s.op === "CMD")?.args ?? "null")).toEqual(["bun", "run", `start:${side}`]);
  });

  test(`${dockerfile} copies what the service and its migrations import and nothing else, and only production packages`, async () => {
    const copies = instructions(await read(dockerfile)).filter((s) => s.op === "COPY" && !s.args.includes("--from="))
      .map((s) => s.args.split(/\s+/).filter((w) => !w.startsWith("--")).slice(0, -1));
    const sources = copies.flat().map((s) => s.replace(/\/$/, ""));
    expect(sources.filter((s) => !existsSync(join(root, s)) || isIgnored(s))).toEqual([]);
    const entries = [...entryFiles(`start:${side}`), ...entryFiles(`migrate:${side}`), ...(side === "transaction" ? entryFiles("audit") : [])];
    expect(entries.length).toBeGreaterThanOrEqual(2);
    const { files, packages, missing } = reach(entries);
    expect(missing).toEqual([]);
    const copied = (f: string) => sources.some((s) => f === s || f.startsWith(`${s}/`));
    expect([...files].filter((f) => !copied(f) || isIgnored(f))).toEqual([]);
    expect([...packages].filter((p) => !(p in (pkg.dependencies ?? {})))).toEqual([]);
    // And nothing else: test support and development helpers stay out of the image.
    const shipped = sources.flatMap((s) => (statSync(join(root, s)).isDirectory() ? [...new Bun.Glob("**/*.ts").scanSync(join(root, s))].map((f) => `${s}/${f}`) : [s]));
    expect(shipped.filter((f) => f.endsWith(".ts") && !isIgnored(f) && !files.has(f))).toEqual([]);
  });
});

test("transaction_service also waits for a healthy auth_service and reaches it by name", () => {
  const app = service("transaction_service");
  expect(app.depends_on?.auth_service).toEqual({ condition: "service_healthy" });
  expect(app.environment?.AUTH_SERVICE_URL).toBe("http://auth_service:${AUTH_SERVICE_PORT:-8000}");
});

test(".dockerignore keeps dependencies, local state, logs, git and secrets out of the build", () => {
  expect(ignored).toEqual(expect.arrayContaining(["node_modules", ".data", "logs", ".git", ".env"]));
});
