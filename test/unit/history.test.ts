import { describe, expect, it } from "vitest";
import type { EventType, NewEvent, RoomEvent, UserRef } from "../../src/protocol/index.ts";
import {
  EMPTY_ROSTER,
  foldRoster,
  foldRosterAll,
  membersOf,
  seqAtTime,
  type Roster,
} from "../../src/room/history.ts";
import { foldMessage, toMessage, type MessageState } from "../../src/room/message-history.ts";

const T0 = 1_800_000_000_000;
const ada: UserRef = { id: "u_ada", name: "ada" };
const bob: UserRef = { id: "g_bob", name: "bob" };
const cy: UserRef = { id: "u_cy", name: "Cy" };

/** A log built in order: seq 1, 2, …, one second apart. */
function log(...steps: [UserRef, NewEvent, { redacted?: true }?][]): RoomEvent[] {
  return steps.map(
    ([actor, event, extra], i) =>
      ({ ...event, seq: i + 1, id: `e${i + 1}`, at: T0 + i * 1000, actor, ...extra }) as RoomEvent,
  );
}
const roster = (events: RoomEvent[]): Roster => events.reduce(foldRoster, EMPTY_ROSTER);
/** Message `id` folded from the events (skipping those before its post, as the index does). */
function fold(events: RoomEvent[], id: number): MessageState | undefined {
  return events.reduce<MessageState | undefined>(
    (m, e) => (m === undefined && e.seq !== id ? m : foldMessage(m, e)),
    undefined,
  );
}

const created: [UserRef, NewEvent] = [
  ada,
  { type: "room.created", data: { name: "lobby", topic: "hi", visibility: "public" } },
];
const joined = (who: UserRef): [UserRef, NewEvent] => [who, { type: "member.joined", data: {} }];

describe("the roster fold", () => {
  it("creates the room and makes its creator the owner when they join", () => {
    const r = roster(log(created, joined(ada), joined(bob)));
    expect(r.room).toEqual({
      name: "lobby",
      topic: "hi",
      visibility: "public",
      slowModeSeconds: 0,
      ownerId: ada.id,
      createdAt: T0,
      createdBy: ada.id,
      shards: 0,
    });
    expect(r.members).toEqual({
      [ada.id]: { name: "ada", role: "owner", joinedAt: T0 + 1000 },
      [bob.id]: { name: "bob", role: "member", joinedAt: T0 + 2000 },
    });
  });

  it("folds every room and member event as project.ts does", () => {
    const events = log(
      created,
      joined(ada),
      [ada, { type: "member.invited", data: { user: bob, role: "moderator" } }],
      [ada, { type: "room.topic_changed", data: { topic: "new" } }],
      [ada, { type: "room.slow_mode_changed", data: { seconds: 30 } }],
      [ada, { type: "member.invited", data: { user: cy, role: "member" } }],
      [ada, { type: "member.role_changed", data: { userId: cy.id, role: "moderator" } }],
      [ada, { type: "member.muted", data: { userId: cy.id, until: T0 + 60_000 } }],
      [ada, { type: "room.ownership_transferred", data: { userId: bob.id, from: ada.id } }],
      [bob, { type: "member.unmuted", data: { userId: cy.id } }],
      [bob, { type: "member.banned", data: { userId: cy.id } }],
    );
    const r = roster(events);
    expect(r.room).toMatchObject({ topic: "new", slowModeSeconds: 30, ownerId: bob.id });
    expect(r.members).toEqual({
      [ada.id]: { name: "ada", role: "moderator", joinedAt: T0 + 1000 },
      [bob.id]: { name: "bob", role: "owner", joinedAt: T0 + 2000 },
    });
    expect(r.bans).toEqual({ [cy.id]: { at: T0 + 10_000, name: "Cy" } });
    expect(r.mutes).toEqual({});
    const more = [
      ...events,
      ...log(
        [bob, { type: "member.unbanned", data: { userId: cy.id } }],
        [bob, { type: "member.kicked", data: { userId: ada.id } }],
        [bob, { type: "member.banned", data: { userId: "u_stranger" } }],
        [bob, { type: "member.left", data: {} }],
      ).map((e, i) => ({ ...e, seq: events.length + i + 1 })),
    ];
    const final = roster(more);
    expect(final.members).toEqual({});
    // A ban of someone who is no member has no name, as the bans table's subquery gives none
    // (the appended events' times start again at T0).
    expect(final.bans).toEqual({ u_stranger: { at: T0 + 2000 } });
  });

  it("a rejoin renames a member and keeps their role and joinedAt; a role change of a non-member is nothing", () => {
    const r = roster(
      log(
        created,
        joined(ada),
        joined(bob),
        [ada, { type: "member.role_changed", data: { userId: bob.id, role: "moderator" } }],
        [
          { ...bob, name: "bobby" },
          { type: "member.joined", data: {} },
        ],
        [ada, { type: "member.role_changed", data: { userId: "u_none", role: "moderator" } }],
      ),
    );
    expect(r.members[bob.id]).toEqual({ name: "bobby", role: "moderator", joinedAt: T0 + 2000 });
    expect(r.members).not.toHaveProperty("u_none");
  });

  it("leaves the roster itself for every message and reaction event", () => {
    const before = roster(log(created, joined(ada)));
    const messageEvents: NewEvent[] = [
      { type: "message.posted", data: { text: "x" } },
      { type: "message.edited", data: { messageId: 3, text: "y" } },
      { type: "message.deleted", data: { messageId: 3 } },
      { type: "message.restored", data: { messageId: 3, text: "y" } },
      { type: "message.redacted", data: { messageId: 3 } },
      { type: "reaction.added", data: { messageId: 3, emoji: "👍" } },
      { type: "reaction.removed", data: { messageId: 3, emoji: "👍" } },
    ];
    for (const e of log(...messageEvents.map((m): [UserRef, NewEvent] => [ada, m])))
      expect(foldRoster(before, e)).toBe(before);
  });

  it("never changes the roster it is given", () => {
    const start = roster(log(created, joined(ada), joined(bob)));
    const copy = structuredClone(start);
    const [event] = log([ada, { type: "member.banned", data: { userId: bob.id } }]);
    foldRoster(start, event!);
    expect(start).toEqual(copy);
  });
});

describe("foldRosterAll", () => {
  it("equals folding one event at a time, and leaves the roster it starts from as it was", () => {
    const events = log(
      created,
      joined(ada),
      joined(bob),
      [bob, { type: "message.posted", data: { text: "x" } }],
      [ada, { type: "member.role_changed", data: { userId: bob.id, role: "moderator" } }],
      [ada, { type: "room.ownership_transferred", data: { userId: bob.id } }],
      [bob, { type: "member.banned", data: { userId: ada.id } }],
      [bob, { type: "room.topic_changed", data: { topic: "t" } }],
    );
    const start = roster(events.slice(0, 3));
    const copy = structuredClone(start);
    expect(foldRosterAll(start, events.slice(3))).toEqual(roster(events));
    expect(start).toEqual(copy);
    expect(foldRosterAll(start, events.slice(3, 4))).toBe(start);
  });
});

describe("membersOf", () => {
  it("lists owners, then moderators, then by name ignoring ASCII case; a mute shows while it lasts", () => {
    const r: Roster = {
      ...EMPTY_ROSTER,
      members: {
        a: { name: "zed", role: "member", joinedAt: 1 },
        b: { name: "Amy", role: "member", joinedAt: 2 },
        c: { name: "bea", role: "moderator", joinedAt: 3 },
        d: { name: "ola", role: "owner", joinedAt: 4 },
      },
      mutes: { a: 500, b: 100 },
    };
    const members = membersOf(r, 200);
    expect(members.map((m) => m.name)).toEqual(["ola", "bea", "Amy", "zed"]);
    expect(members.find((m) => m.id === "a")?.mutedUntil).toBe(500);
    expect(members.find((m) => m.id === "b")).not.toHaveProperty("mutedUntil");
  });
});

describe("the message fold", () => {
  const post: [UserRef, NewEvent] = [
    bob,
    { type: "message.posted", data: { text: "hello", replyTo: 1 } },
  ];

  it("posts, edits, reacts, deletes, restores as the projection serves it", () => {
    const events = log(
      post,
      [bob, { type: "message.edited", data: { messageId: 1, text: "hello!" } }],
      [ada, { type: "reaction.added", data: { messageId: 1, emoji: "👍" } }],
      [bob, { type: "reaction.added", data: { messageId: 1, emoji: "🎉" } }],
      [cy, { type: "reaction.added", data: { messageId: 1, emoji: "👍" } }],
      [ada, { type: "reaction.added", data: { messageId: 1, emoji: "👍" } }], // a repeat
      [cy, { type: "reaction.removed", data: { messageId: 1, emoji: "👍" } }],
    );
    const at = (seq: number) => toMessage(fold(events.slice(0, seq), 1)!);
    expect(at(1)).toEqual({
      id: 1,
      author: bob,
      text: "hello",
      at: T0,
      replyTo: 1,
      reactions: {},
    });
    expect(at(2)).toMatchObject({ text: "hello!", editedAt: T0 + 1000 });
    expect(at(5).reactions).toEqual({ "👍": [ada.id, cy.id], "🎉": [bob.id] });
    expect(at(7).reactions).toEqual({ "👍": [ada.id], "🎉": [bob.id] });

    const gone = [
      ...events,
      ...log(
        [bob, { type: "message.deleted", data: { messageId: 1 } }],
        [bob, { type: "message.restored", data: { messageId: 1, text: "hello!", undoes: 8 } }],
      ).map((e, i) => ({ ...e, seq: 8 + i, at: T0 + (7 + i) * 1000 })),
    ];
    // Deleted: no text, its reactions kept but hidden; an undo brings both back.
    expect(toMessage(fold(gone.slice(0, 8), 1)!)).toMatchObject({
      text: "",
      deleted: true,
      reactions: {},
    });
    expect(toMessage(fold(gone, 1)!)).toMatchObject({
      text: "hello!",
      reactions: { "👍": [ada.id] },
    });
    expect(toMessage(fold(gone, 1)!)).not.toHaveProperty("deleted");
  });

  it("an undo of an edit (an edit marked undoes) brings the old text back", () => {
    const events = log(
      post,
      [bob, { type: "message.edited", data: { messageId: 1, text: "oops" } }],
      [bob, { type: "message.edited", data: { messageId: 1, text: "hello", undoes: 2 } }],
      [bob, { type: "message.edited", data: { messageId: 1, text: "oops", redoes: 2 } }],
    );
    expect(fold(events.slice(0, 3), 1)?.text).toBe("hello");
    expect(fold(events, 1)?.text).toBe("oops");
  });

  it("a redacted message has empty text at every seq, before its redaction too", () => {
    const scrub = { redacted: true as const };
    const events = log(
      [bob, { type: "message.posted", data: { text: "" } }, scrub],
      [bob, { type: "message.edited", data: { messageId: 1, text: "" } }, scrub],
      [ada, { type: "message.redacted", data: { messageId: 1, reason: "pii" } }],
    );
    for (const seq of [1, 2, 3]) {
      const m = toMessage(fold(events.slice(0, seq), 1)!);
      expect(m).toMatchObject({ text: "", redacted: true });
    }
    // A redaction alone (of a message whose events were not marked) also empties it.
    const plain = log(post, [ada, { type: "message.redacted", data: { messageId: 1 } }]);
    expect(toMessage(fold(plain, 1)!)).toMatchObject({ text: "", redacted: true });
  });

  it("ignores other messages' events and every roster event", () => {
    const m = fold(log(post), 1)!;
    const others: NewEvent[] = [
      { type: "message.edited", data: { messageId: 9, text: "x" } },
      { type: "message.deleted", data: { messageId: 9 } },
      { type: "message.restored", data: { messageId: 9, text: "x" } },
      { type: "message.redacted", data: { messageId: 9 } },
      { type: "reaction.added", data: { messageId: 9, emoji: "👍" } },
      { type: "reaction.removed", data: { messageId: 9, emoji: "👍" } },
      created[1],
      { type: "room.topic_changed", data: { topic: "t" } },
      { type: "room.slow_mode_changed", data: { seconds: 1 } },
      { type: "room.ownership_transferred", data: { userId: bob.id } },
      { type: "member.joined", data: {} },
      { type: "member.invited", data: { user: cy, role: "member" } },
      { type: "member.left", data: {} },
      { type: "member.kicked", data: { userId: cy.id } },
      { type: "member.banned", data: { userId: cy.id } },
      { type: "member.unbanned", data: { userId: cy.id } },
      { type: "member.muted", data: { userId: cy.id, until: 1 } },
      { type: "member.unmuted", data: { userId: cy.id } },
      { type: "member.role_changed", data: { userId: cy.id, role: "member" } },
    ];
    const covered = new Set<EventType>(others.map((e) => e.type));
    expect(covered.size).toBe(19); // every type but message.posted
    for (const e of log(...others.map((o): [UserRef, NewEvent] => [ada, o])))
      expect(foldMessage(m, e)).toBe(m);
    expect(fold(log(), 1)).toBeUndefined();
  });
});

describe("seqAtTime", () => {
  const times = [10, 20, 20, 20, 35, 50];
  const atOf = (seq: number) => times[seq - 1]!;
  it("finds the last event at or before the time", () => {
    expect(seqAtTime(10, times.length, atOf)).toBe(1);
    expect(seqAtTime(19, times.length, atOf)).toBe(1);
    expect(seqAtTime(20, times.length, atOf)).toBe(4);
    expect(seqAtTime(49, times.length, atOf)).toBe(5);
    expect(seqAtTime(50, times.length, atOf)).toBe(6);
    expect(seqAtTime(1e15, times.length, atOf)).toBe(6);
  });
  it("is 0 before the first event and on an empty log", () => {
    expect(seqAtTime(9, times.length, atOf)).toBe(0);
    expect(seqAtTime(100, 0, atOf)).toBe(0);
  });
  it("agrees with a linear scan on every time of a long log", () => {
    const long = Array.from({ length: 1000 }, (_, i) => 1000 + Math.floor(i / 3) * 7);
    for (let t = 990; t < 1000 + 334 * 7 + 5; t += 3) {
      let linear = 0;
      for (let s = 1; s <= long.length; s++) if (long[s - 1]! <= t) linear = s;
      expect(seqAtTime(t, long.length, (s) => long[s - 1]!)).toBe(linear);
    }
  });
});
