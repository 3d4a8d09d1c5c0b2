import { describe, expect, it } from "vitest";
import {
  RoomEvent,
  type EventType,
  type Message,
  type MessagesPage,
} from "../../src/client/index.ts";
import {
  canCompose,
  initialChatState,
  reconnecting,
  reduce,
  type ChatAction,
  type ChatEffect,
  type ChatState,
  type Seen,
} from "../../src/web/chat-state.ts";

const ADA = { id: "ada", name: "ada" };
const BOB = { id: "bob", name: "bob" };
const LOOKING: Seen = { visible: true, atBottom: true };
const AWAY: Seen = { visible: false, atBottom: false };

/** A room event, built through the protocol's schema. */
function event(seq: number, type: EventType, data: object, actor = BOB): RoomEvent {
  return RoomEvent.parse({ seq, id: `e${seq}`, type, at: 1000 + seq, actor, data });
}
const posted = (seq: number, text: string, actor = BOB) =>
  event(seq, "message.posted", { text }, actor);
const message = (id: number, text: string, author = BOB): Message => ({
  id,
  author,
  text,
  at: 1000 + id,
  reactions: {},
});
const page = (messages: Message[], nextBefore: number | null = null): MessagesPage => ({
  messages,
  nextBefore,
});

/** Runs actions from `state`, collecting every effect in order. */
function play(
  state: ChatState,
  ...actions: ChatAction[]
): { state: ChatState; effects: ChatEffect[] } {
  const effects: ChatEffect[] = [];
  for (const action of actions) {
    const next = reduce(state, action);
    state = next.state;
    effects.push(...next.effects);
  }
  return { state, effects };
}
const texts = (state: ChatState) => [...state.timeline.messages.values()].map((m) => m.text);
const kinds = (effects: ChatEffect[]) => effects.map((e) => e.kind);

/** The room found, its newest page asked for, and ada welcomed with her read marker at `readSeq`. */
function opened(readSeq = 0): ChatState {
  return play(
    initialChatState,
    { type: "room-found", topic: "hi", slowModeSeconds: 0 },
    { type: "status", status: "open" },
    { type: "welcome", you: ADA, online: [ADA], readSeq },
  ).state;
}

describe("chat state: history and live events", () => {
  it("asks for the newest page when the room is found, and lets the compose box work", () => {
    const { state, effects } = play(initialChatState, {
      type: "room-found",
      topic: "Say hi",
      slowModeSeconds: 30,
    });
    expect(effects).toEqual([{ kind: "fetch", generation: 0, before: undefined }]);
    expect(state).toMatchObject({ topic: "Say hi", slowModeSeconds: 30, loading: 1 });
    expect(canCompose(initialChatState)).toBe(false);
    expect(canCompose(state)).toBe(true);
  });

  it("holds live events while a page loads, then replays them after it, in order, once each", () => {
    let { state, effects } = play(
      opened(),
      { type: "event", event: posted(2, "two"), seen: LOOKING },
      {
        type: "event",
        event: event(3, "message.edited", { messageId: 1, text: "one, edited" }),
        seen: LOOKING,
      },
      { type: "event", event: posted(4, "four"), seen: LOOKING },
    );
    expect(state.buffered.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(state.timeline.messages.size).toBe(0);
    expect(effects).toEqual([]);

    // The page already holds message 2: the replay neither doubles it nor loses the edit of 1.
    ({ state, effects } = play(
      state,
      {
        type: "page",
        generation: 0,
        page: page([message(1, "one"), message(2, "two")]),
        older: false,
      },
      { type: "load-ended", generation: 0, seen: LOOKING },
    ));
    expect(texts(state)).toEqual(["one, edited", "two", "four"]);
    expect(state.timeline.messages.get(1)?.editedAt).toBe(1003);
    expect(state.buffered).toEqual([]);
    expect(state.loading).toBe(0);
    expect(effects).toEqual([
      { kind: "scroll-to-bottom" },
      { kind: "stop-typing", userId: "bob" },
      { kind: "scroll-to-bottom" },
      { kind: "check-read" },
    ]);

    // Live now: applied at once.
    ({ state } = play(state, { type: "event", event: posted(5, "five"), seen: LOOKING }));
    expect(texts(state)).toEqual(["one, edited", "two", "four", "five"]);
  });

  it("starts over after a gap: drops the old page and notices, replays what waited on the new one", () => {
    let { state } = play(
      opened(),
      { type: "page", generation: 0, page: page([message(1, "one")]), older: false },
      { type: "load-ended", generation: 0, seen: LOOKING },
      { type: "event", event: event(2, "member.joined", {}, BOB), seen: LOOKING },
    );
    expect(state.notices.size).toBe(1);
    let effects: ChatEffect[];
    ({ state, effects } = play(
      state,
      { type: "gap" },
      { type: "event", event: posted(1502, "after the gap"), seen: LOOKING },
      // The page of the first generation lands late: dropped.
      { type: "page", generation: 0, page: page([message(1, "stale")]), older: false },
    ));
    expect(effects[0]).toEqual({ kind: "fetch", generation: 1, before: undefined });
    expect(texts(state)).toEqual([]);
    expect(state.notices.size).toBe(0);
    ({ state } = play(
      state,
      { type: "page", generation: 1, page: page([message(1501, "newest")], 1501), older: false },
      { type: "load-ended", generation: 1, seen: LOOKING },
    ));
    expect(texts(state)).toEqual(["newest", "after the gap"]);
  });

  it("pages older history only when there is some and nothing else loads, keeping the place", () => {
    let { state } = play(
      opened(),
      { type: "page", generation: 0, page: page([message(60, "m60")], 60), older: false },
      { type: "older" }, // the first load is still in flight
    );
    expect(state.loading).toBe(1);
    let effects: ChatEffect[];
    ({ state, effects } = play(
      state,
      { type: "load-ended", generation: 0, seen: LOOKING },
      { type: "older" },
    ));
    expect(effects.at(-1)).toEqual({ kind: "fetch", generation: 0, before: 60 });
    expect(state.history).toEqual({ hasOlder: true, loading: true, beginning: false });
    ({ state, effects } = play(state, {
      type: "page",
      generation: 0,
      page: page([message(59, "m59")], null),
      older: true,
    }));
    expect(effects).toEqual([{ kind: "keep-place" }]);
    expect(texts(state)).toEqual(["m60", "m59"]);
    ({ state } = play(state, { type: "load-ended", generation: 0, seen: LOOKING }));
    expect(play(state, { type: "older" }).effects).toEqual([]);
  });

  it("draws the top of the list as loads start and end, not as live events come", () => {
    const loading = opened();
    expect(loading.history).toEqual({ hasOlder: false, loading: true, beginning: false });
    // An empty room: its first events wait for the page, and there is no beginning to show yet.
    let { state } = play(
      loading,
      { type: "event", event: event(2, "member.joined", {}, ADA), seen: LOOKING },
      { type: "page", generation: 0, page: page([]), older: false },
      { type: "load-ended", generation: 0, seen: LOOKING },
    );
    expect(state.notices.size).toBe(1);
    expect(state.history).toEqual({ hasOlder: false, loading: false, beginning: false });
    ({ state } = play(state, { type: "event", event: posted(3, "first"), seen: LOOKING }));
    expect(state.history.beginning).toBe(false);

    // A room with all its history in one page shows where it begins.
    ({ state } = play(
      opened(),
      { type: "page", generation: 0, page: page([message(1, "one")]), older: false },
      { type: "load-ended", generation: 0, seen: LOOKING },
    ));
    expect(state.history).toEqual({ hasOlder: false, loading: false, beginning: true });
  });

  it("shows why a page failed, and clears it when one loads", () => {
    let { state } = play(opened(), { type: "page-failed", generation: 0, message: "offline" });
    expect(state.error).toBe("Could not load messages: offline");
    ({ state } = play(state, { type: "page", generation: 0, page: page([]), older: false }));
    expect(state.error).toBeUndefined();
  });
});

describe("chat state: pending posts", () => {
  const live = () =>
    play(
      opened(),
      { type: "page", generation: 0, page: page([]), older: false },
      { type: "load-ended", generation: 0, seen: LOOKING },
    ).state;

  it("keeps an acked post until its event shows the message", () => {
    let { state, effects } = play(live(), { type: "sending", id: 1, text: "hello" });
    expect(state.pending).toEqual([{ id: 1, text: "hello" }]);
    expect(effects).toEqual([{ kind: "scroll-to-bottom" }]);
    ({ state } = play(state, { type: "acked", id: 1, seq: 7 }));
    expect(state.pending).toEqual([{ id: 1, text: "hello", seq: 7 }]);
    ({ state, effects } = play(state, {
      type: "event",
      event: posted(7, "hello", ADA),
      seen: AWAY,
    }));
    expect(state.pending).toEqual([]);
    expect(texts(state)).toEqual(["hello"]);
    // Your own message scrolls to it even when you had scrolled away.
    expect(kinds(effects)).toContain("scroll-to-bottom");
  });

  it("drops a post at once when its message came before the ack", () => {
    const { state } = play(
      live(),
      { type: "sending", id: 1, text: "quick" },
      { type: "event", event: posted(3, "quick", ADA), seen: LOOKING },
      { type: "acked", id: 1, seq: 3 },
    );
    expect(state.pending).toEqual([]);
  });

  it("marks a refused post, which goes when dismissed", () => {
    let { state } = play(
      live(),
      { type: "sending", id: 1, text: "a" },
      { type: "sending", id: 2, text: "b" },
      { type: "refused", id: 1, message: "you are muted" },
    );
    expect(state.pending).toEqual([
      { id: 1, text: "a", error: "you are muted" },
      { id: 2, text: "b" },
    ]);
    ({ state } = play(state, { type: "dismissed", id: 1 }));
    expect(state.pending.map((p) => p.id)).toEqual([2]);
  });
});

describe("chat state: notices, members and the header", () => {
  const live = (you = ADA) =>
    play(
      initialChatState,
      { type: "room-found", topic: "", slowModeSeconds: undefined },
      { type: "welcome", you, online: [you], readSeq: 0 },
      {
        type: "members",
        members: [
          { id: "ada", name: "ada", role: "owner", joinedAt: 1 },
          { id: "bob", name: "bob", role: "member", joinedAt: 2 },
        ],
      },
      { type: "page", generation: 0, page: page([]), older: false },
      { type: "load-ended", generation: 0, seen: LOOKING },
    ).state;
  const notices = (state: ChatState) => [...state.notices.values()].map((n) => n.text);

  it("names a banned member in the notice and reloads the members after moderation only", () => {
    const { state, effects } = play(
      live(),
      {
        type: "event",
        event: event(2, "member.joined", {}, { id: "cy", name: "cy" }),
        seen: LOOKING,
      },
      { type: "event", event: event(3, "member.banned", { userId: "bob" }, ADA), seen: LOOKING },
    );
    expect(notices(state)).toEqual(["cy joined", "ada banned bob"]);
    expect(kinds(effects).filter((k) => k === "reload-members")).toHaveLength(1);
    expect(state.members.people.has("bob")).toBe(false);
  });

  it("changes the topic and slow mode, each with a notice", () => {
    const { state } = play(
      live(),
      {
        type: "event",
        event: event(2, "room.topic_changed", { topic: "new" }, ADA),
        seen: LOOKING,
      },
      {
        type: "event",
        event: event(3, "room.slow_mode_changed", { seconds: 30 }, ADA),
        seen: LOOKING,
      },
      {
        type: "event",
        event: event(4, "room.slow_mode_changed", { seconds: 0 }, ADA),
        seen: LOOKING,
      },
    );
    expect(state.topic).toBe("new");
    expect(state.slowModeSeconds).toBe(0);
    expect(notices(state)).toEqual([
      "ada changed the topic",
      "ada turned on slow mode: one message every 30 s",
      "ada turned off slow mode",
    ]);
  });

  it("shows a line for each rule and plugin change, and reloads nothing", () => {
    const rule = {
      id: "rl_00000000000000a1",
      name: "Incident",
      enabled: true,
      trigger: { on: "member_joined" as const },
      conditions: {},
      actions: [{ do: "post" as const, text: "welcome {user}" }],
    };
    const { state, effects } = play(
      live(),
      { type: "event", event: event(2, "rule.saved", { rule }, ADA), seen: LOOKING },
      {
        type: "event",
        event: event(3, "rule.deleted", { ruleId: rule.id, name: "Incident" }, ADA),
        seen: LOOKING,
      },
      { type: "event", event: event(4, "plugin.enabled", { plugin: "poll" }, ADA), seen: LOOKING },
      { type: "event", event: event(5, "plugin.disabled", { plugin: "poll" }, ADA), seen: LOOKING },
    );
    expect(notices(state)).toEqual([
      "ada saved rule Incident",
      "ada deleted rule Incident",
      "ada turned on plugin poll",
      "ada turned off plugin poll",
    ]);
    expect(kinds(effects)).not.toContain("reload-members");
    expect(state.timeline.messages.size).toBe(0);
  });

  it("stops someone's typing when they post or leave", () => {
    const posted5 = play(live(), { type: "event", event: posted(5, "hey"), seen: AWAY });
    expect(posted5.effects).toContainEqual({ kind: "stop-typing", userId: "bob" });
    expect(kinds(posted5.effects)).not.toContain("scroll-to-bottom");
    const left = play(live(), {
      type: "presence",
      frame: { type: "presence", left: { id: "bob" } },
    });
    expect(left.effects).toEqual([{ kind: "stop-typing", userId: "bob" }]);
  });
});

describe("chat state: the unread divider and read markers", () => {
  it("puts the divider before the first message by someone else after your read marker", () => {
    const { state } = play(
      opened(1),
      {
        type: "page",
        generation: 0,
        page: page([
          message(1, "read"),
          message(2, "mine", ADA),
          message(3, "new"),
          message(4, "newer"),
        ]),
        older: false,
      },
      { type: "load-ended", generation: 0, seen: LOOKING },
    );
    expect(state.dividerAt).toBe(3);
  });

  it("puts it before a message that comes while the page is hidden, once", () => {
    const base = play(
      opened(9),
      { type: "page", generation: 0, page: page([message(9, "old")]), older: false },
      { type: "load-ended", generation: 0, seen: LOOKING },
    ).state;
    expect(base.dividerAt).toBeUndefined();
    expect(
      play(base, { type: "event", event: posted(10, "seen"), seen: LOOKING }).state.dividerAt,
    ).toBeUndefined();
    const { state } = play(
      base,
      { type: "event", event: posted(10, "while away"), seen: AWAY },
      { type: "event", event: posted(11, "later"), seen: AWAY },
    );
    expect(state.dividerAt).toBe(10);
  });

  it("sends each read marker once, only when the newest is in view", () => {
    const state = opened();
    expect(play(initialChatState, { type: "seen", seen: LOOKING, lastSeq: 3 }).effects).toEqual([]);
    expect(play(state, { type: "seen", seen: AWAY, lastSeq: 3 }).effects).toEqual([]);
    expect(
      play(state, { type: "seen", seen: { visible: true, atBottom: false }, lastSeq: 3 }).effects,
    ).toEqual([]);
    const { effects } = play(
      state,
      { type: "seen", seen: LOOKING, lastSeq: 3 },
      { type: "seen", seen: LOOKING, lastSeq: 3 },
      { type: "seen", seen: LOOKING, lastSeq: 4 },
    );
    expect(effects).toEqual([
      { kind: "send-read", seq: 3 },
      { kind: "send-read", seq: 4 },
    ]);
  });
});

describe("chat state: the connection", () => {
  it("shows the banner only when a connection that was open is lost", () => {
    const connecting = play(initialChatState, {
      type: "room-found",
      topic: "",
      slowModeSeconds: 0,
    });
    expect(reconnecting(connecting.state)).toBe(false);
    const dropped = play(
      connecting.state,
      { type: "status", status: "open" },
      { type: "status", status: "reconnecting" },
    );
    expect(reconnecting(dropped.state)).toBe(true);
    expect(reconnecting(play(dropped.state, { type: "status", status: "open" }).state)).toBe(false);
  });

  it("renews the session on a refused token, taking no text meanwhile", () => {
    expect(canCompose(opened())).toBe(true);
    for (const code of ["unauthorized", "4401"]) {
      const renewing = play(opened(), { type: "fatal", code, message: "" });
      expect(renewing.effects).toEqual([{ kind: "reauth" }]);
      // A message typed into this view would go to a closed socket and be lost.
      expect(canCompose(renewing.state)).toBe(false);
    }
  });

  it("goes back to the list when removed, quietly when you left yourself", () => {
    expect(play(opened(), { type: "fatal", code: "4403", message: "banned" }).effects).toEqual([
      { kind: "forget-room" },
      { kind: "removed", reason: "banned" },
    ]);
    const leaving = play(
      opened(),
      { type: "leaving" },
      { type: "fatal", code: "4403", message: "" },
    );
    expect(leaving.effects).toEqual([{ kind: "forget-room" }]);
    const refused = play(
      opened(),
      { type: "leaving" },
      { type: "leave-refused" },
      { type: "fatal", code: "4403", message: "" },
    );
    expect(kinds(refused.effects)).toEqual(["forget-room", "removed"]);
  });

  it("stops for good on any other fatal close, and when the room cannot be opened", () => {
    const { state } = play(
      opened(),
      { type: "status", status: "reconnecting" },
      { type: "fatal", code: "not_found", message: "no such room" },
    );
    expect(state.fatal).toEqual({
      prefix: "You were disconnected from this room: ",
      message: "no such room",
    });
    expect(reconnecting(state)).toBe(false);
    expect(canCompose(state)).toBe(false);
    const refused = play(initialChatState, { type: "room-refused", message: "no such room" });
    expect(refused.state.fatal?.prefix).toBe("Cannot open this room: ");
    expect(refused.effects).toEqual([{ kind: "forget-room" }]);
  });
});

describe("the room log's verdict in words", () => {
  it("says intact with the head and anchor, or where it broke", async () => {
    const { chainVerdictText } = await import("../../src/web/chain-verdict.ts");
    expect(
      chainVerdictText({ ok: true, lastSeq: 12, head: "ab".repeat(32), anchoredSeq: 12 }),
    ).toBe("Intact: 12 events, head abababababab…, anchored outside the room up to 12");
    expect(chainVerdictText({ ok: true, lastSeq: 3, head: "0".repeat(64) })).toBe(
      "Intact: 3 events, head 000000000000…",
    );
    expect(chainVerdictText({ ok: false, seq: 5, problem: "event 5 is missing" })).toBe(
      "Broken at event 5: event 5 is missing",
    );
  });
});
