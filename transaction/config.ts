import { z } from "zod";
import { databaseUrl, integer, metricsPort, metricsPortApart, parseConfig, port, refuseKnownSecrets, sharedEnv } from "../common/config";
import { decimalToMinor } from "./money";

const metricsApart = metricsPortApart("TRANS_SERVICE_PORT");

const schema = z
  .object({
    ...sharedEnv,
    TRANS_DATABASE_URL: databaseUrl,
    TRANS_SERVICE_PORT: port(8001),
    METRICS_PORT: metricsPort(9001),
    /** Only to derive the defaults of AUTH_SERVICE_URL and DOCS_TOKEN_URL. */
    AUTH_SERVICE_PORT: port(8000),
    AUTH_SERVICE_URL: z.url({ protocol: /^https?$/ }).optional(),
    AUTH_TIMEOUT_MS: integer(2000, 50),
    DEFAULT_BALANCE: z
      .string()
      .default("1000.00")
      .transform((v, ctx) => decimalToMinor(v) ?? (ctx.addIssue({ code: "custom", message: "must be a decimal such as 1000.00" }), z.NEVER)),
    TRANSACTIONS_DEFAULT_LIMIT: z.coerce.number().int().min(1).max(1000).default(1000),
    /** How long an Idempotency-Key replays its transfer; the IETF draft asks for at least 24 hours. */
    IDEMPOTENCY_KEY_RETENTION_HOURS: integer(24, 24),
    /** The auth service's /token as the user's browser reaches it, for Swagger UI's Authorize. */
    DOCS_TOKEN_URL: z.url().optional(),
  })
  .superRefine(refuseKnownSecrets("TRANS_DATABASE_URL"))
  .refine(metricsApart.check, metricsApart.issue)
  // Unset, both follow AUTH_SERVICE_PORT, so moving that port needs no second change.
  .transform((c) => ({
    ...c,
    AUTH_SERVICE_URL: (c.AUTH_SERVICE_URL ?? `http://localhost:${c.AUTH_SERVICE_PORT}`).replace(/\/+$/, ""),
    DOCS_TOKEN_URL: c.DOCS_TOKEN_URL ?? `http://localhost:${c.AUTH_SERVICE_PORT}/token`,
  }));

export type TransactionConfig = z.infer<typeof schema>;

export function loadTransactionConfig(env: Record<string, string | undefined> = process.env): TransactionConfig {
  return parseConfig(schema, env);
}
