import { z } from "zod";
import { isDatabaseUrl } from "../db/connect";

/** A configuration error names the variable; `index.ts` prints it as one line and exits. */
export class ConfigError extends Error {}

export function parseConfig<T extends z.ZodType>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.join(".");
  // Zod leaves the input out of its issues, so "missing" is read from the environment itself.
  const problem = issue.code === "invalid_type" && env[name] === undefined ? "is required" : issue.message;
  throw new ConfigError(`invalid configuration: ${name} ${problem}`);
}

const flag = z
  .enum(["0", "1", "true", "false", "yes", "no", ""])
  .default("0")
  .transform((v) => v === "1" || v === "true" || v === "yes");

const integer = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

export const databaseUrl = z.string().refine(isDatabaseUrl, "must be a postgres:// or postgresql+asyncpg:// URL");

/** The settings both services read, with the original's names. */
export const sharedEnv = {
  ENV: z.enum(["dev", "test", "prod"]).default("prod"),
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
 * An HMAC key shorter than the hash gives away security; only a development setup may use
 * one, so that `ENV=dev` with a throwaway secret still starts.
 */
export function secretLongEnough(env: { ENV: string; SECRET_KEY: string }): boolean {
  return env.ENV === "dev" || new TextEncoder().encode(env.SECRET_KEY).length >= 32;
}
export const secretTooShort = {
  message: "must be at least 32 bytes (set ENV=dev to allow a short development secret)",
  path: ["SECRET_KEY"],
};
export function previousSecretLongEnough(env: { ENV: string; SECRET_KEY_PREVIOUS?: string }): boolean {
  return env.SECRET_KEY_PREVIOUS === undefined || secretLongEnough({ ENV: env.ENV, SECRET_KEY: env.SECRET_KEY_PREVIOUS });
}
export const previousSecretTooShort = { ...secretTooShort, path: ["SECRET_KEY_PREVIOUS"] };

export const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
export { flag, integer };
