import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, pgTable, primaryKey, text, timestamp, uniqueIndex, varchar } from "drizzle-orm/pg-core";

/**
 * The declared schema that `bun run db:generate` turns into SQL drafts under
 * transaction/migrations. The service never imports it: it speaks hand-written SQL, and the
 * transfer itself lives in a PL/pgSQL function (migration 0001), which drizzle cannot declare.
 */
export const accounts = pgTable(
  "accounts",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    // The auth service's user id: accounts are opened on first use, one per user.
    uid: bigint("uid", { mode: "bigint" }).notNull().unique("accounts_uid_key"),
    username: varchar("username", { length: 50 }).notNull(),
    // Minor units (cents). The CHECK makes an overdraft impossible even for a buggy caller.
    balance: bigint("balance", { mode: "bigint" }).notNull(),
    // What the account was opened with, so that the audit can prove conservation of money.
    openingBalance: bigint("opening_balance", { mode: "bigint" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("accounts_username_lower_key").on(sql`lower(${t.username})`),
    check("accounts_balance_not_negative", sql`${t.balance} >= 0`),
    check("accounts_opening_balance_not_negative", sql`${t.openingBalance} >= 0`),
  ],
);

export const transfers = pgTable(
  "transfers",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    senderId: bigint("sender_id", { mode: "bigint" })
      .notNull()
      .references(() => accounts.id),
    receiverId: bigint("receiver_id", { mode: "bigint" })
      .notNull()
      .references(() => accounts.id),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("transfers_amount_positive", sql`${t.amount} > 0`),
    check("transfers_not_to_self", sql`${t.senderId} <> ${t.receiverId}`),
    // History reads one account's transfers newest first; each index serves one side of it
    // as a range scan that stops after a page, whatever the size of the table. NULLS FIRST is
    // what a plain `ORDER BY created_at DESC, id DESC` means, so the planner can read the index
    // in order (drizzle would otherwise write NULLS LAST, which that ORDER BY cannot use).
    index("transfers_sender_history_idx").on(t.senderId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index("transfers_receiver_history_idx").on(t.receiverId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);

/**
 * A client's Idempotency-Key, scoped to the sender, with the hash of the request it came with.
 * Kept for IDEMPOTENCY_KEY_RETENTION_HOURS, then purged in small batches by created_at.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    ownerUid: bigint("owner_uid", { mode: "bigint" }).notNull(),
    key: varchar("key", { length: 255 }).notNull(),
    requestHash: text("request_hash").notNull(),
    transferId: bigint("transfer_id", { mode: "bigint" })
      .notNull()
      .references(() => transfers.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "idempotency_keys_pkey", columns: [t.ownerUid, t.key] }),
    // The purge reads the oldest keys first, a batch at a time, without scanning the table.
    index("idempotency_keys_created_at_idx").on(t.createdAt),
  ],
);
