import { asQuery } from "../http/openapi.ts";
import { StateAtQuery, type ChainReport, type RoomStateAt } from "../protocol/index.ts";
import { builder } from "./builder.ts";
import { MessageRef } from "./messages.ts";
import { RoomRef, VisibilityEnum } from "./rooms.ts";
import { MemberRef } from "./users.ts";

// One object for both verdicts: `ok` says which of the fields are set.
const ChainReportRef = builder.objectRef<ChainReport>("ChainReport").implement({
  description:
    "The room's hash chain checked against its anchor (GET …/audit/verify): when `ok`, `lastSeq` and `head`; else the first broken `seq` and the `problem`.",
  fields: (t) => ({
    ok: t.exposeBoolean("ok"),
    lastSeq: t.int({ nullable: true, resolve: (r) => (r.ok ? r.lastSeq : null) }),
    head: t.string({ nullable: true, resolve: (r) => (r.ok ? r.head : null) }),
    anchoredSeq: t.int({ nullable: true, resolve: (r) => (r.ok ? r.anchoredSeq : null) }),
    seq: t.int({ nullable: true, resolve: (r) => (r.ok ? null : r.seq) }),
    problem: t.string({ nullable: true, resolve: (r) => (r.ok ? null : r.problem) }),
  }),
});

type StateIn = RoomStateAt & { name: string };

const RoomStateRef = builder.objectRef<StateIn>("RoomState").implement({
  description: "The room as it was at one event (time travel, docs/audit.md).",
  fields: (t) => ({
    seq: t.exposeInt("seq"),
    at: t.expose("at", { type: "Timestamp" }),
    name: t.string({ resolve: (s) => s.room.name }),
    topic: t.string({ resolve: (s) => s.room.topic }),
    visibility: t.field({ type: VisibilityEnum, resolve: (s) => s.room.visibility }),
    slowModeSeconds: t.int({ resolve: (s) => s.room.slowModeSeconds }),
    ownerId: t.id({ resolve: (s) => s.room.ownerId }),
    members: t.field({ type: [MemberRef], resolve: (s) => s.members }),
    messages: t.field({
      type: [MessageRef],
      description: "Newest first, with the text they had then; page with `before`.",
      resolve: (s) => s.messages.map((message) => ({ room: s.name, message })),
    }),
    nextBefore: t.exposeInt("nextBefore", { nullable: true }),
  }),
});

builder.objectFields(RoomRef, (t) => ({
  stateAt: t.field({
    type: RoomStateRef,
    description:
      "GET …/state: at event `at` (a seq) or at the last event at or before `atTime`; exactly one. `before` and `limit` (1–200, 50) page its messages.",
    args: {
      at: t.arg.int(),
      atTime: t.arg({ type: "Timestamp" }),
      before: t.arg.int(),
      limit: t.arg.int(),
    },
    resolve: async (room, args, ctx) => {
      const { at, atTime, before, limit } = asQuery(StateAtQuery, args);
      const moment = at !== undefined ? { at } : { atTime: atTime! };
      const state = await ctx.room(room.name).stateAt(moment, { before, limit });
      return { ...state, name: room.name };
    },
  }),
  auditVerify: t.field({
    type: ChainReportRef,
    description: "Owners and admins.",
    resolve: (room, _, ctx) => ctx.room(room.name).auditVerify(),
  }),
}));
