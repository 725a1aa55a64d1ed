import { z } from "@hono/zod-openapi";
import { ApiError } from "../common/errors";
import { ErrorSchema } from "../common/openapi";

/** RFC 6749 §5.2's error codes that /token can answer. */
type OAuthErrorCode = "invalid_grant" | "unsupported_grant_type" | "invalid_request";

/**
 * A 400 of /token: the contract's `detail` and `code`, plus RFC 6749's `error`, so that OAuth2
 * client libraries and Swagger UI's Authorize dialog show the reason too.
 */
class TokenError extends ApiError {
  constructor(
    code: string,
    detail: string,
    readonly error: OAuthErrorCode,
    reason?: string,
  ) {
    super(400, code, detail, {}, reason);
  }

  override body(): Record<string, string> {
    return { ...super.body(), error: this.error };
  }
}

const REFUSALS = {
  invalid_credentials: { detail: "Incorrect username or password", error: "invalid_grant" },
  invalid_grant: { detail: "The refresh token is unknown, expired or spent, or its session has ended", error: "invalid_grant" },
  unsupported_grant_type: { detail: "grant_type must be password or refresh_token", error: "unsupported_grant_type" },
  invalid_request: { detail: "grant_type=refresh_token needs a refresh_token", error: "invalid_request" },
} as const satisfies Record<string, { detail: string; error: OAuthErrorCode }>;

type Refusal = keyof typeof REFUSALS;

/** `reason` goes to the debug log only. */
export const tokenRefused = (code: Refusal, reason?: string) => new TokenError(code, REFUSALS[code].detail, REFUSALS[code].error, reason);

const TokenErrorSchema = ErrorSchema.extend({
  error: z.enum(["invalid_grant", "unsupported_grant_type", "invalid_request"]).openapi({ description: "RFC 6749 §5.2's error code." }),
}).openapi("TokenError");

/** The documented 400 of /token, with every code it can carry. */
export const tokenRefusedResponse = {
  description:
    "Refused, with RFC 6749's `error` beside `detail` and `code`. Codes: `invalid_credentials` (unknown user or wrong " +
    "password, the same answer for both), `invalid_grant` (bad refresh token), `unsupported_grant_type`, `invalid_request`.",
  content: {
    "application/json": {
      schema: TokenErrorSchema,
      examples: Object.fromEntries(Object.entries(REFUSALS).map(([code, { detail, error }]) => [code, { value: { detail, code, error } }])),
    },
  },
};
