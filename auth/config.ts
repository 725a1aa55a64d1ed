import { z } from "zod";
import { databaseUrl, flag, integer, parseConfig, port, refuseKnownSecrets, sharedEnv } from "../common/config";

const schema = z
  .object({
    ...sharedEnv,
    AUTH_DATABASE_URL: databaseUrl,
    AUTH_SERVICE_PORT: port(8000),
    /** Only to derive the default CORS origins: the transaction service's docs page calls /token. */
    TRANS_SERVICE_PORT: port(8001),
    ACCESS_TOKEN_EXPIRE_MINUTES: integer(30),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: integer(10),
    LOGIN_MAX_FAILURES_PER_ADDRESS: integer(200),
    LOGIN_FAILURE_WINDOW_MINUTES: integer(15),
    /** Behind a reverse proxy, the client address is the first X-Forwarded-For entry. */
    TRUST_PROXY: flag,
    /** Origins whose pages (the transaction service's Swagger UI) may call this service. */
    CORS_ORIGINS: z
      .string()
      .optional()
      .transform((v) =>
        v
          ?.split(",")
          .map((o) => o.trim())
          .filter(Boolean),
      ),
  })
  .superRefine(refuseKnownSecrets("AUTH_DATABASE_URL"))
  // Unset, the origins follow TRANS_SERVICE_PORT, so moving that port needs no second change.
  .transform((c) => ({
    ...c,
    CORS_ORIGINS: c.CORS_ORIGINS ?? [`http://localhost:${c.TRANS_SERVICE_PORT}`, `http://127.0.0.1:${c.TRANS_SERVICE_PORT}`],
  }));

export type AuthConfig = z.infer<typeof schema>;

export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  return parseConfig(schema, env);
}
