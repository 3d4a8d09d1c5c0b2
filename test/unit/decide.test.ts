import { describe, expect, it } from "vitest";
import type { Command, UserRef } from "../../src/protocol/index.ts";
import { canSee, decide, decideCreate, decideJoin, type RoomView } from "../../src/room/decide.ts";

const ada: UserRef = { id: "g_ada", name: "ada" };
const bob: UserRef = { id: "g_bob", name: "bob" };

/** A room held in memory: the rules only see the RoomView interface. */
function view(state: {
  visibility?: "public" | "private";
  members?: string[];
  messages?: Record<number, { authorId: string; deleted?: boolean }>;
  reactions?: string[];
}): RoomView {
  return {
    visibility: state.visibility ?? "public",
    createdBy: ada.id,
    isMember: (id) => (state.members ?? [ada.id]).includes(id),
    message: (id) => {
      const m = state.messages?.[id];
      return m && { authorId: m.authorId, deleted: m.deleted ?? false };
    },
    hasReaction: (messageId, emoji, userId) =>
      (state.reactions ?? []).includes(`${messageId}:${emoji}:${userId}`),
  };
}

const post = (text: string, extra: Partial<Extract<Command, { type: "post" }>> = {}): Command => ({
  type: "post",
  clientId: "c1",
  text,
  ...extra,
});

describe("decideCreate", () => {
  it("creates the room and makes its creator a member", () => {
    const decision = decideCreate({ name: "lobby", topic: "", visibility: "public" }, false);
    expect(decision).toEqual({
      ok: true,
      events: [
        { type: "room.created", data: { name: "lobby", topic: "", visibility: "public" } },
        { type: "member.joined", data: {} },
      ],
    });
  });

  it("refuses a room that exists with conflict", () => {
    expect(decideCreate({ name: "lobby", topic: "", visibility: "public" }, true)).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
  });
});

describe("visibility and joining", () => {
  it("hides a private room from non-members", () => {
    expect(canSee(view({ visibility: "private" }), bob.id)).toBe(false);
    expect(canSee(view({ visibility: "private" }), ada.id)).toBe(true);
    expect(decideJoin(view({ visibility: "private" }), bob)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(decide(post("hi"), bob, view({ visibility: "private" }))).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });

  it("joins once: a member joining again logs nothing", () => {
    expect(decideJoin(view({}), bob)).toEqual({
      ok: true,
      events: [{ type: "member.joined", data: {} }],
    });
    expect(decideJoin(view({}), ada)).toEqual({ ok: true, events: [] });
  });

  it("makes a non-member's first command join them first", () => {
    const decision = decide(post("hi"), bob, view({}));
    expect(decision).toEqual({
      ok: true,
      events: [
        { type: "member.joined", data: {} },
        { type: "message.posted", data: { text: "hi" } },
      ],
    });
  });

  it("leaves a member, and leaving twice is a no-op", () => {
    expect(decide({ type: "leave", clientId: "c" }, ada, view({}))).toEqual({
      ok: true,
      events: [{ type: "member.left", data: {} }],
    });
    expect(decide({ type: "leave", clientId: "c" }, bob, view({}))).toEqual({
      ok: true,
      events: [],
    });
  });
});

describe("messages", () => {
  const room = view({
    members: [ada.id, bob.id],
    messages: { 3: { authorId: ada.id }, 4: { authorId: bob.id, deleted: true } },
  });

  it("posts, with a reply to a live message only", () => {
    expect(decide(post("re", { replyTo: 3 }), bob, room)).toEqual({
      ok: true,
      events: [{ type: "message.posted", data: { text: "re", replyTo: 3 } }],
    });
    expect(decide(post("re", { replyTo: 4 }), bob, room)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(decide(post("re", { replyTo: 99 }), bob, room)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });

  it("lets only the author edit or delete", () => {
    const edit: Command = { type: "edit", clientId: "e", messageId: 3, text: "fixed" };
    const del: Command = { type: "delete", clientId: "d", messageId: 3 };
    expect(decide(edit, ada, room)).toEqual({
      ok: true,
      events: [{ type: "message.edited", data: { messageId: 3, text: "fixed" } }],
    });
    expect(decide(del, ada, room)).toEqual({
      ok: true,
      events: [{ type: "message.deleted", data: { messageId: 3 } }],
    });
    expect(decide(edit, bob, room)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(decide(del, bob, room)).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("treats a deleted or unknown message as not found", () => {
    expect(
      decide({ type: "edit", clientId: "e", messageId: 4, text: "x" }, bob, room),
    ).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(decide({ type: "delete", clientId: "d", messageId: 99 }, ada, room)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });
});

describe("reactions", () => {
  const room = view({
    members: [ada.id, bob.id],
    messages: { 3: { authorId: ada.id } },
    reactions: ["3:👍:g_bob"],
  });
  const react = (emoji: string, on: boolean): Command => ({
    type: "react",
    clientId: "r",
    messageId: 3,
    emoji,
    on,
  });

  it("adds and removes", () => {
    expect(decide(react("🎉", true), bob, room)).toEqual({
      ok: true,
      events: [{ type: "reaction.added", data: { messageId: 3, emoji: "🎉" } }],
    });
    expect(decide(react("👍", false), bob, room)).toEqual({
      ok: true,
      events: [{ type: "reaction.removed", data: { messageId: 3, emoji: "👍" } }],
    });
  });

  it("is a no-op when the reaction is already as asked", () => {
    expect(decide(react("👍", true), bob, room)).toEqual({ ok: true, events: [] });
    expect(decide(react("🎉", false), bob, room)).toEqual({ ok: true, events: [] });
  });

  it("refuses a reaction on a missing message", () => {
    expect(
      decide({ type: "react", clientId: "r", messageId: 7, emoji: "👍", on: true }, bob, room),
    ).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("topic", () => {
  it("is changed by the room's creator only", () => {
    const topic: Command = { type: "topic", clientId: "t", topic: "news" };
    expect(decide(topic, ada, view({}))).toEqual({
      ok: true,
      events: [{ type: "room.topic_changed", data: { topic: "news" } }],
    });
    expect(decide(topic, bob, view({ members: [ada.id, bob.id] }))).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
  });
});
