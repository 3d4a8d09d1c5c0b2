import { describe, expect, it } from "vitest";
import {
  pageFromGraphql,
  pageFromRest,
  restPaths,
  type RoomPageAnswer,
} from "../../bench/graphql/page.ts";
import type { MemberList, MessagesPage, RoomInfo } from "../../src/protocol/index.ts";

/**
 * The benchmark's room page (bench/graphql/page.ts): REST's three answers and GraphQL's one
 * must come to the same page when the server gives the same data, and differ when it does not,
 * or the bench's check before measuring would compare unlike things.
 */
const info: RoomInfo = {
  name: "general",
  topic: "t",
  visibility: "public",
  createdAt: 1000,
  lastSeq: 42,
  members: 3,
  online: 1,
};
const members: MemberList = {
  members: [
    { id: "u1", name: "ada", role: "owner", joinedAt: 1001 },
    { id: "u2", name: "grace", role: "moderator", joinedAt: 1002 },
    { id: "u3", name: "linus", role: "member", joinedAt: 1003, mutedUntil: 9999 },
  ],
  online: [{ id: "u2", name: "grace" }],
};
const messages: MessagesPage = {
  messages: [
    {
      id: 40,
      author: { id: "u3", name: "linus" },
      text: "hi",
      at: 2000,
      editedAt: 2100,
      replyTo: 39,
      // u9 left the room: counted, not named; the names follow the member list's order.
      reactions: { "👍": ["u3", "u9", "u1"], "🎉": ["u2"] },
    },
    { id: 39, author: { id: "u1", name: "ada" }, text: "", at: 1900, reactions: {}, deleted: true },
  ],
  nextBefore: 39,
};

const answer = (): RoomPageAnswer => ({
  data: {
    room: {
      name: "general",
      topic: "t",
      visibility: "public",
      createdAt: 1000,
      lastSeq: 42,
      memberCount: 3,
      onlineCount: 1,
      slowModeSeconds: 0,
      members: [
        { id: "u1", name: "ada", role: "owner", joinedAt: 1001, mutedUntil: null },
        { id: "u2", name: "grace", role: "moderator", joinedAt: 1002, mutedUntil: null },
        { id: "u3", name: "linus", role: "member", joinedAt: 1003, mutedUntil: 9999 },
      ],
      online: [{ id: "u2", name: "grace" }],
      messages: {
        pageInfo: { hasNextPage: true },
        edges: [
          {
            node: {
              id: 40,
              author: { id: "u3", name: "linus" },
              text: "hi",
              at: 2000,
              editedAt: 2100,
              replyTo: 39,
              deleted: false,
              redacted: false,
              reactions: [
                { emoji: "👍", count: 3, members: [{ name: "ada" }, { name: "linus" }] },
                { emoji: "🎉", count: 1, members: [{ name: "grace" }] },
              ],
            },
          },
          {
            node: {
              id: 39,
              author: { id: "u1", name: "ada" },
              text: "",
              at: 1900,
              editedAt: null,
              replyTo: null,
              deleted: true,
              redacted: false,
              reactions: [],
            },
          },
        ],
      },
    },
  },
});

describe("the benchmark's room page", () => {
  it("is the same page from REST's three answers and GraphQL's one", () => {
    const rest = pageFromRest(info, members, messages);
    expect(pageFromGraphql(answer())).toStrictEqual(rest);
    expect(rest.messages[0]!.reactions[0]).toEqual({
      emoji: "👍",
      count: 3,
      reactors: ["ada", "linus"],
    });
    expect(rest.hasOlder).toBe(true);
  });

  it("tells a different page apart", () => {
    const changed = answer();
    changed.data!.room.messages.edges[0]!.node.reactions[0]!.count = 2;
    expect(pageFromGraphql(changed)).not.toStrictEqual(pageFromRest(info, members, messages));
    const nobody = answer();
    nobody.data!.room.online = [];
    expect(pageFromGraphql(nobody)).not.toStrictEqual(pageFromRest(info, members, messages));
    const older = answer();
    older.data!.room.messages.pageInfo.hasNextPage = false;
    expect(pageFromGraphql(older)).not.toStrictEqual(pageFromRest(info, members, messages));
  });

  it("refuses an answer with errors", () => {
    expect(() =>
      pageFromGraphql({ errors: [{ message: "no", extensions: { code: "not_found" } }] }),
    ).toThrow(/not_found/);
  });

  it("asks REST for the room, its members and its 20 newest messages", () => {
    expect(restPaths("general")).toEqual({
      info: "/api/rooms/general",
      members: "/api/rooms/general/members",
      messages: "/api/rooms/general/messages?limit=20",
    });
  });
});
