import { asQuery } from "../http/openapi.ts";
import { EventsQuery, MessagesQuery, type Message, type RoomEvent } from "../protocol/index.ts";
import { builder } from "./builder.ts";
import { connectionOf, forwardPage, seqCursor } from "./paging.ts";
import { RoomRef } from "./rooms.ts";
import { MemberRef, UserRef_ } from "./users.ts";

/** A message and the room it is in, so that its reactions can name their members. */
export type MessageIn = { room: string; message: Message };
type ReactionIn = { room: string; emoji: string; userIds: string[] };

const ReactionRef = builder.objectRef<ReactionIn>("Reaction").implement({
  fields: (t) => ({
    emoji: t.exposeString("emoji"),
    count: t.int({ resolve: (r) => r.userIds.length }),
    userIds: t.exposeIDList("userIds"),
    members: t.field({
      type: [MemberRef],
      description:
        "Those who reacted and are still members, from the room's member list: loaded once per room and request, whatever the number of messages.",
      resolve: async (r, _, ctx) => {
        const { members } = await ctx.room(r.room).members();
        const who = new Set(r.userIds);
        return members.filter((member) => who.has(member.id));
      },
    }),
  }),
});

export const MessageRef = builder.objectRef<MessageIn>("Message").implement({
  description: "A message in its current state (or as it was, under Room.stateAt).",
  fields: (t) => ({
    id: t.int({
      description: "The seq of its message.posted event.",
      resolve: (m) => m.message.id,
    }),
    author: t.field({ type: UserRef_, resolve: (m) => m.message.author }),
    text: t.string({ resolve: (m) => m.message.text }),
    at: t.field({ type: "Timestamp", resolve: (m) => m.message.at }),
    editedAt: t.field({ type: "Timestamp", nullable: true, resolve: (m) => m.message.editedAt }),
    replyTo: t.int({ nullable: true, resolve: (m) => m.message.replyTo }),
    reactions: t.field({
      type: [ReactionRef],
      resolve: ({ room, message }) =>
        Object.entries(message.reactions).map(([emoji, userIds]) => ({ room, emoji, userIds })),
    }),
    deleted: t.boolean({ resolve: (m) => m.message.deleted === true }),
    redacted: t.boolean({ resolve: (m) => m.message.redacted === true }),
  }),
});

export const EventRef = builder.objectRef<RoomEvent>("Event").implement({
  description: "One event of a room's log (docs/protocol.md).",
  fields: (t) => ({
    seq: t.exposeInt("seq"),
    id: t.exposeID("id"),
    type: t.exposeString("type"),
    at: t.expose("at", { type: "Timestamp" }),
    actor: t.field({ type: UserRef_, resolve: (e) => e.actor }),
    data: t.field({ type: "JSON", resolve: (e) => e.data }),
    hash: t.exposeString("hash", { nullable: true }),
    prevHash: t.exposeString("prevHash", { nullable: true }),
    redacted: t.boolean({ resolve: (e) => e.redacted === true }),
  }),
});

builder.objectFields(RoomRef, (t) => ({
  messages: t.connection({
    type: MessageRef,
    description:
      "Messages newest first (GET …/messages): `first` 1–1000 (100); `after` is a message id, the cursor of the last edge seen.",
    resolve: async (room, args, ctx) => {
      const { first, after } = forwardPage(args);
      const query = asQuery(MessagesQuery, { before: after, limit: first });
      const page = await ctx.room(room.name).messages(query.before, query.limit);
      const nodes = page.messages.map((message) => ({ room: room.name, message }));
      return connectionOf(nodes, (m) => seqCursor(m.message.id), page.nextBefore !== null);
    },
  }),
  events: t.connection({
    type: EventRef,
    description:
      "The event log oldest first (GET …/events): `first` 1–1000 (100); `after` is a seq, the cursor of the last edge seen.",
    resolve: async (room, args, ctx) => {
      const { first, after } = forwardPage(args);
      const query = asQuery(EventsQuery, { after, limit: first });
      const page = await ctx.room(room.name).events(query.after, query.limit);
      const last = page.events.at(-1)?.seq ?? query.after;
      return connectionOf(page.events, (e) => seqCursor(e.seq), last < page.lastSeq);
    },
  }),
}));
