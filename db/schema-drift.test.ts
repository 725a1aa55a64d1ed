import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { cpSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { relative, resolve } from "node:path";

// Real databases, servers and subprocesses take seconds on a small, busy machine.
setDefaultTimeout(30_000);

/**
 * The committed migrations must be exactly what drizzle-kit drafts from the declared schema:
 * generate into a copy of them, and fail if it finds anything left to migrate. A changed
 * tables.ts without `bun run db:generate`, or a hand-edited snapshot, fails here.
 */
const root = resolve(import.meta.dir, "..");

describe.each(["auth", "transaction"])("the %s service's declared schema", (service) => {
  test("matches its committed migrations", async () => {
    const copy = `${mkdtempSync(`${tmpdir()}/drift-`)}/${service}`;
    cpSync(`${root}/${service}/migrations`, copy, { recursive: true });
    const before = readdirSync(copy).sort();
    // drizzle-kit reads --out relative to the working directory, even when it is absolute.
    const proc = Bun.spawn(
      ["bunx", "drizzle-kit", "generate", "--dialect", "postgresql", "--schema", `./${service}/tables.ts`, "--out", `./${relative(root, copy)}`],
      { cwd: root, stdout: "pipe", stderr: "pipe" },
    );
    const output = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
    expect(await proc.exited).toBe(0);
    expect(output).toContain("No schema changes");
    expect(readdirSync(copy).sort()).toEqual(before);
  });
});
