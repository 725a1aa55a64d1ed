import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Violation } from "./model";

/** Every file under `dir`: the service logs, their rotated copies, and the captured stdout and stderr. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/**
 * No log may hold a password, an access or refresh token (or a token's signature), or a
 * password or token hash. The logs are cut into words (runs of the characters such secrets are
 * made of) and each word is looked up, so that thousands of secrets cost one pass over the text.
 */
export function scanLogs(logsDir: string, secrets: Iterable<string>): { files: number; bytes: number; secrets: number } {
  const wanted = new Set<string>();
  for (const secret of secrets) {
    wanted.add(secret);
    // A JWT's signature alone would still let its holder be identified with the key.
    for (const part of secret.split(".")) if (part.length >= 16) wanted.add(part);
  }
  let bytes = 0;
  const all = files(logsDir).filter((f) => /\.log(\.\d+)?$/.test(f));
  for (const file of all) {
    const text = readFileSync(file, "utf8");
    bytes += text.length;
    for (const word of text.split(/[^A-Za-z0-9_\-.~+/=$]+/)) {
      const parts = word.includes(".") ? [word, ...word.split(".")] : [word];
      const found = parts.find((p) => wanted.has(p) || p.startsWith("$argon2") || /^eyJ[A-Za-z0-9_-]{10,}$/.test(p));
      if (found) throw new Violation("no log holds a password, token, refresh token or hash", `${file} holds ${found.slice(0, 12)}…`);
    }
    const lines = text.split("\n").filter((l) => l.startsWith("{"));
    for (const line of lines) {
      const entry = JSON.parse(line) as { event?: string; status?: number };
      if (entry.event === "unhandled_error" || (entry.event === "request" && (entry.status ?? 0) >= 500 && entry.status !== 503)) {
        throw new Violation("no request ever gets a 500", `${file}: ${line.slice(0, 300)}`);
      }
    }
  }
  return { files: all.length, bytes, secrets: wanted.size };
}
