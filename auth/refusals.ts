import { catalogue, SHARED_REFUSALS } from "../common/refusals";

const retryAfter = { "Retry-After": { description: "Seconds to wait before the next try.", type: "integer" } } as const;

/** Every refusal the auth service can give: the shared ones and its own. */
export const REFUSALS = catalogue({
  ...SHARED_REFUSALS,
  username_taken: {
    status: 400,
    code: "username_taken",
    detail: "Username already registered",
    when: "The username is already registered (in any case).",
  },
  email_taken: { status: 400, code: "email_taken", detail: "Email already registered", when: "The email is already registered." },
  too_many_registrations: {
    status: 429,
    code: "too_many_attempts",
    detail: "Too many registrations from this address, try again later",
    when: "Too many registrations from this client address; the `Retry-After` header says how many seconds to wait.",
    headers: retryAfter,
  },
  // The 400s of /token carry RFC 6749's `error` too, so that OAuth2 clients and Swagger UI's
  // Authorize dialog show the reason.
  invalid_credentials: {
    status: 400,
    code: "invalid_credentials",
    detail: "Incorrect username or password",
    when: "Unknown user or wrong password (the same answer for both).",
    fields: { error: "invalid_grant" },
  },
  invalid_grant: {
    status: 400,
    code: "invalid_grant",
    detail: "The refresh token is unknown, expired or spent, or its session has ended",
    when: "A refresh token that is unknown, expired or spent, or whose session has ended.",
    fields: { error: "invalid_grant" },
  },
  unsupported_grant_type: {
    status: 400,
    code: "unsupported_grant_type",
    detail: "grant_type must be password or refresh_token",
    when: "A `grant_type` other than `password` and `refresh_token`.",
    fields: { error: "unsupported_grant_type" },
  },
  invalid_request: {
    status: 400,
    code: "invalid_request",
    detail: "grant_type=refresh_token needs a refresh_token",
    when: "The refresh_token grant without a `refresh_token`.",
    fields: { error: "invalid_request" },
  },
  // The shared malformed-form refusal, as /token answers it: the same code, with RFC 6749's error.
  malformed_token_request: {
    ...SHARED_REFUSALS.malformed_form,
    fields: { error: "invalid_request" },
  },
  wrong_old_password: { status: 400, code: "invalid_credentials", detail: "Incorrect password", when: "The old password is wrong." },
  too_many_attempts: {
    status: 429,
    code: "too_many_attempts",
    detail: "Too many failed login attempts, try again later",
    when: "Too many failed password checks; the `Retry-After` header says how many seconds to wait.",
    headers: retryAfter,
  },
  user_not_found: { status: 404, code: "user_not_found", detail: "User not found", when: "No user has that name." },
  session_not_found: {
    status: 404,
    code: "session_not_found",
    detail: "Session not found",
    when: "The user has no live session of that id (another user's sessions are not found either).",
  },
});
