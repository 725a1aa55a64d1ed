import { z } from "zod";
import {
  databaseUrl,
  flag,
  integer,
  parseConfig,
  port,
  previousSecretLongEnough,
  previousSecretTooShort,
  secretLongEnough,
  secretTooShort,
  sharedEnv,
} from "../common/config";

const schema = z
  .object({
    ...sharedEnv,
    AUTH_DATABASE_URL: databaseUrl,
    AUTH_SERVICE_PORT: port(8000),
    ACCESS_TOKEN_EXPIRE_MINUTES: integer(30),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: integer(10),
    LOGIN_MAX_FAILURES_PER_ADDRESS: integer(200),
    LOGIN_FAILURE_WINDOW_MINUTES: integer(15),
    /** Behind a reverse proxy, the client address is the first X-Forwarded-For entry. */
    TRUST_PROXY: flag,
    /** Origins whose pages (the transaction service's Swagger UI) may call this service. */
    CORS_ORIGINS: z
      .string()
      .default("http://localhost:8001,http://127.0.0.1:8001")
      .transform((v) =>
        v
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      ),
  })
  .refine(secretLongEnough, secretTooShort)
  .refine(previousSecretLongEnough, previousSecretTooShort);

export type AuthConfig = z.infer<typeof schema>;

export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  return parseConfig(schema, env);
}
