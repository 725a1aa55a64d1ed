import type { Logger } from "../common/logger";
import type { Sql } from "../db/connect";
import type { AuthClient } from "./auth-client";
import type { authenticate } from "./authenticate";
import type { TransactionConfig } from "./config";
import type { TransactionMetrics } from "./metrics";

/** What every route of the transaction service is built from; `app.ts` assembles it. */
export interface TransactionDeps {
  sql: Sql;
  config: TransactionConfig;
  log: Logger;
  auth: AuthClient;
  authenticate: ReturnType<typeof authenticate>;
  metrics: TransactionMetrics;
}
