import { describe, expect, it } from "vitest";
import { RoomEvent, type EventType, type Member } from "../../src/client/index.ts";
import {
  emptyMembers,
  liftableBans,
  maySeeBans,
  menuFor,
  MUTE_SECONDS,
  nameOf,
  nextMuteEnd,
  peopleLines,
  reduceMembers,
  standing,
  type MembersState,
} from "../../src/web/members-state.ts";

const NOW = 1_000_000;
let seq = 0;
/** A room event, built through the protocol's schema. */
function event(type: EventType, data: object, actor = { id: "ada", name: "ada" }): RoomEvent {
  seq += 1;
  return RoomEvent.parse({ seq, id: `e${seq}`, type, at: NOW + seq, actor, data });
}
const member = (id: string, role: Member["role"], mutedUntil?: number): Member => ({
  id,
  name: id,
  role,
  joinedAt: 1,
  ...(mutedUntil === undefined ? {} : { mutedUntil }),
});

/** ada owns the room, mo moderates, mel is a member, gus is online without being one, bo is banned. */
function room(you: string, admin = false): MembersState {
  let state = reduceMembers(emptyMembers, {
    type: "listed",
    members: [
      member("ada", "owner"),
      member("mo", "moderator"),
      member("mel", "member"),
      member("bo", "member"),
    ],
  });
  state = reduceMembers(state, {
    type: "welcome",
    you,
    online: [
      { id: "ada", name: "ada" },
      { id: "gus", name: "gus" },
    ],
  });
  state = reduceMembers(state, {
    type: "event",
    event: event("member.banned", { userId: "bo" }, { id: "mo", name: "mo" }),
  });
  return reduceMembers(state, { type: "admin", admin });
}

/** The menu's command types for each person, as `you` sees them. */
function menus(state: MembersState): Record<string, string[]> {
  return Object.fromEntries(
    peopleLines(state, NOW).map((line) => [
      line.person.id,
      line.menu.map((c) => (c.type === "role" ? `role:${c.role}` : c.type)),
    ]),
  );
}

describe("members state: who may do what to whom", () => {
  const full = (promoteTo: string) => [`role:${promoteTo}`, "mute", "kick", "ban", "transfer"];

  it("gives the owner every action on moderators and members, none on herself, a ban on non-members", () => {
    expect(menus(room("ada"))).toEqual({
      ada: [],
      mo: full("member"),
      mel: full("moderator"),
      gus: ["ban"],
    });
    expect(liftableBans(room("ada"))).toEqual([{ id: "bo", name: "bo" }]);
  });

  it("gives a moderator mute, kick and ban on members, a ban on non-members (a bot online)", () => {
    expect(menus(room("mo"))).toEqual({
      ada: [],
      mo: [],
      mel: ["mute", "kick", "ban"],
      gus: ["ban"],
    });
    expect(liftableBans(room("mo"))).toEqual([{ id: "bo", name: "bo" }]);
  });

  it("gives a member nothing, not even the bans", () => {
    expect(menus(room("mel"))).toEqual({ ada: [], mo: [], mel: [], gus: [] });
    expect(liftableBans(room("mel"))).toEqual([]);
  });

  it("gives an admin who is no member the owner's actions, but never one on the owner", () => {
    const state = room("root", true);
    expect(standing(state)).toEqual({ role: undefined, admin: true });
    expect(menus(state)).toEqual({
      ada: [],
      mo: full("member"),
      mel: full("moderator"),
      gus: ["ban"],
    });
    expect(liftableBans(state)).toHaveLength(1);
  });

  it("gives an admin who is a member the same, and nothing on themself", () => {
    expect(menus(room("mel", true))).toEqual({
      ada: [],
      mo: full("member"),
      mel: [],
      gus: ["ban"],
    });
  });

  it("takes the bans the server lists, by the name they had, and keeps them live from events", () => {
    let state = reduceMembers(room("mo"), {
      type: "bans",
      bans: [
        { id: "old", name: "oldtroll", at: 1 },
        { id: "anon", at: 2 },
      ],
    });
    expect(liftableBans(state)).toEqual([
      { id: "old", name: "oldtroll" },
      { id: "anon", name: "anon" },
    ]);
    state = reduceMembers(state, {
      type: "event",
      event: event("member.unbanned", { userId: "old" }, { id: "mo", name: "mo" }),
    });
    expect(liftableBans(state).map((b) => b.id)).toEqual(["anon"]);
    expect(maySeeBans(state)).toBe(true);
    expect(maySeeBans(room("mel"))).toBe(false);
  });

  it("lists a banned user among the bans, not among the people", () => {
    const state = room("ada");
    expect(peopleLines(state, NOW).map((l) => l.person.id)).not.toContain("bo");
    expect(nameOf(state, "bo")).toBe("bo");
  });

  it("sorts by rank, then online first, then by name", () => {
    let state = reduceMembers(room("ada"), {
      type: "listed",
      members: [
        member("zed", "member"),
        member("amy", "member"),
        member("ada", "owner"),
        member("mo", "moderator"),
      ],
    });
    state = reduceMembers(state, {
      type: "presence",
      frame: { type: "presence", joined: { id: "zed", name: "zed" } },
    });
    const lines = peopleLines(state, NOW);
    expect(lines.map((l) => [l.person.id, l.online, l.you])).toEqual([
      ["ada", true, true],
      ["mo", false, false],
      ["zed", true, false],
      ["amy", false, false],
      ["gus", true, false],
    ]);
  });
});

describe("members state: member events", () => {
  it("offers unmute while a mute runs and mute again once it ended", () => {
    const until = NOW + 60_000;
    const state = reduceMembers(room("ada"), {
      type: "event",
      event: event("member.muted", { userId: "mel", until }),
    });
    const mel = state.people.get("mel")!;
    expect(menuFor(state, mel, NOW).map((c) => c.type)).toEqual([
      "role",
      "unmute",
      "kick",
      "ban",
      "transfer",
    ]);
    expect(peopleLines(state, NOW).find((l) => l.person.id === "mel")?.muted).toBe(true);
    expect(nextMuteEnd(state, NOW)).toBe(until);
    expect(menuFor(state, mel, until + 1)).toContainEqual({
      type: "mute",
      userId: "mel",
      seconds: MUTE_SECONDS,
    });
    expect(nextMuteEnd(state, until + 1)).toBeUndefined();

    const unmuted = reduceMembers(state, {
      type: "event",
      event: event("member.unmuted", { userId: "mel" }),
    });
    expect(unmuted.people.get("mel")?.mutedUntil).toBe(0);
  });

  it("hands the room on: the old owner becomes a moderator and loses the owner's menu", () => {
    const state = reduceMembers(room("ada"), {
      type: "event",
      event: event("room.ownership_transferred", { userId: "mel" }),
    });
    expect(state.people.get("ada")?.role).toBe("moderator");
    expect(state.people.get("mel")?.role).toBe("owner");
    expect(standing(state)).toEqual({ role: "moderator", admin: false });
    // As a moderator now, she may still ban someone online who is not a member.
    expect(menus(state)).toEqual({ mel: [], ada: [], mo: [], gus: ["ban"] });
  });

  it("follows joins, invitations, role changes, leaves and kicks", () => {
    const apply = (state: MembersState, e: RoomEvent) =>
      reduceMembers(state, { type: "event", event: e });
    let state = room("ada");
    state = apply(state, event("member.joined", {}, { id: "gus", name: "gus" }));
    expect(state.people.get("gus")).toEqual({
      id: "gus",
      name: "gus",
      role: "member",
      mutedUntil: 0,
    });
    const again = apply(state, event("member.joined", {}, { id: "gus", name: "gus" }));
    expect(again).toBe(state);

    state = apply(
      state,
      event("member.invited", { user: { id: "ivy", name: "ivy" }, role: "moderator" }),
    );
    expect(state.people.get("ivy")?.role).toBe("moderator");
    state = apply(state, event("member.role_changed", { userId: "ivy", role: "member" }));
    expect(state.people.get("ivy")?.role).toBe("member");

    state = apply(state, event("member.left", {}, { id: "gus", name: "gus" }));
    state = apply(state, event("member.kicked", { userId: "ivy" }));
    expect([...state.people.keys()].sort()).toEqual(["ada", "mel", "mo"]);
    // gus is still connected: listed as online, no longer as a member.
    expect(peopleLines(state, NOW).find((l) => l.person.id === "gus")?.person.role).toBeUndefined();
  });

  it("remembers a banned member's name for the notice and the unban, until unbanned", () => {
    let state = reduceMembers(room("ada"), {
      type: "event",
      event: event("member.banned", { userId: "mel" }),
    });
    expect(state.people.has("mel")).toBe(false);
    expect(nameOf(state, "mel")).toBe("mel");
    expect(liftableBans(state).map((b) => b.id)).toEqual(["bo", "mel"]);
    state = reduceMembers(state, {
      type: "event",
      event: event("member.unbanned", { userId: "mel" }),
    });
    expect(liftableBans(state).map((b) => b.id)).toEqual(["bo"]);
    expect(nameOf(state, "mel")).toBe("someone");
  });

  it("changes nothing for events about messages or the room, nor for strangers", () => {
    const state = room("ada");
    for (const e of [
      event("message.posted", { text: "hi" }),
      event("room.topic_changed", { topic: "t" }),
      event("member.muted", { userId: "nobody", until: NOW + 1 }),
      event("member.unbanned", { userId: "nobody" }),
    ])
      expect(reduceMembers(state, { type: "event", event: e })).toBe(state);
  });

  it("keeps the online list from the welcome frame and presence frames", () => {
    let state = room("ada");
    state = reduceMembers(state, {
      type: "presence",
      frame: { type: "presence", left: { id: "gus" } },
    });
    state = reduceMembers(state, {
      type: "presence",
      frame: { type: "presence", joined: { id: "mo", name: "mo" } },
    });
    expect([...state.online.keys()].sort()).toEqual(["ada", "mo"]);
    expect(peopleLines(state, NOW).map((l) => l.person.id)).toEqual(["ada", "mo", "mel"]);
  });
});
