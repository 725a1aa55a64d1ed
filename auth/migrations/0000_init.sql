-- The auth service's tables, drafted by drizzle-kit from auth/schema.ts.
-- users: usernames are unique without regard to case (an expression index on lower(username)),
-- emails are stored lower-cased (a CHECK) and unique; token_version is carried in every token,
-- so bumping it on a password change revokes all earlier tokens at once.
-- login_failures: one row per failed login, per account and per client address, so throttling
-- holds across restarts and across instances; indexed for the per-key window count and purge.
CREATE TABLE "login_failures" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scope" varchar(16) NOT NULL,
	"key" varchar(320) NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "login_failures_scope" CHECK ("login_failures"."scope" in ('account', 'address'))
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"username" varchar(50) NOT NULL,
	"email" varchar(254) NOT NULL,
	"password_hash" text NOT NULL,
	"token_version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_lower" CHECK ("users"."email" = lower("users"."email"))
);
--> statement-breakpoint
CREATE INDEX "login_failures_scope_key_failed_at_idx" ON "login_failures" USING btree ("scope","key","failed_at");--> statement-breakpoint
CREATE INDEX "login_failures_failed_at_idx" ON "login_failures" USING btree ("failed_at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_lower_key" ON "users" USING btree (lower("username"));--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree ("email");