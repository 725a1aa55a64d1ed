import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid, varchar } from "drizzle-orm/pg-core";

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

/**
 * One row per password check or registration that a limit counts, per account, per client
 * address, or per address for registrations. A login reserves its rows (`pending`) before the
 * password is checked, under a lock on each key, so that no burst gets more checks than the limit.
 */
export const throttleAttempts = pgTable(
  "throttle_attempts",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    scope: varchar("scope", { length: 16 }).notNull(),
    key: varchar("key", { length: 320 }).notNull(),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull().defaultNow(),
    // True while the password is being checked; a failure settles it, a success deletes it.
    pending: boolean("pending").notNull(),
  },
  (t) => [
    index("throttle_attempts_scope_key_attempted_at_idx").on(t.scope, t.key, t.attemptedAt),
    index("throttle_attempts_attempted_at_idx").on(t.attemptedAt),
    check("throttle_attempts_scope", sql`${t.scope} in ('account', 'address', 'registration')`),
  ],
);

/**
 * One row per login. Access tokens carry the id (`sid`); the refresh token is kept only as a
 * SHA-256 hash. Ending a session (logout, reuse of a spent refresh token, a password change)
 * sets `ended_at` and pulls `expires_at` to now, so one index serves both the check of every
 * request and the purge.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey(),
    userId: bigint("user_id", { mode: "bigint" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    refreshTokenHash: varchar("refresh_token_hash", { length: 64 }).notNull(),
    // The token the latest rotation spent, and when: a second refresh with it inside the grace
    // window gets the same successor, which `successor_box` holds encrypted under a key that
    // only that spent token yields.
    previousTokenHash: varchar("previous_token_hash", { length: 64 }),
    rotatedAt: timestamp("rotated_at", { withTimezone: true }),
    successorBox: text("successor_box"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }).notNull().defaultNow(),
    // The earlier of the absolute lifetime and the refresh token's expiry.
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    absoluteExpiresAt: timestamp("absolute_expires_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    endReason: varchar("end_reason", { length: 32 }),
    clientAddress: varchar("client_address", { length: 64 }).notNull(),
    userAgent: varchar("user_agent", { length: 512 }).notNull(),
  },
  (t) => [
    index("sessions_user_id_idx").on(t.userId),
    index("sessions_expires_at_idx").on(t.expiresAt),
    check("sessions_expiry", sql`${t.expiresAt} <= ${t.absoluteExpiresAt}`),
  ],
);
