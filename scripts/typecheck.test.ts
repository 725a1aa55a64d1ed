import { expect, test } from "bun:test";
import { resolve } from "node:path";

// Bun runs TypeScript without checking it, so the suite runs the strict compiler itself.
test("the whole project type-checks in strict mode", async () => {
  const proc = Bun.spawn(["bunx", "tsc", "--noEmit", "-p", "."], { cwd: resolve(import.meta.dir, ".."), stdout: "pipe", stderr: "pipe" });
  const output = await new Response(proc.stdout).text();
  expect(output).toBe("");
  expect(await proc.exited).toBe(0);
}, 60_000);
