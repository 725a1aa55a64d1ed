import { z } from "@hono/zod-openapi";

/** The schemas more than one auth route shares. */
export const Username = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,50}$/, "3 to 50 letters, digits, '_', '.' or '-'")
  .openapi({ example: "alice", description: "3 to 50 letters, digits, `_`, `.`, `-`; unique without regard to case." });

/** Counted in characters (code points), not UTF-16 units, as a person would count them. */
export const Password = z
  .string()
  .refine((p) => [...p].length >= 8, "at least 8 characters")
  .refine((p) => [...p].length <= 128, "at most 128 characters")
  .openapi({ example: "correct-horse-battery", description: "8 to 128 characters.", format: "password", minLength: 8, maxLength: 128 });

export const UserOut = z
  .object({
    id: z.number().int().openapi({ example: 1 }),
    username: z.string().openapi({ example: "alice" }),
    email: z.string().openapi({ example: "alice@example.com" }),
    created_at: z.string().openapi({ example: "2026-01-01T12:00:00.000Z", format: "date-time" }),
  })
  .openapi("UserOut");
