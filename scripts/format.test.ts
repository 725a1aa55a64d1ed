import { expect, test } from "bun:test";
import { resolve } from "node:path";

// Biome reads every file of the tree once; a second or two, more on a busy machine.
const TIMEOUT_MS = 60_000;

/**
 * The tree is as Biome (biome.json) formats it, so that indentation and wrapping never drift
 * and a diff shows only what changed. `bun run format` fixes what this finds.
 */
test(
  "every file is formatted as `bun run format` leaves it",
  async () => {
    const root = resolve(import.meta.dir, "..");
    const biome = Bun.spawn([`${root}/node_modules/.bin/biome`, "format", "--max-diagnostics=none", "."], { cwd: root, stdout: "pipe", stderr: "pipe" });
    const output = (await new Response(biome.stdout).text()) + (await new Response(biome.stderr).text());
    const drifted = [...new Set([...output.matchAll(/^(\S+\.(?:ts|json)) format /gm)].map((m) => m[1]))];
    expect({ drifted, exitCode: await biome.exited }).toEqual({ drifted: [], exitCode: 0 });
  },
  TIMEOUT_MS,
);
