import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The compose side of a secret rotation (README, "Rotating the secret"): the secrets job writes
 * SECRET_KEY_PREVIOUS from .env into the secret_key volume, where both services read it, and
 * empties it again when .env no longer names it. It is never generated and never printed.
 */
const script = resolve(import.meta.dir, "secrets.ts");
const dir = mkdtempSync(join(tmpdir(), "secret-rotation-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, script, dir], { env: { PATH: process.env.PATH ?? "", ...env }, cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  return { out, previous: readFileSync(join(dir, "secret_key/previous"), "utf8"), current: readFileSync(join(dir, "secret_key/secret_key"), "utf8") };
}

test("the previous secret is written as .env gives it, kept out of the output, and emptied when .env drops it", async () => {
  const old = "o".repeat(40);
  const fresh = "n".repeat(40);
  const none = await run({ SECRET_KEY: old });
  expect(none.previous).toBe("");
  const rotating = await run({ SECRET_KEY: fresh, SECRET_KEY_PREVIOUS: old });
  expect([rotating.current, rotating.previous]).toEqual([fresh, old]);
  expect(rotating.out).toContain("secrets: SECRET_KEY_PREVIOUS from .env");
  expect(rotating.out).not.toContain(old);
  const done = await run({ SECRET_KEY: fresh });
  expect([done.current, done.previous]).toEqual([fresh, ""]);
});
