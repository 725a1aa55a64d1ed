import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { refuse, ValidationError } from "./errors";
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

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON is UTF-8 (RFC 8259). A JSON body with bytes that are not UTF-8 is refused like malformed
 * JSON, rather than read with the bad bytes replaced: otherwise a transfer whose body carries
 * garbage would go through (the malformed-request tests found one that did).
 */
export const strictUtf8 = () =>
  createMiddleware(async (c, next) => {
    if (/json/i.test(c.req.header("content-type") ?? "") && c.req.method !== "GET") {
      try {
        utf8.decode(await c.req.arrayBuffer());
      } catch {
        throw new ValidationError([{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }]);
      }
    }
    await next();
  });
