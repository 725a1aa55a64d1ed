import { z } from "@hono/zod-openapi";

/** The API schemas both services share; each service's own are in `<service>/schemas.ts`. */

/** FastAPI's 422: `detail` is a list of `{loc, msg, type}`. */
export const ValidationErrorSchema = z
  .object({
    detail: z.array(
      z.object({
        loc: z.array(z.union([z.string(), z.number()])),
        msg: z.string(),
        type: z.string(),
      }),
    ),
    code: z.literal("validation_error"),
  })
  .openapi("ValidationError");

/** A body field beside `detail` and `code`, the values it takes, and whether every refusal sends it. */
export interface ExtraField {
  values: [string, ...string[]];
  required: boolean;
}

const FIELD_DESCRIPTIONS: Record<string, string> = { error: "RFC 6749's error code, for OAuth2 clients." };

/**
 * Every other error: a sentence and one of the codes the response lists, plus any field a
 * standard adds (RFC 6749's `error` at /token).
 */
export const errorSchema = (codes: [string, ...string[]], fields: Record<string, ExtraField> = {}) =>
  z.object({
    detail: z.string().openapi({ description: "A sentence for humans." }),
    code: z.enum(codes).openapi({ description: "Stable, machine-readable snake_case code." }),
    ...Object.fromEntries(
      Object.entries(fields).map(([name, { values, required }]) => {
        const field = z.enum(values).openapi({ description: FIELD_DESCRIPTIONS[name] ?? name });
        return [name, required ? field : field.optional()];
      }),
    ),
  });

/**
 * A username or email to look up. PostgreSQL text cannot hold a NUL character, so one is refused
 * here as invalid input rather than failing in the database.
 */
export const LookupName = z
  .string()
  .min(1)
  .max(254)
  .refine((name) => !name.includes("\u0000"), "must not contain a NUL character");
