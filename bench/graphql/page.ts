/**
 * The "room page" of issue 12: the room's info, its members with their roles, who is online, and
 * its newest messages with their authors and reactions (counts and the reactors' names). What a client
 * renders, built from REST's three answers or from GraphQL's one, so that the benchmark can
 * check once that both sides fetched the same data before it compares their costs.
 */
import type { MemberList, MessagesPage, RoomInfo } from "../../src/protocol/index.ts";

/** How many messages the page shows. */
export const PAGE_MESSAGES = 20;

export type RoomPage = {
  room: {
    name: string;
    topic: string;
    visibility: string;
    createdAt: number;
    lastSeq: number;
    memberCount: number;
    onlineCount: number;
    slowModeSeconds: number;
  };
  members: {
    id: string;
    name: string;
    role: string;
    joinedAt: number;
    mutedUntil: number | null;
  }[];
  /** Who is connected to the room's chat now (REST: the member list's `online`). */
  online: { id: string; name: string }[];
  messages: {
    id: number;
    author: { id: string; name: string };
    text: string;
    at: number;
    editedAt: number | null;
    replyTo: number | null;
    deleted: boolean;
    redacted: boolean;
    /** In the order the message lists them; reactors named as the member list names them. */
    reactions: { emoji: string; count: number; reactors: string[] }[];
  }[];
  /** Whether older messages exist (REST: `nextBefore`; GraphQL: `pageInfo.hasNextPage`). */
  hasOlder: boolean;
};

/** The page in one GraphQL query: the same fields a REST client gets from its three calls. */
export const ROOM_PAGE_QUERY = `query RoomPage($room: String!, $first: Int!) {
  room(name: $room) {
    name topic visibility createdAt lastSeq memberCount onlineCount slowModeSeconds
    members { id name role joinedAt mutedUntil }
    online { id name }
    messages(first: $first) {
      pageInfo { hasNextPage }
      edges { node {
        id author { id name } text at editedAt replyTo deleted redacted
        reactions { emoji count members { name } }
      } }
    }
  }
}`;

/** The REST calls of the page, as paths under the API. */
export function restPaths(room: string): { info: string; members: string; messages: string } {
  const base = `/api/rooms/${encodeURIComponent(room)}`;
  return {
    info: base,
    members: `${base}/members`,
    messages: `${base}/messages?limit=${PAGE_MESSAGES}`,
  };
}

/**
 * The page from REST's answers, joined as a client must: a reaction's user ids are named from
 * the member list (those who left are counted but not named, as GraphQL's Reaction.members).
 */
export function pageFromRest(info: RoomInfo, list: MemberList, page: MessagesPage): RoomPage {
  const names = new Map(list.members.map((m) => [m.id, m.name]));
  const memberOrder = new Map(list.members.map((m, i) => [m.id, i]));
  return {
    room: {
      name: info.name,
      topic: info.topic,
      visibility: info.visibility,
      createdAt: info.createdAt,
      lastSeq: info.lastSeq,
      memberCount: info.members,
      onlineCount: info.online,
      slowModeSeconds: info.slowModeSeconds ?? 0,
    },
    members: list.members.map((m) => ({
      id: m.id,
      name: m.name,
      role: m.role,
      joinedAt: m.joinedAt,
      mutedUntil: m.mutedUntil ?? null,
    })),
    online: list.online.map((u) => ({ id: u.id, name: u.name })),
    messages: page.messages.map((m) => ({
      ...shownFields(m),
      reactions: Object.entries(m.reactions).map(([emoji, ids]) => ({
        emoji,
        count: ids.length,
        reactors: ids
          .filter((id) => names.has(id))
          .sort((a, b) => memberOrder.get(a)! - memberOrder.get(b)!)
          .map((id) => names.get(id)!),
      })),
    })),
    hasOlder: page.nextBefore !== null,
  };
}

/** The answer of ROOM_PAGE_QUERY, as far as the page reads it. */
export type RoomPageAnswer = {
  data?: {
    room: RoomPage["room"] & {
      members: RoomPage["members"];
      online: RoomPage["online"];
      messages: {
        pageInfo: { hasNextPage: boolean };
        edges: {
          node: Omit<RoomPage["messages"][number], "reactions"> & {
            reactions: { emoji: string; count: number; members: { name: string }[] }[];
          };
        }[];
      };
    };
  };
  errors?: { message: string; extensions?: { code?: string } }[];
};

/** The page from GraphQL's answer; an answer with errors or without data is refused. */
export function pageFromGraphql(answer: RoomPageAnswer): RoomPage {
  if (answer.errors?.length || !answer.data)
    throw new Error(`GraphQL answered errors: ${JSON.stringify(answer.errors)}`);
  const { members, online, messages, ...room } = answer.data.room;
  return {
    room,
    members,
    online,
    messages: messages.edges.map(({ node }) => ({
      ...node,
      reactions: node.reactions.map((r) => ({
        emoji: r.emoji,
        count: r.count,
        reactors: r.members.map((m) => m.name),
      })),
    })),
    hasOlder: messages.pageInfo.hasNextPage,
  };
}

/** A REST message's own fields as a client shows them, absent ones made explicit. */
export const shownFields = (m: MessagesPage["messages"][number]) => ({
  id: m.id,
  author: { id: m.author.id, name: m.author.name },
  text: m.text,
  at: m.at,
  editedAt: m.editedAt ?? null,
  replyTo: m.replyTo ?? null,
  deleted: m.deleted === true,
  redacted: m.redacted === true,
});
