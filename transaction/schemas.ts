import { z } from "@hono/zod-openapi";
import { MAX_AMOUNT_MINOR, toMinor, toUnits } from "./money";
import type { TransferRow } from "./transfers";

/**
 * An amount is a JSON number (never a string, boolean or null) greater than 0, at most
 * 1,000,000,000.00, with at most two decimals; it leaves validation as exact minor units.
 */
export const Amount = z
  .number()
  .transform((amount, ctx) => {
    const minor = toMinor(amount);
    if (minor === undefined) {
      ctx.addIssue({ code: "custom", message: "must have at most two decimal places" });
      return z.NEVER;
    }
    if (minor <= 0n || minor > MAX_AMOUNT_MINOR) {
      ctx.addIssue({ code: "custom", message: "must be greater than 0 and at most 1000000000.00" });
      return z.NEVER;
    }
    return minor;
  })
  .openapi({
    type: "number",
    exclusiveMinimum: 0,
    maximum: 1_000_000_000,
    example: 19.99,
    description: "Greater than 0, at most 1,000,000,000.00, at most two decimals.",
  });

export const TransactionOut = z
  .object({
    id: z.number().int().openapi({ example: 42 }),
    sender_id: z.number().int().openapi({ example: 1, description: "The sender's account id (this service's)." }),
    receiver_id: z.number().int().openapi({ example: 2, description: "The receiver's account id (this service's)." }),
    amount: z.number().openapi({ example: 19.99 }),
    timestamp: z.string().openapi({ format: "date-time", example: "2026-01-01T12:00:00.000Z" }),
    sender_username: z.string().openapi({ example: "alice" }),
    receiver_username: z.string().openapi({ example: "bob" }),
  })
  .openapi("TransactionOut");

export function transactionOut(row: TransferRow): z.infer<typeof TransactionOut> {
  return {
    id: Number(row.id),
    sender_id: Number(row.sender_id),
    receiver_id: Number(row.receiver_id),
    amount: toUnits(row.amount),
    timestamp: row.created_at.toISOString(),
    sender_username: row.sender_username,
    receiver_username: row.receiver_username,
  };
}
