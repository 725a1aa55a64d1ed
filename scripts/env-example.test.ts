import { expect, test } from "bun:test";
import { resolve } from "node:path";

/**
 * .env_example is the list of every setting: each variable that the configuration modules, the
 * migration runner, the audit or `bun run dev` read must be in it, with a comment line above.
 */
const root = resolve(import.meta.dir, "..");
const READERS = ["common/config.ts", "auth/config.ts", "transaction/config.ts", "db/migrate.ts", "transaction/audit.ts", "scripts/dev.ts", "scripts/chaos.ts"];

test("every variable the code reads is listed in .env_example with a comment", async () => {
  const lines = (await Bun.file(`${root}/.env_example`).text()).split("\n");
  const listed = new Map<string, string>();
  lines.forEach((line, i) => {
    const match = /^#? ?([A-Z][A-Z0-9_]+)=/.exec(line);
    if (match) listed.set(match[1]!, lines[i - 1] ?? "");
  });
  const read = new Set<string>();
  for (const file of READERS) {
    const text = await Bun.file(`${root}/${file}`).text();
    // Schema keys (`NAME: z…` at a line's start), `env.NAME`, and quoted names handed to env lookups.
    for (const match of text.matchAll(/^\s*([A-Z][A-Z0-9_]+):|env\.([A-Z][A-Z0-9_]+)|"([A-Z]+_[A-Z0-9_]*URL)"/gm)) {
      read.add((match[1] ?? match[2] ?? match[3])!);
    }
  }
  expect(read.size).toBeGreaterThan(20);
  const missing = [...read].filter((name) => !listed.has(name)).sort();
  expect(missing).toEqual([]);
  const uncommented = [...read].filter((name) => !listed.get(name)?.startsWith("#")).sort();
  expect(uncommented).toEqual([]);
});
