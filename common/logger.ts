import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { currentSpan } from "./trace";

export interface LogOptions {
  file: string;
  maxBytes: number;
  maxFiles: number;
  debug: boolean;
  stdout: boolean;
}

type Fields = Record<string, unknown>;

/** Every open logger, so that lines still waiting are written when the process exits. */
const open = new Set<Logger>();
process.on("exit", () => {
  for (const log of open) log.flush();
});

/**
 * JSON lines to a file that docker-compose mounts on the host, and to stdout. Rotation by size
 * (`file` → `file.1` → … → `file.<maxFiles-1>`) keeps a mounted log from growing without bound.
 *
 * Info and debug lines are gathered and written at the end of the event loop's turn, with one
 * system call for the file and one for stdout, however many requests the turn served: under
 * load that took the two writes per line off every request (they were a quarter of the auth
 * service's CPU in a profile). The price: a line reaches the file a few microseconds after the
 * response is handed to the socket, so a process killed in that instant (SIGKILL, a crash of
 * the runtime) loses that turn's lines; an exit, even process.exit, writes them. Warnings and
 * errors, which an operator must not miss, are written at once, after whatever is waiting.
 */
export class Logger {
  private fd: number;
  /** Bytes in the file, counting the lines waiting to be written. */
  private size: number;
  private pending: string[] = [];
  private scheduled = false;

  constructor(private readonly options: LogOptions) {
    mkdirSync(dirname(options.file), { recursive: true });
    this.fd = openSync(options.file, "a");
    this.size = fstatSync(this.fd).size;
    open.add(this);
  }

  close(): void {
    this.flush();
    open.delete(this);
    closeSync(this.fd);
  }

  /** Writes the waiting lines now. */
  flush(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join("");
    this.pending = [];
    writeSync(this.fd, chunk);
    if (this.options.stdout) process.stdout.write(chunk);
  }

  info(event: string, fields: Fields = {}): void {
    this.write("info", event, fields);
  }

  warn(event: string, fields: Fields = {}): void {
    this.write("warn", event, fields);
    this.flush();
  }

  error(event: string, fields: Fields = {}): void {
    this.write("error", event, fields);
    this.flush();
  }

  debug(event: string, fields: Fields = {}): void {
    if (this.options.debug) this.write("debug", event, fields);
  }

  private write(level: string, event: string, fields: Fields): void {
    // Inside a request, every line names its trace and span, so one id finds it in both services' logs.
    const span = currentSpan();
    const trace = span && { trace_id: span.traceId, span_id: span.spanId };
    const line = `${stringify({ time: new Date().toISOString(), level, event, ...trace, ...fields })}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.size + bytes > this.options.maxBytes) this.rotate();
    this.pending.push(line);
    this.size += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  private rotate(): void {
    const { file, maxFiles } = this.options;
    this.flush();
    closeSync(this.fd);
    rmSync(`${file}.${maxFiles - 1}`, { force: true });
    for (let i = maxFiles - 2; i >= 1; i--) {
      if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    }
    if (maxFiles > 1 && existsSync(file)) renameSync(file, `${file}.1`);
    else rmSync(file, { force: true });
    this.fd = openSync(file, "a");
    this.size = 0;
  }
}

/**
 * A replacer function slows JSON.stringify down for every value, and almost no line holds a
 * bigint (callers pass ids as strings): so the plain call first, the replacer only if it throws.
 */
function stringify(fields: Fields): string {
  try {
    return JSON.stringify(fields);
  } catch {
    return JSON.stringify(fields, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  }
}
