import type { ServiceImpl } from "@connectrpc/connect";
import { asQuery, unwrap } from "../../http/openapi.ts";
import { MessagesQuery } from "../../protocol/index.ts";
import { toMessage } from "../convert.ts";
import { callOf, command } from "../context.ts";
import type { MessageService } from "../gen/edgechat/v1/messages_pb.js";
import { idOf } from "./ids.ts";

/** MessageService (proto/edgechat/v1/messages.proto): a room's messages and their commands. */
export const messages: ServiceImpl<typeof MessageService> = {
  async listMessages(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    const query = asQuery(MessagesQuery, {
      before: request.pageToken || undefined,
      limit: request.pageSize || undefined,
    });
    const page = unwrap(await call.room(request.room).messages(actor, query.before, query.limit));
    return {
      messages: page.messages.map((message) => toMessage(message, request.room)),
      nextPageToken: page.nextBefore === null ? "" : String(page.nextBefore),
    };
  },

  // proto3 cannot tell an empty string from none: empty text is no text, which the contract
  // accepts when the post carries attachments.
  postMessage: ({ room, clientId, text, replyTo, attachments }, context) =>
    command(callOf(context), room, {
      type: "post",
      clientId,
      ...(text ? { text } : {}),
      ...(replyTo ? { replyTo: idOf(replyTo, "reply_to") } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    }),
  editMessage: ({ room, clientId, messageId, text }, context) =>
    command(callOf(context), room, { type: "edit", clientId, messageId: idOf(messageId), text }),
  deleteMessage: ({ room, clientId, messageId }, context) =>
    command(callOf(context), room, { type: "delete", clientId, messageId: idOf(messageId) }),
  react: ({ room, clientId, messageId, emoji, on }, context) =>
    command(callOf(context), room, {
      type: "react",
      clientId,
      messageId: idOf(messageId),
      emoji,
      on,
    }),
  redactMessage: ({ room, clientId, messageId, reason }, context) =>
    command(callOf(context), room, {
      type: "redact",
      clientId,
      messageId: idOf(messageId),
      ...(reason ? { reason } : {}),
    }),
  undo: ({ room, clientId }, context) => command(callOf(context), room, { type: "undo", clientId }),
  redo: ({ room, clientId }, context) => command(callOf(context), room, { type: "redo", clientId }),
};
