ALTER TABLE "events" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "message_id" bigint;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "redacted_by" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "redacted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "events_message" ON "events" USING btree ("room","message_id");--> statement-breakpoint
-- Events mirrored before message_id existed: the message each is about (a post is about itself).
UPDATE "events" SET "message_id" = CASE WHEN "type" = 'message.posted' THEN "seq" ELSE ("data"->>'messageId')::bigint END
  WHERE "type" LIKE 'message.%' OR "type" LIKE 'reaction.%';
