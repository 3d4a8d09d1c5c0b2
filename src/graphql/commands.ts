import type { InputFieldMap } from "@pothos/core";
import { parseOr400 } from "../http/openapi.ts";
import { Command, RoomParam } from "../protocol/index.ts";
import { builder } from "./builder.ts";
import type { GraphQLContext } from "./context.ts";
import { given } from "./input.ts";
import { RoleEnum } from "./users.ts";

export const PostedRef = builder.objectRef<{ seq: number }>("Posted").implement({
  description:
    "The seq of the command's (last) event; a replayed clientId answers the first call's seq.",
  fields: (t) => ({ seq: t.exposeInt("seq") }),
});

type MutationField = PothosSchemaTypes.MutationFieldBuilder<
  PothosSchemaTypes.ExtendDefaultTypes<
    typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never
  >,
  {}
>;

/**
 * One room command as a mutation: `room` and `clientId` (idempotency, as over the WebSocket and
 * POST …/commands) plus the frame's own fields, parsed by the contract's `Command` schema and
 * decided by the room, like every other way in.
 */
function commandField(
  t: MutationField,
  type: Command["type"],
  description: string,
  fields: InputFieldMap = {},
) {
  return t.field({
    type: PostedRef,
    description,
    args: {
      room: t.arg.string({ required: true }),
      clientId: t.arg.string({ required: true }),
      ...fields,
    },
    resolve: (_, args, ctx) => send(ctx, { ...args, type } as Record<string, unknown>),
  });
}

async function send(ctx: GraphQLContext, args: Record<string, unknown>): Promise<{ seq: number }> {
  await ctx.actor();
  const { room, ...frame } = given(args);
  const name = parseOr400(RoomParam, { room }).room;
  return ctx.room(name).command(parseOr400(Command, frame));
}

builder.mutationFields((t) => {
  const messageId = t.arg.int({ required: true });
  const userId = t.arg.id({ required: true });
  return {
    postMessage: commandField(
      t,
      "post",
      "A message (`post`): text, attachments (uploads of yours in the room, complete and unposted: docs/attachments.md) or both.",
      {
        text: t.arg.string(),
        replyTo: t.arg.int(),
        attachments: t.arg.idList(),
      },
    ),
    editMessage: commandField(t, "edit", "Your own message's new text (`edit`).", {
      messageId,
      text: t.arg.string({ required: true }),
    }),
    deleteMessage: commandField(t, "delete", "`delete`: yours, or any as a moderator.", {
      messageId,
    }),
    react: commandField(t, "react", "Add (`on: true`) or take back a reaction (`react`).", {
      messageId,
      emoji: t.arg.string({ required: true }),
      on: t.arg.boolean({ required: true }),
    }),
    undo: commandField(t, "undo", "Take back your last action here (`undo`, docs/audit.md)."),
    redo: commandField(t, "redo", "Apply again the last action taken back (`redo`)."),
    redactMessage: commandField(t, "redact", "Empty a message's text for good (`redact`).", {
      messageId,
      reason: t.arg.string(),
    }),
    setTopic: commandField(t, "topic", "The room's topic (`topic`).", {
      topic: t.arg.string({ required: true }),
    }),
    leaveRoom: commandField(t, "leave", "Leave the room (`leave`)."),
    setRole: commandField(t, "role", "Owner only: moderator or member (`role`).", {
      userId,
      role: t.arg({ type: RoleEnum, required: true }),
    }),
    kick: commandField(t, "kick", "`kick`", { userId }),
    ban: commandField(t, "ban", "`ban`", { userId }),
    unban: commandField(t, "unban", "`unban`", { userId }),
    mute: commandField(t, "mute", "`mute` for `seconds`", {
      userId,
      seconds: t.arg.int({ required: true }),
    }),
    unmute: commandField(t, "unmute", "`unmute`", { userId }),
    transferOwnership: commandField(t, "transfer", "Hand the room over (`transfer`).", {
      userId,
    }),
    setSlowMode: commandField(t, "slow_mode", "Seconds between a member's messages, 0 off.", {
      seconds: t.arg.int({ required: true }),
    }),
  };
});
