import { bodyLimit } from "hono/body-limit";
import { refuse } from "./errors";
import { MAX_BODY_BYTES, SHARED_REFUSALS } from "./refusals";

/**
 * Refuses a body over the limit before any route reads it, whether it declares its length or
 * streams without one. Bun drops the body of a GET, so only methods that carry one can get it.
 */
export const limitBody = () =>
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw refuse(SHARED_REFUSALS.payload_too_large);
    },
  });
