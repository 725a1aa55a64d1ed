import type { Logger } from "../common/logger";
import type { Sql } from "../db/connect";
import type { TokenService } from "./access-tokens";
import type { AuthConfig } from "./config";
import type { AuthMetrics } from "./metrics";
import type { PasswordThrottle, RegistrationThrottle } from "./throttle";
import type { VerifyCache } from "./verify-cache";

/** What every route of the auth service is built from; `app.ts` assembles it. */
export interface AuthDeps {
  sql: Sql;
  config: AuthConfig;
  log: Logger;
  tokens: TokenService;
  throttle: PasswordThrottle;
  registrations: RegistrationThrottle;
  metrics: AuthMetrics;
  cache: VerifyCache;
}
