import {
  unhandled,
  type EventType,
  type Member,
  type Role,
  type RoomEvent,
  type UserRef,
  type Visibility,
} from "../protocol/index.ts";

/**
 * The room as it was at a past event, as pure folds over its log (docs/audit.md, "Time travel").
 * They must agree with the SQL projections (project.ts) and how read-model.ts serves them: the
 * worker tests compare the two at every seq of a scripted room.
 */

/** The room's row as project.ts keeps it. */
export type RoomRow = {
  name: string;
  topic: string;
  visibility: Visibility;
  slowModeSeconds: number;
  ownerId: string;
  createdAt: number;
  createdBy: string;
  shards: number;
};
export type RosterMember = { name: string; role: Role; joinedAt: number };

/**
 * Everything but the messages: the room's row, its members, bans and mutes. Small (a room's
 * members, not its messages) and free of message text, so a snapshot of it never needs to be
 * touched by a redaction. Plain JSON: snapshots store it as is.
 */
export type Roster = {
  room: RoomRow | null;
  members: Record<string, RosterMember>;
  bans: Record<string, { at: number; name?: string }>;
  /** Until when (ms) each muted user is muted; a past time is kept, as in the `mutes` table. */
  mutes: Record<string, number>;
};

export const EMPTY_ROSTER: Roster = { room: null, members: {}, bans: {}, mutes: {} };

/** Whether an event type changes the roster: message and reaction events do not. */
const CHANGES_ROSTER = {
  "room.created": true,
  "room.topic_changed": true,
  "room.slow_mode_changed": true,
  "room.ownership_transferred": true,
  "member.joined": true,
  "member.invited": true,
  "member.left": true,
  "member.kicked": true,
  "member.banned": true,
  "member.unbanned": true,
  "member.muted": true,
  "member.unmuted": true,
  "member.role_changed": true,
  "message.posted": false,
  "message.edited": false,
  "message.deleted": false,
  "message.restored": false,
  "message.redacted": false,
  "reaction.added": false,
  "reaction.removed": false,
  "rule.saved": false,
  "rule.deleted": false,
  "plugin.enabled": false,
  "plugin.disabled": false,
  "message.transcribed": false,
} as const satisfies Record<EventType, boolean>;

/**
 * `roster` after `events`, in order; `roster` itself is never changed. The copy is made once, at
 * the first event that changes the roster, and then changed in place: folding a thousand events
 * into a room of thousands of members must not copy its members a thousand times.
 */
export function foldRosterAll(roster: Roster, events: Iterable<RoomEvent>): Roster {
  let draft: Roster | undefined;
  for (const event of events) {
    if (!CHANGES_ROSTER[event.type]) continue;
    draft ??= copyOf(roster);
    apply(draft, event);
  }
  return draft ?? roster;
}

/** `roster` after `event`; a message or reaction event returns `roster` itself. */
export const foldRoster = (roster: Roster, event: RoomEvent): Roster =>
  foldRosterAll(roster, [event]);

/** A copy whose records may be changed; their entries are replaced, never changed in place. */
const copyOf = (roster: Roster): Roster => ({
  room: roster.room && { ...roster.room },
  members: { ...roster.members },
  bans: { ...roster.bans },
  mutes: { ...roster.mutes },
});

/** Applies one event to a draft (a copy owned by the fold), as project.ts applies it to the tables. */
function apply(draft: Roster, event: RoomEvent): void {
  const { members, bans, mutes } = draft;
  switch (event.type) {
    case "room.created":
      draft.room = {
        name: event.data.name,
        topic: event.data.topic,
        visibility: event.data.visibility,
        slowModeSeconds: 0,
        ownerId: event.actor.id,
        createdAt: event.at,
        createdBy: event.actor.id,
        shards: event.data.shards ?? 0,
      };
      return;
    case "room.topic_changed":
      if (draft.room) draft.room.topic = event.data.topic;
      return;
    case "room.slow_mode_changed":
      if (draft.room) draft.room.slowModeSeconds = event.data.seconds;
      return;
    case "room.ownership_transferred": {
      // The old owner steps down to moderator, as project.ts does it.
      for (const [id, m] of Object.entries(members))
        if (m.role === "owner") members[id] = { ...m, role: "moderator" };
      const heir = members[event.data.userId];
      if (heir) members[event.data.userId] = { ...heir, role: "owner" };
      if (draft.room) draft.room.ownerId = event.data.userId;
      return;
    }
    case "member.joined":
      // The room's creator joins right after room.created, as its owner.
      addMember(draft, event.actor, event.at, () =>
        draft.room?.ownerId === event.actor.id ? "owner" : "member",
      );
      return;
    case "member.invited":
      addMember(draft, event.data.user, event.at, () => event.data.role);
      return;
    case "member.left":
      delete members[event.actor.id];
      return;
    case "member.kicked":
      delete members[event.data.userId];
      return;
    case "member.banned": {
      // The name first: it comes from the member the ban removes.
      const name = members[event.data.userId]?.name;
      bans[event.data.userId] = { at: event.at, ...(name !== undefined ? { name } : {}) };
      delete members[event.data.userId];
      return;
    }
    case "member.unbanned":
      delete bans[event.data.userId];
      return;
    case "member.muted":
      mutes[event.data.userId] = event.data.until;
      return;
    case "member.unmuted":
      delete mutes[event.data.userId];
      return;
    case "member.role_changed": {
      const member = members[event.data.userId];
      if (member) members[event.data.userId] = { ...member, role: event.data.role };
      return;
    }
    case "message.posted":
    case "message.edited":
    case "message.deleted":
    case "message.restored":
    case "message.redacted":
    case "reaction.added":
    case "reaction.removed":
    case "rule.saved":
    case "rule.deleted":
    case "plugin.enabled":
    case "plugin.disabled":
    case "message.transcribed":
      return;
    default:
      unhandled(event);
  }
}

/** Adds a member, or renames one already there (their role and joinedAt stay). */
function addMember(draft: Roster, user: UserRef, at: number, role: () => Role): void {
  const existing = draft.members[user.id];
  draft.members[user.id] = existing
    ? { ...existing, name: user.name }
    : { name: user.name, role: role(), joinedAt: at };
}

const ROLE_ORDER: Record<Role, number> = { owner: 0, moderator: 1, member: 2 };
/** SQLite's NOCASE: only ASCII letters fold. */
const nocase = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
export const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The members as read-model.ts lists them at time `now`: owners, moderators, then by name
 * (NOCASE); a mute shows while it lasts.
 */
export function membersOf(roster: Roster, now: number): Member[] {
  return Object.entries(roster.members)
    .toSorted(
      ([aId, a], [bId, b]) =>
        ROLE_ORDER[a.role] - ROLE_ORDER[b.role] ||
        byText(nocase(a.name), nocase(b.name)) ||
        byText(aId, bId),
    )
    .map(([id, m]) => {
      const until = roster.mutes[id];
      return {
        id,
        name: m.name,
        role: m.role,
        joinedAt: m.joinedAt,
        ...(until !== undefined && until > now ? { mutedUntil: until } : {}),
      };
    });
}

/**
 * The seq of the last event at or before `atTime`, 0 when the first is later; `atOf(seq)` is
 * the time of event `seq` (1..lastSeq), never decreasing with seq (the log's monotonic time), so
 * a binary search finds it in about log2(lastSeq) lookups.
 */
export function seqAtTime(atTime: number, lastSeq: number, atOf: (seq: number) => number): number {
  let low = 0; // invariant: event `low` is at or before atTime (0: before the first event)
  let high = lastSeq + 1; // invariant: event `high` is after atTime (lastSeq + 1: past the end)
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (atOf(middle) <= atTime) low = middle;
    else high = middle;
  }
  return low;
}
