CREATE TABLE "bans" (
	"room" text NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "bans_room_user_id_pk" PRIMARY KEY("room","user_id")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"room" text NOT NULL,
	"seq" bigint NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"at" bigint NOT NULL,
	"actor_id" text NOT NULL,
	"actor_name" text NOT NULL,
	"data" jsonb NOT NULL,
	CONSTRAINT "events_room_seq_pk" PRIMARY KEY("room","seq"),
	CONSTRAINT "events_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "members" (
	"room" text NOT NULL,
	"user_id" text NOT NULL,
	"role" text NOT NULL,
	CONSTRAINT "members_room_user_id_pk" PRIMARY KEY("room","user_id")
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"room" text NOT NULL,
	"id" bigint NOT NULL,
	"author_id" text NOT NULL,
	"author_name" text NOT NULL,
	"text" text NOT NULL,
	"at" bigint NOT NULL,
	"edited_at" bigint,
	"reply_to" bigint,
	"deleted" boolean DEFAULT false NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', "text")) STORED NOT NULL,
	CONSTRAINT "messages_room_id_pk" PRIMARY KEY("room","id")
);
--> statement-breakpoint
CREATE TABLE "reactions" (
	"room" text NOT NULL,
	"message_id" bigint NOT NULL,
	"emoji" text NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "reactions_room_message_id_emoji_user_id_pk" PRIMARY KEY("room","message_id","emoji","user_id")
);
--> statement-breakpoint
CREATE TABLE "room_cursors" (
	"room" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"flushed_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rooms" (
	"name" text PRIMARY KEY NOT NULL,
	"topic" text DEFAULT '' NOT NULL,
	"visibility" text NOT NULL,
	"owner_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"members" integer DEFAULT 0 NOT NULL,
	"messages" integer DEFAULT 0 NOT NULL,
	"last_activity_at" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"last_seen_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "events_actor" ON "events" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "members_user" ON "members" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "messages_search" ON "messages" USING gin ("search");--> statement-breakpoint
CREATE INDEX "messages_room_at" ON "messages" USING btree ("room","at");