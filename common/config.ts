import { z } from "zod";
import { isDatabaseUrl, normalizeDatabaseUrl } from "../db/connect";

/** A configuration error names the variable; `index.ts` prints it as one line and exits. */
export class ConfigError extends Error {}

export function parseConfig<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  // An empty variable counts as unset, so that docker-compose.yml can hand on `${NAME:-}` from
  // `.env` and the service still applies its own default (which may follow from other settings).
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.join(".");
  // Zod leaves the input out of its issues, so "missing" is read from the environment itself.
  const problem = issue.code === "invalid_type" && given[name] === undefined ? "is required" : issue.message;
  throw new ConfigError(`invalid configuration: ${name} ${problem}`);
}

const flag = z
  .enum(["0", "1", "true", "false", "yes", "no", ""])
  .default("0")
  .transform((v) => v === "1" || v === "true" || v === "yes");

const integer = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

export const databaseUrl = z.string().refine(isDatabaseUrl, "must be a postgres:// or postgresql+asyncpg:// URL");

/** `development` and `production` are the spellings other tools use; they mean `dev` and `prod`. */
const environment = z
  .enum(["dev", "development", "test", "prod", "production"])
  .default("prod")
  .transform((v) => (v === "development" ? "dev" : v === "production" ? "prod" : v));

/** The settings both services read, with the original's names. */
export const sharedEnv = {
  ENV: environment,
  SECRET_KEY: z.string().min(1),
  /** The secret before the last rotation: tokens it signed stay valid until they expire; none is signed with it. */
  SECRET_KEY_PREVIOUS: z
    .string()
    .optional()
    .transform((v) => v || undefined),
  ALGORITHM: z.enum(["HS256", "HS384", "HS512"]).default("HS256"),
  LOGS_DIR: z.string().min(1).default("./logs"),
  IS_DEBUG: flag,
  LOG_MAX_BYTES: integer(10 * 1024 * 1024, 1024),
  LOG_MAX_FILES: integer(5),
  DB_POOL_MAX: integer(10),
};

/**
 * Values that `.env_example` ships or once shipped. A secret still equal to one of them is known
 * to everyone who has read the repository, so outside `ENV=dev` it is refused, and
 * docker-compose.yml generates a random one in its place (docker/secrets.ts).
 */
export const EXAMPLE_SECRETS: ReadonlySet<string> = new Set([
  "change-me-to-a-random-secret-of-at-least-32-bytes",
  "change-me-auth-db-password",
  "change-me-transaction-db-password",
]);

const FIX = "set a random one (openssl rand -hex 32), or ENV=dev for development";

/**
 * Outside `ENV=dev`, no secret that everyone knows is used: a `SECRET_KEY` shorter than the
 * hash (an HMAC key that short gives security away) or still the example, or a database URL
 * whose password is the example. A URL without a password is accepted, since the server may
 * authenticate otherwise (peer, certificate, `trust` on a private socket).
 */
export function refuseKnownSecrets(databaseUrlName: string) {
  return (config: { ENV: string; SECRET_KEY: string } & Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (config.ENV === "dev" || typeof config.SECRET_KEY !== "string") return;
    // The previous secret of a rotation still verifies tokens, so it is held to the same rules.
    for (const name of ["SECRET_KEY", "SECRET_KEY_PREVIOUS"]) {
      const secret = config[name];
      if (typeof secret !== "string") continue;
      const path = [name];
      if (EXAMPLE_SECRETS.has(secret)) ctx.addIssue({ code: "custom", path, message: `is the example value from .env_example: ${FIX}` });
      else if (new TextEncoder().encode(secret).length < 32) ctx.addIssue({ code: "custom", path, message: `must be at least 32 bytes: ${FIX}` });
    }
    if (EXAMPLE_SECRETS.has(passwordOf(String(config[databaseUrlName])))) {
      ctx.addIssue({
        code: "custom",
        path: [databaseUrlName],
        message: "holds the example password from .env_example: give the database user a password of its own, or ENV=dev for development",
      });
    }
  };
}

/** Zod runs this refinement even when a field failed, so an unparseable URL has no password here. */
function passwordOf(url: string): string {
  const password = URL.parse(normalizeDatabaseUrl(url))?.password ?? "";
  try {
    return decodeURIComponent(password);
  } catch {
    return password;
  }
}

/** The management port that serves `GET /metrics`; 0 turns metrics off. */
export const metricsPort = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** `/metrics` must never be reachable on the port published to clients. */
export const metricsPortApart = (portName: string) => ({
  check: (env: Record<string, unknown>) => env.METRICS_PORT === 0 || env.METRICS_PORT !== env[portName],
  issue: { message: `must differ from ${portName} (metrics are served on a port of their own)`, path: ["METRICS_PORT"] },
});

export const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
export { flag, integer };
