import { catalogue, SHARED_REFUSALS } from "../common/refusals";

/** Every refusal the transaction service can give: the shared ones and its own. */
export const REFUSALS = catalogue({
  ...SHARED_REFUSALS,
  insufficient_funds: { status: 400, code: "insufficient_funds", detail: "Insufficient funds", when: "The balance does not cover the amount." },
  self_transfer: { status: 400, code: "self_transfer", detail: "Cannot transfer money to yourself", when: "The receiver is the sender." },
  receiver_not_found: { status: 404, code: "receiver_not_found", detail: "Receiver not found", when: "No registered user has that name." },
  idempotency_key_in_use: {
    status: 409,
    code: "idempotency_key_in_use",
    detail: "A request with this Idempotency-Key is in progress",
    when: "Reserved: a duplicate arriving while the first is running waits for it instead.",
  },
  idempotency_key_reused: {
    status: 422,
    code: "idempotency_key_reused",
    detail: "This Idempotency-Key was used with another request body",
    when: "The `Idempotency-Key` was used before with another body.",
  },
  auth_unavailable: {
    status: 503,
    code: "auth_unavailable",
    detail: "The auth service is unavailable; nothing was done, try again",
    when: "The auth service did not answer in time, or failed; nothing was done.",
  },
});
