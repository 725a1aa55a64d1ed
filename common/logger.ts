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

/**
 * JSON lines to a file that docker-compose mounts on the host, and to stdout. Rotation by size
 * (`file` → `file.1` → … → `file.<maxFiles-1>`) keeps a mounted log from growing without bound.
 * Writes are synchronous appends to a descriptor kept open: a line is in the file before the
 * response leaves, so a crash loses nothing, and a write costs one system call.
 */
export class Logger {
  private fd: number;
  private size: number;

  constructor(private readonly options: LogOptions) {
    mkdirSync(dirname(options.file), { recursive: true });
    this.fd = openSync(options.file, "a");
    this.size = fstatSync(this.fd).size;
  }

  close(): void {
    closeSync(this.fd);
  }

  info(event: string, fields: Fields = {}): void {
    this.write("info", event, fields);
  }

  warn(event: string, fields: Fields = {}): void {
    this.write("warn", event, fields);
  }

  error(event: string, fields: Fields = {}): void {
    this.write("error", event, fields);
  }

  debug(event: string, fields: Fields = {}): void {
    if (this.options.debug) this.write("debug", event, fields);
  }

  private write(level: string, event: string, fields: Fields): void {
    // Inside a request, every line names its trace and span, so one id finds it in both services' logs.
    const span = currentSpan();
    const trace = span && { trace_id: span.traceId, span_id: span.spanId };
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, event, ...trace, ...fields }, bigints)}\n`;
    if (this.size + line.length > this.options.maxBytes) this.rotate();
    this.size += writeSync(this.fd, line);
    if (this.options.stdout) process.stdout.write(line);
  }

  private rotate(): void {
    const { file, maxFiles } = this.options;
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

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
