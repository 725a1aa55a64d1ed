import { existsSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, normalize, resolve } from "node:path";

/**
 * docker-compose.yml, the Dockerfiles, .dockerignore and package.json as the static tests of
 * the Docker setup read them (scripts/compose.test.ts, scripts/dockerfile.test.ts).
 */

export interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  network_mode?: string;
  env_file?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
  restart?: string;
  healthcheck?: { test?: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
}

export const root = resolve(import.meta.dir, "..");
export const read = (path: string) => Bun.file(join(root, path)).text();
export const compose = Bun.YAML.parse(await read("docker-compose.yml")) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
export const pkg = (await Bun.file(join(root, "package.json")).json()) as {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
};
export const scripts = pkg.scripts ?? {};
export const ignored = (await read(".dockerignore"))
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

export function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** Every string in the parsed file, keys included, since compose interpolates them all. */
export function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

/** `${VAR}`, `${VAR:-default}` and `$VAR`; `$$` is compose's escape for a literal `$`. */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(/(?<!\$)\$(?:\{([A-Za-z_]\w*)[^}]*\}|([A-Za-z_]\w*))/g)].map((m) => (m[1] ?? m[2])!);
}

export interface Instruction {
  op: string;
  args: string;
}

export function instructions(dockerfile: string): Instruction[] {
  return dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((line) => {
      const op = line.split(/\s+/)[0]!;
      return { op: op.toUpperCase(), args: line.slice(op.length).trim() };
    });
}

/** The files a package script starts, e.g. `bun db/migrate.ts auth` -> `db/migrate.ts`. */
export function entryFiles(script: string): string[] {
  return (scripts[script] ?? "").split(/\s+/).filter((word) => /\.(ts|js)$/.test(word));
}

const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Follows relative imports from the entry files and collects the packages they load at run time. */
export function reach(entries: string[]) {
  const files = new Set<string>(),
    packages = new Set<string>(),
    missing: string[] = [];
  const queue = [...entries];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    if (!existsSync(join(root, file))) {
      missing.push(file);
      continue;
    }
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
        packages.add(
          spec
            .split("/")
            .slice(0, spec.startsWith("@") ? 2 : 1)
            .join("/"),
        );
      }
    }
  }
  return { files, packages, missing };
}

export const isIgnored = (path: string) => ignored.some((p) => path === p || path.startsWith(`${p.replace(/\/$/, "")}/`) || new Bun.Glob(p).match(path));

/** The variables a configuration module reads: its schema's keys, as scripts/env-example.test.ts finds them. */
export function schemaKeys(...files: string[]): string[] {
  return files.flatMap((file) => [...readFileSync(join(root, file), "utf8").matchAll(/^\s*([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!));
}

/** `volume:/path[:ro]` entries that name a top-level volume, as `{volume, path, readOnly}`. */
export function namedVolumes(s: Service) {
  return (s.volumes ?? [])
    .map((v) => v.split(":"))
    .filter(([name]) => name! in (compose.volumes ?? {}))
    .map(([volume, path, mode]) => ({ volume: volume!, path: path!, readOnly: mode === "ro" }));
}
