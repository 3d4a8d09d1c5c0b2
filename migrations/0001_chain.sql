ALTER TABLE "events" ADD COLUMN "hash" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "prev_hash" text;