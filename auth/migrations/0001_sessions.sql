-- Sessions with rotating refresh tokens, and throttling that no burst gets past.
-- sessions: one row per login; access tokens carry its id (sid), so ending it (logout, reuse
-- of a spent refresh token, a password change) refuses them at once. Refresh tokens are kept
-- only as SHA-256 hashes. An ended session has expires_at pulled to now, so the background
-- purge finds ended and expired sessions alike on the one index on expires_at.
-- throttle_attempts replaces login_failures: an attempt is reserved (pending) before its
-- password is checked, under an advisory lock per key, so concurrent guesses cannot all pass
-- a count read before any of them is recorded. Registrations are counted here too. The old
-- table only held failures of the last minutes, so nothing worth keeping is dropped.
CREATE TABLE "sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"refresh_token_hash" varchar(64) NOT NULL,
	"previous_token_hash" varchar(64),
	"rotated_at" timestamp with time zone,
	"successor_box" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"absolute_expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" varchar(32),
	"client_address" varchar(64) NOT NULL,
	"user_agent" varchar(512) NOT NULL,
	CONSTRAINT "sessions_expiry" CHECK ("sessions"."expires_at" <= "sessions"."absolute_expires_at")
);
--> statement-breakpoint
CREATE TABLE "throttle_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scope" varchar(16) NOT NULL,
	"key" varchar(320) NOT NULL,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"pending" boolean NOT NULL,
	CONSTRAINT "throttle_attempts_scope" CHECK ("throttle_attempts"."scope" in ('account', 'address', 'registration'))
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sessions_user_id_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sessions_expires_at_idx" ON "sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "throttle_attempts_scope_key_attempted_at_idx" ON "throttle_attempts" USING btree ("scope","key","attempted_at");--> statement-breakpoint
CREATE INDEX "throttle_attempts_attempted_at_idx" ON "throttle_attempts" USING btree ("attempted_at");--> statement-breakpoint
DROP TABLE "login_failures" CASCADE;