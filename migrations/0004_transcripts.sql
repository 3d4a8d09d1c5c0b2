ALTER TABLE "messages" ADD COLUMN "transcript" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" drop column "search";--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', "text" || ' ' || "transcript")) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "messages_search" ON "messages" USING gin ("search");
