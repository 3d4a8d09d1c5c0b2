/**
 * A page of a room's messages as REST answers it (`MessagesPage`) and as the RPC answers it
 * (`ListMessagesResponse`), brought to one shape so that the benchmark can check that every way
 * carried the same page before it compares what each costs.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { ListMessagesResponse } from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import type { MessagesPage } from "../../src/protocol/index.ts";
import { shownFields } from "../graphql/page.ts";

/** What a client shows of a message, absent fields made explicit. */
export type ShownMessage = {
  id: number;
  author: { id: string; name: string };
  text: string;
  at: number;
  editedAt: number | null;
  replyTo: number | null;
  deleted: boolean;
  redacted: boolean;
  /** Emoji in the order the answer lists them, each with its reactors' ids in order. */
  reactions: [string, string[]][];
};

export type ShownPage = { messages: ShownMessage[]; nextBefore: number | null };

export function pageFromRest(page: MessagesPage): ShownPage {
  return {
    messages: page.messages.map((m) => ({
      ...shownFields(m),
      reactions: Object.entries(m.reactions),
    })),
    nextBefore: page.nextBefore,
  };
}

/** uint64 ids as numbers; 0 (protobuf's unset) as null where REST leaves the field out. */
const idOrNull = (id: bigint) => (id === 0n ? null : Number(id));

export function pageFromRpc(answer: ListMessagesResponse): ShownPage {
  return {
    messages: answer.messages.map((m) => ({
      id: Number(m.id),
      author: { id: m.author?.id ?? "", name: m.author?.name ?? "" },
      text: m.text,
      at: m.at ? timestampMs(m.at) : 0,
      editedAt: m.editedAt ? timestampMs(m.editedAt) : null,
      replyTo: idOrNull(m.replyTo),
      deleted: m.deleted,
      redacted: m.redacted,
      reactions: m.reactions.map((r): [string, string[]] => [r.emoji, [...r.userIds]]),
    })),
    nextBefore: answer.nextPageToken === "" ? null : Number(answer.nextPageToken),
  };
}

/** What the page holds, to say in the report that it is a realistic one. */
export function describePage(page: ShownPage) {
  const m = page.messages;
  return {
    messages: m.length,
    withReactions: m.filter((x) => x.reactions.length > 0).length,
    reactions: m.reduce((n, x) => n + x.reactions.reduce((k, [, who]) => k + who.length, 0), 0),
    edited: m.filter((x) => x.editedAt !== null).length,
    deleted: m.filter((x) => x.deleted).length,
    replies: m.filter((x) => x.replyTo !== null).length,
    authors: new Set(m.map((x) => x.author.id)).size,
    hasOlder: page.nextBefore !== null,
  };
}

/**
 * Refuses a page that is not the one the benchmark asks for: `size` messages, older ones
 * beyond it, and the shapes a real conversation has (reactions by several, edits, replies).
 */
export function assertRealistic(page: ShownPage, size: number): ReturnType<typeof describePage> {
  const shown = describePage(page);
  const realistic =
    shown.messages === size &&
    shown.hasOlder &&
    shown.withReactions >= 10 &&
    page.messages.some((m) => m.reactions.some(([, who]) => who.length >= 2)) &&
    shown.edited >= 3 &&
    shown.replies >= 3 &&
    shown.authors >= 5;
  if (!realistic) throw new Error(`the page is not the one asked for: ${JSON.stringify(shown)}`);
  return shown;
}
