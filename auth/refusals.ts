import { catalogue, SHARED_REFUSALS } from "../common/refusals";

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
  invalid_credentials: {
    status: 400,
    code: "invalid_credentials",
    detail: "Incorrect username or password",
    when: "Unknown user or wrong password (the same answer for both).",
  },
  wrong_old_password: { status: 400, code: "invalid_credentials", detail: "Incorrect password", when: "The old password is wrong." },
  too_many_attempts: {
    status: 429,
    code: "too_many_attempts",
    detail: "Too many failed login attempts, try again later",
    when: "Too many failed password checks; the `Retry-After` header says how many seconds to wait.",
    headers: { "Retry-After": { description: "Seconds to wait before the next try.", type: "integer" } },
  },
  user_not_found: { status: 404, code: "user_not_found", detail: "User not found", when: "No user has that name." },
});
