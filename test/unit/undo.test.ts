import { describe, expect, it } from "vitest";
import type { Actor } from "../../src/identity/actor.ts";
import type { RoomView, UndoableEvent } from "../../src/room/room-view.ts";
import { compensate, decideUndoRedo, reapply } from "../../src/room/undo.ts";

const NOW = 1_800_000_000_000;
const ada: Actor = { id: "u_ada", name: "ada", kind: "user" };
const mo: Actor = { id: "u_mo", name: "mo", kind: "user" };

type Msg = { authorId: string; deleted?: boolean; redacted?: boolean; texts: [number, string][] };

/** A room in memory: messages with their text history (seq, text), reactions, the stacks. */
function view(state: {
  messages: Record<number, Msg>;
  reactions?: string[];
  undo?: UndoableEvent;
  redo?: UndoableEvent;
  muted?: number;
  roles?: Record<string, "owner" | "moderator" | "member">;
}): RoomView {
  return {
    name: "lobby",
    visibility: "public",
    slowModeSeconds: 0,
    ownerId: ada.id,
    role: (id) => state.roles?.[id] ?? "member",
    isBanned: () => false,
    mutedUntil: () => state.muted ?? 0,
    lastPostAt: () => 0,
    message: (id) => {
      const m = state.messages[id];
      return m && { authorId: m.authorId, deleted: !!m.deleted, redacted: !!m.redacted };
    },
    textBefore: (id, seq) => state.messages[id]?.texts.filter(([at]) => at < seq).at(-1)?.[1],
    lastAction: () => state.undo,
    lastUndone: () => state.redo,
    hasReaction: (m, e, u) => (state.reactions ?? []).includes(`${m}:${e}:${u}`),
    invitesSince: () => ({ count: 0, oldestAt: 0 }),
    inviteLimit: { count: 1, windowMs: 1 },
    // No rules: their undo is tested in rules-log.test.ts.
    rule: () => undefined,
    ruleCount: () => 0,
    ruleBefore: () => undefined,
    pluginEnabled: () => false,
    postableUpload: () => undefined,
  };
}

const event = <T extends UndoableEvent["type"]>(
  type: T,
  seq: number,
  data: Extract<UndoableEvent, { type: T }>["data"],
  actor = ada,
) => ({ seq, id: `e${seq}`, type, at: NOW, actor, data }) as Extract<UndoableEvent, { type: T }>;

describe("undo", () => {
  it("compensates each kind of action with the event that takes it back", () => {
    const live = view({
      messages: {
        3: {
          authorId: ada.id,
          texts: [
            [3, "one"],
            [5, "two"],
          ],
        },
      },
      reactions: ["3:👍:u_ada"],
    });
    expect(compensate(event("message.posted", 3, { text: "one" }), ada, live)).toEqual({
      ok: true,
      event: { type: "message.deleted", data: { messageId: 3, undoes: 3 } },
    });
    expect(
      compensate(event("message.edited", 5, { messageId: 3, text: "two" }), ada, live),
    ).toEqual({
      ok: true,
      event: { type: "message.edited", data: { messageId: 3, text: "one", undoes: 5 } },
    });
    expect(
      compensate(event("reaction.added", 6, { messageId: 3, emoji: "👍" }), ada, live),
    ).toEqual({
      ok: true,
      event: { type: "reaction.removed", data: { messageId: 3, emoji: "👍", undoes: 6 } },
    });
    const deleted = view({
      messages: {
        3: {
          authorId: ada.id,
          deleted: true,
          texts: [
            [3, "one"],
            [5, "two"],
          ],
        },
      },
    });
    expect(compensate(event("message.deleted", 7, { messageId: 3 }), ada, deleted)).toEqual({
      ok: true,
      event: { type: "message.restored", data: { messageId: 3, text: "two", undoes: 7 } },
    });
  });

  it("refuses what changed since, what was redacted, and someone else's message without the power", () => {
    const deletedByOther = view({
      messages: { 3: { authorId: ada.id, deleted: true, texts: [[3, "x"]] } },
    });
    expect(
      compensate(event("message.posted", 3, { text: "x" }), ada, deletedByOther),
    ).toMatchObject({
      ok: false,
      error: { code: "conflict", message: "message 3 was deleted since" },
    });
    const redacted = view({
      messages: { 3: { authorId: ada.id, redacted: true, texts: [[3, ""]] } },
    });
    expect(compensate(event("message.posted", 3, { text: "" }), ada, redacted)).toMatchObject({
      ok: false,
      error: { code: "conflict", message: /redacted/ },
    });
    const bobs = {
      3: { authorId: "u_bob", deleted: true, texts: [[3, "hi"]] as [number, string][] },
    };
    const undoDelete = event("message.deleted", 4, { messageId: 3 }, mo);
    expect(compensate(undoDelete, mo, view({ messages: bobs }))).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect(
      compensate(undoDelete, mo, view({ messages: bobs, roles: { u_mo: "moderator" } })),
    ).toMatchObject({
      ok: true,
      event: { type: "message.restored", data: { messageId: 3, text: "hi", undoes: 4 } },
    });
    const changed = view({ messages: { 3: { authorId: ada.id, texts: [[3, "x"]] } } }); // reaction gone
    expect(
      compensate(event("reaction.added", 5, { messageId: 3, emoji: "👍" }), ada, changed),
    ).toMatchObject({
      ok: false,
      error: { code: "conflict" },
    });
  });

  it("has nothing to undo or redo on empty stacks, and lets a muted user only take things away", () => {
    const empty = view({ messages: {} });
    expect(decideUndoRedo("undo", ada, empty, NOW)).toMatchObject({
      ok: false,
      error: { code: "conflict", message: /nothing/ },
    });
    expect(decideUndoRedo("redo", ada, empty, NOW)).toMatchObject({
      ok: false,
      error: { code: "conflict", message: /nothing/ },
    });
    const messages = { 3: { authorId: ada.id, texts: [[3, "x"]] as [number, string][] } };
    const muted = { messages, muted: NOW + 1000 };
    expect(
      decideUndoRedo(
        "undo",
        ada,
        view({ ...muted, undo: event("message.posted", 3, { text: "x" }) }),
        NOW,
      ),
    ).toMatchObject({
      ok: true,
      event: { type: "message.deleted" },
    });
    expect(
      decideUndoRedo(
        "undo",
        ada,
        view({ ...muted, undo: event("reaction.removed", 4, { messageId: 3, emoji: "👍" }) }),
        NOW,
      ),
    ).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });
});

describe("redo", () => {
  it("applies the undone action again with a redoes mark", () => {
    const deleted = view({
      messages: {
        3: {
          authorId: ada.id,
          deleted: true,
          texts: [
            [3, "one"],
            [5, "two"],
          ],
        },
      },
    });
    expect(reapply(event("message.posted", 3, { text: "one" }), ada, deleted)).toEqual({
      ok: true,
      event: { type: "message.restored", data: { messageId: 3, text: "two", redoes: 3 } },
    });
    const live = view({ messages: { 3: { authorId: ada.id, texts: [[3, "one"]] } } });
    expect(reapply(event("message.edited", 5, { messageId: 3, text: "two" }), ada, live)).toEqual({
      ok: true,
      event: { type: "message.edited", data: { messageId: 3, text: "two", redoes: 5 } },
    });
    expect(reapply(event("message.deleted", 6, { messageId: 3 }), ada, live)).toEqual({
      ok: true,
      event: { type: "message.deleted", data: { messageId: 3, redoes: 6 } },
    });
    expect(reapply(event("reaction.added", 7, { messageId: 3, emoji: "🎉" }), ada, live)).toEqual({
      ok: true,
      event: { type: "reaction.added", data: { messageId: 3, emoji: "🎉", redoes: 7 } },
    });
  });
});
