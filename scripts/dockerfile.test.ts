import { describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { compose, entryFiles, ignored, instructions, isIgnored, pkg, reach, read, root } from "./docker-files";

/**
 * The Dockerfiles, docker/entrypoint.sh and .dockerignore read against the repo: pinned bases,
 * a build from the lockfile, everything the code imports copied, and a service that never
 * runs as root.
 */

const sides = [
  { side: "auth", dockerfile: "Dockerfile.auth", portVar: "AUTH_SERVICE_PORT", port: 8000 },
  { side: "transaction", dockerfile: "Dockerfile.transaction", portVar: "TRANS_SERVICE_PORT", port: 8001 },
] as const;

describe.each(sides)("$dockerfile", ({ side, dockerfile, portVar, port }) => {
  test("builds from pinned Debian Bun, installs from the lockfile, and drops to bun in its entrypoint", async () => {
    const steps = instructions(await read(dockerfile));
    const stages = new Set(
      steps
        .filter((s) => s.op === "FROM")
        .map((s) => s.args.split(/\s+AS\s+/i)[1])
        .filter(Boolean),
    );
    for (const from of steps
      .filter((s) => s.op === "FROM")
      .map((s) => s.args.split(/\s+/)[0]!)
      .filter((f) => !stages.has(f))) {
      const [image, tag = "latest"] = from.split(":");
      expect(image).toBe("oven/bun");
      expect(tag).toStartWith(`${Bun.version}-`);
      expect(tag).not.toMatch(/alpine|latest/);
    }
    expect(steps.some((s) => s.op === "RUN" && /\bbun install\b.*--frozen-lockfile/.test(s.args))).toBe(true);
    // Root at the start, for the log folder only; docker/entrypoint.sh then execs setpriv.
    expect(steps.filter((s) => s.op === "USER")).toEqual([]);
    expect(JSON.parse(steps.findLast((s) => s.op === "ENTRYPOINT")?.args ?? "null")).toEqual(["bash", "/app/docker/entrypoint.sh", `${side}_service`]);
    expect(steps.find((s) => s.op === "ENV" && s.args.startsWith("LOGS_DIR"))?.args).toBe("LOGS_DIR=/app/logs");
    expect(steps.find((s) => s.op === "EXPOSE")?.args).toBe(String(port));
    const probe = steps.find((s) => s.op === "HEALTHCHECK")?.args ?? "";
    expect(probe).toContain(`"setpriv", "--reuid=bun"`);
    expect(probe).toContain(`process.env.${portVar} ?? ${port}) + '/health'`);
    expect(JSON.parse(steps.findLast((s) => s.op === "CMD")?.args ?? "null")).toEqual(["bun", "run", `start:${side}`]);
  });

  test("copies what the service, its migrations, the audit or the secrets job import and nothing else, and only production packages", async () => {
    const copies = instructions(await read(dockerfile))
      .filter((s) => s.op === "COPY" && !s.args.includes("--from="))
      .map((s) =>
        s.args
          .split(/\s+/)
          .filter((w) => !w.startsWith("--"))
          .slice(0, -1),
      );
    const sources = copies.flat().map((s) => s.replace(/\/$/, ""));
    expect(sources.filter((s) => !existsSync(join(root, s)) || isIgnored(s))).toEqual([]);
    const entries = [
      ...entryFiles(`start:${side}`),
      ...entryFiles(`migrate:${side}`),
      ...(side === "transaction" ? entryFiles("audit") : ["docker/secrets.ts"]),
      "docker/entrypoint.sh",
    ];
    expect(entries.length).toBeGreaterThanOrEqual(4);
    const { files, packages, missing } = reach(entries);
    expect(missing).toEqual([]);
    const copied = (f: string) => sources.some((s) => f === s || f.startsWith(`${s}/`));
    expect([...files].filter((f) => !copied(f) || isIgnored(f))).toEqual([]);
    expect([...packages].filter((p) => !(p in (pkg.dependencies ?? {})))).toEqual([]);
    // And nothing else: test support and development helpers stay out of the image.
    const shipped = sources.flatMap((s) =>
      statSync(join(root, s)).isDirectory() ? [...new Bun.Glob("**/*.ts").scanSync(join(root, s))].map((f) => `${s}/${f}`) : [s],
    );
    expect(shipped.filter((f) => f.endsWith(".ts") && !isIgnored(f) && !files.has(f))).toEqual([]);
  });
});

test("docker/entrypoint.sh turns every NAME_FILE that compose passes into NAME, and execs setpriv to bun", async () => {
  const script = await read("docker/entrypoint.sh");
  const listed = /^for var in ([A-Z_ ]+); do$/m.exec(script)?.[1]?.split(" ") ?? [];
  const passed = new Set(
    Object.values(compose.services)
      .flatMap((s) => Object.keys(s.environment ?? {}))
      .filter((k) => k.endsWith("_FILE") && !k.startsWith("POSTGRES_"))
      .map((k) => k.replace(/_FILE$/, "")),
  );
  expect(listed.sort()).toEqual([...passed].sort());
  expect(script).toMatch(/as_bun=\(setpriv --reuid=bun --regid=bun [^)]*--no-new-privs --\)/);
  expect(script.trimEnd().split("\n").at(-1)).toBe(`exec "\${as_bun[@]}" "$@"`);
});

test(".dockerignore keeps dependencies, local state, logs, git and secrets out of the build", () => {
  expect(ignored).toEqual(expect.arrayContaining(["node_modules", ".data", "logs", ".git", ".env"]));
});
