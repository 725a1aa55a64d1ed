-- The ledger: accounts opened on first use (with the opening balance kept for the audit),
-- transfers between them, and the Idempotency-Keys that make a retried transfer safe. Money is
-- bigint minor units everywhere, and the CHECKs make an overdraft, a non-positive amount or a
-- transfer to oneself impossible whatever the caller does. Drafted by drizzle-kit from
-- transaction/schema.ts.
CREATE TABLE "accounts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"uid" bigint NOT NULL,
	"username" varchar(50) NOT NULL,
	"balance" bigint NOT NULL,
	"opening_balance" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_uid_key" UNIQUE("uid"),
	CONSTRAINT "accounts_balance_not_negative" CHECK ("accounts"."balance" >= 0),
	CONSTRAINT "accounts_opening_balance_not_negative" CHECK ("accounts"."opening_balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"owner_uid" bigint NOT NULL,
	"key" varchar(255) NOT NULL,
	"request_hash" text NOT NULL,
	"transfer_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("owner_uid","key")
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"sender_id" bigint NOT NULL,
	"receiver_id" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transfers_amount_positive" CHECK ("transfers"."amount" > 0),
	CONSTRAINT "transfers_not_to_self" CHECK ("transfers"."sender_id" <> "transfers"."receiver_id")
);
--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_sender_id_accounts_id_fk" FOREIGN KEY ("sender_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_receiver_id_accounts_id_fk" FOREIGN KEY ("receiver_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_username_lower_key" ON "accounts" USING btree (lower("username"));--> statement-breakpoint
CREATE INDEX "transfers_sender_history_idx" ON "transfers" USING btree ("sender_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "transfers_receiver_history_idx" ON "transfers" USING btree ("receiver_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);