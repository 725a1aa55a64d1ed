import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex, varchar } from "drizzle-orm/pg-core";

/**
 * The declared schema that `bun run db:generate` turns into SQL drafts under
 * auth/migrations. The services never import it: they speak hand-written SQL.
 */
export const users = pgTable(
  "users",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    username: varchar("username", { length: 50 }).notNull(),
    email: varchar("email", { length: 254 }).notNull(),
    passwordHash: text("password_hash").notNull(),
    // Every token carries the version it was issued under; a password change bumps it,
    // which revokes every earlier token at once.
    tokenVersion: integer("token_version").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("users_username_lower_key").on(sql`lower(${t.username})`),
    uniqueIndex("users_email_key").on(t.email),
    check("users_email_lower", sql`${t.email} = lower(${t.email})`),
  ],
);

/** One row per failed login, by account and by client address, for throttling. */
export const loginFailures = pgTable(
  "login_failures",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    scope: varchar("scope", { length: 16 }).notNull(),
    key: varchar("key", { length: 320 }).notNull(),
    failedAt: timestamp("failed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("login_failures_scope_key_failed_at_idx").on(t.scope, t.key, t.failedAt),
    index("login_failures_failed_at_idx").on(t.failedAt),
    check("login_failures_scope", sql`${t.scope} in ('account', 'address')`),
  ],
);
