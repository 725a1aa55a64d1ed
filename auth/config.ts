import { z } from "zod";
import { databaseUrl, integer, metricsPort, metricsPortApart, parseConfig, port, refuseKnownSecrets, sharedEnv } from "../common/config";

const metricsApart = metricsPortApart("AUTH_SERVICE_PORT");

/**
 * How many reverse proxies stand in front of the service. The words of the earlier on/off
 * setting still mean what they meant: `true`/`yes` one proxy, `false`/`no` none.
 */
const proxyCount = z
  .string()
  .default("0")
  .transform((v) => ({ true: "1", yes: "1", false: "0", no: "0", "": "0" })[v.trim().toLowerCase()] ?? v)
  .pipe(
    z
      .string()
      .regex(/^[0-9]+$/, "must be the number of proxies in front of the service")
      .transform(Number)
      .pipe(z.number().max(16)),
  );

const schema = z
  .object({
    ...sharedEnv,
    AUTH_DATABASE_URL: databaseUrl,
    AUTH_SERVICE_PORT: port(8000),
    METRICS_PORT: metricsPort(9000),
    /** Only to derive the default CORS origins: the transaction service's docs page calls /token. */
    TRANS_SERVICE_PORT: port(8001),
    ACCESS_TOKEN_EXPIRE_MINUTES: integer(30),
    REFRESH_TOKEN_EXPIRE_DAYS: integer(30),
    SESSION_LIFETIME_DAYS: integer(90),
    REFRESH_REUSE_GRACE_SECONDS: integer(10, 0),
    MAX_SESSIONS_PER_USER: integer(100),
    PURGE_INTERVAL_SECONDS: integer(60),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: integer(10),
    LOGIN_MAX_FAILURES_PER_ADDRESS: integer(200),
    LOGIN_FAILURE_WINDOW_MINUTES: integer(15),
    REGISTRATION_MAX_PER_ADDRESS: integer(50),
    REGISTRATION_WINDOW_MINUTES: integer(60),
    TRUST_PROXY: proxyCount,
    /** How many users (and as many sessions) each instance keeps in memory for /verify (see verify-cache.ts). */
    VERIFY_CACHE_SIZE: integer(10_000),
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
  .refine(metricsApart.check, metricsApart.issue)
  // Unset, the origins follow TRANS_SERVICE_PORT, so moving that port needs no second change.
  .transform((c) => ({
    ...c,
    CORS_ORIGINS: c.CORS_ORIGINS ?? [`http://localhost:${c.TRANS_SERVICE_PORT}`, `http://127.0.0.1:${c.TRANS_SERVICE_PORT}`],
  }));

export type AuthConfig = z.infer<typeof schema>;

export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  return parseConfig(schema, env);
}
