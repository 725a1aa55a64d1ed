import { z } from "zod";
import {
  databaseUrl,
  integer,
  parseConfig,
  port,
  previousSecretLongEnough,
  previousSecretTooShort,
  secretLongEnough,
  secretTooShort,
  sharedEnv,
} from "../common/config";
import { decimalToMinor } from "./money";

const schema = z
  .object({
    ...sharedEnv,
    TRANS_DATABASE_URL: databaseUrl,
    TRANS_SERVICE_PORT: port(8001),
    AUTH_SERVICE_URL: z
      .url({ protocol: /^https?$/ })
      .default("http://localhost:8000")
      .transform((u) => u.replace(/\/+$/, "")),
    AUTH_TIMEOUT_MS: integer(2000, 50),
    DEFAULT_BALANCE: z
      .string()
      .default("1000.00")
      .transform((v, ctx) => decimalToMinor(v) ?? (ctx.addIssue({ code: "custom", message: "must be a decimal such as 1000.00" }), z.NEVER)),
    TRANSACTIONS_DEFAULT_LIMIT: z.coerce.number().int().min(1).max(1000).default(1000),
    /** The auth service's /token as the user's browser reaches it, for Swagger UI's Authorize. */
    DOCS_TOKEN_URL: z.url().default("http://localhost:8000/token"),
  })
  .refine(secretLongEnough, secretTooShort)
  .refine(previousSecretLongEnough, previousSecretTooShort);

export type TransactionConfig = z.infer<typeof schema>;

export function loadTransactionConfig(env: Record<string, string | undefined> = process.env): TransactionConfig {
  return parseConfig(schema, env);
}
