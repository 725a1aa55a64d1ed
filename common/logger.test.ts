import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { Logger } from "./logger";

function freshLog(options: { maxBytes?: number; maxFiles?: number; debug?: boolean } = {}) {
  const file = `${mkdtempSync(`${tmpdir()}/logger-`)}/service/service.log`;
  const log = new Logger({ file, maxBytes: options.maxBytes ?? 1 << 20, maxFiles: options.maxFiles ?? 3, debug: options.debug ?? false, stdout: false });
  return { file, log };
}

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("the JSON-lines logger", () => {
  test("writes one JSON object per line, creating the folder", () => {
    const { file, log } = freshLog();
    log.info("transfer_done", { request_id: "r1", amount_minor: 1999n });
    log.warn("auth_unavailable");
    log.close();
    const [first, second] = lines(file);
    expect(first).toMatchObject({ level: "info", event: "transfer_done", request_id: "r1", amount_minor: "1999" });
    expect(Date.parse(first.time)).not.toBeNaN();
    expect(second).toMatchObject({ level: "warn", event: "auth_unavailable" });
  });

  test("writes debug lines only when debugging is on", () => {
    const quiet = freshLog();
    quiet.log.debug("detail");
    quiet.log.info("kept");
    quiet.log.close();
    expect(lines(quiet.file).map((l) => l.event)).toEqual(["kept"]);

    const verbose = freshLog({ debug: true });
    verbose.log.debug("detail");
    verbose.log.close();
    expect(lines(verbose.file).map((l) => l.event)).toEqual(["detail"]);
  });

  test("rotates by size and keeps at most maxFiles files", () => {
    const { file, log } = freshLog({ maxBytes: 2048, maxFiles: 3 });
    for (let i = 0; i < 200; i++) log.info("request", { i, padding: "x".repeat(50) });
    log.close();
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const path of [file, `${file}.1`, `${file}.2`]) expect(statSync(path).size).toBeLessThanOrEqual(2048);
    // The newest lines are in the current file, the older ones in .1, and nothing is torn.
    const current = lines(file);
    const previous = lines(`${file}.1`);
    expect(current.at(-1).i).toBe(199);
    expect(previous.at(-1).i).toBe(current[0].i - 1);
  });

  test("appends to an existing log across restarts and counts its size", () => {
    const { file, log } = freshLog({ maxBytes: 4096 });
    log.info("first_run");
    log.close();
    const again = new Logger({ file, maxBytes: 4096, maxFiles: 3, debug: false, stdout: false });
    again.info("second_run");
    again.close();
    expect(lines(file).map((l) => l.event)).toEqual(["first_run", "second_run"]);
  });

  test("gathers a turn's info lines into one write at the end of the turn, and writes a warning at once", async () => {
    const { file, log } = freshLog();
    log.info("first");
    log.info("second");
    expect(existsSync(file) ? readFileSync(file, "utf8") : "").toBe("");
    log.warn("urgent");
    expect(lines(file).map((l) => l.event)).toEqual(["first", "second", "urgent"]);
    log.info("third");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines(file).map((l) => l.event)).toEqual(["first", "second", "urgent", "third"]);
    log.close();
  });

  test("writes the waiting lines when the process exits, even by process.exit", async () => {
    const file = `${mkdtempSync(`${tmpdir()}/logger-exit-`)}/service.log`;
    const script = `import { Logger } from "${import.meta.dir}/logger";
      const log = new Logger({ file: ${JSON.stringify(file)}, maxBytes: 1 << 20, maxFiles: 2, debug: false, stdout: false });
      log.info("last_words");
      process.exit(0);`;
    const proc = Bun.spawn(["bun", "-e", script], { stderr: "pipe" });
    expect(await proc.exited).toBe(0);
    expect(lines(file).map((l) => l.event)).toEqual(["last_words"]);
  });
});
