import {
  byRank,
  can,
  unhandled,
  type Ban,
  type Member,
  type Role,
  type RoomEvent,
  type ServerFrameOf,
  type Standing,
  type UserRef,
} from "../client/index.ts";
import type { MemberCommand } from "./commands.ts";

/** Someone the panel lists: a member (with a role) or someone online who is not one. */
export type Person = {
  readonly id: string;
  readonly name: string;
  readonly role: Role | undefined;
  /** When their mute ends (ms), or 0. */
  readonly mutedUntil: number;
};

/** Everyone in the room as this browser knows them; never changed in place. */
export type MembersState = {
  /** The members, from the server's list and kept live from member events. */
  readonly people: ReadonlyMap<string, Person>;
  /** Who is connected now, members or not: id → name. */
  readonly online: ReadonlyMap<string, string>;
  /** Who is banned, id → name: listed by the server for those who may see it, kept live from events. */
  readonly bans: ReadonlyMap<string, string>;
  /** Your user id, once the welcome frame has said it. */
  readonly you: string | undefined;
  /** Whether the instance names you admin: an admin may act in every room. */
  readonly admin: boolean;
};

export const emptyMembers: MembersState = {
  people: new Map(),
  online: new Map(),
  bans: new Map(),
  you: undefined,
  admin: false,
};

export type MembersAction =
  /** The members as the server lists them (on open and after member events). */
  | { type: "listed"; members: readonly Member[] }
  /** The bans as the server lists them (for moderators and the owner). */
  | { type: "bans"; bans: readonly Ban[] }
  | { type: "welcome"; you: string; online: readonly UserRef[] }
  | { type: "presence"; frame: ServerFrameOf<"presence"> }
  | { type: "admin"; admin: boolean }
  | { type: "event"; event: RoomEvent };

/** How long the menu's mute lasts. */
export const MUTE_SECONDS = 10 * 60;

export function reduceMembers(state: MembersState, action: MembersAction): MembersState {
  switch (action.type) {
    case "listed":
      return {
        ...state,
        people: new Map(
          action.members.map((m) => [
            m.id,
            { id: m.id, name: m.name, role: m.role, mutedUntil: m.mutedUntil ?? 0 },
          ]),
        ),
      };
    case "bans":
      // A ban of someone the room never knew by name shows their id.
      return { ...state, bans: new Map(action.bans.map((ban) => [ban.id, ban.name ?? ban.id])) };
    case "welcome":
      return {
        ...state,
        you: action.you,
        online: new Map(action.online.map((u) => [u.id, u.name])),
      };
    case "presence": {
      const { joined, left } = action.frame;
      const online = new Map(state.online);
      if (joined) online.set(joined.id, joined.name);
      if (left) online.delete(left.id);
      return { ...state, online };
    }
    case "admin":
      return action.admin === state.admin ? state : { ...state, admin: action.admin };
    case "event":
      return applyMemberEvent(state, action.event);
  }
}

/** The state after a room event: the same object for events that change no one. */
export function applyMemberEvent(state: MembersState, event: RoomEvent): MembersState {
  const people = () => new Map(state.people);
  const update = (id: string, change: Partial<Person>): MembersState => {
    const person = state.people.get(id);
    return person ? { ...state, people: people().set(id, { ...person, ...change }) } : state;
  };
  const without = (id: string): MembersState => {
    const next = people();
    return next.delete(id) ? { ...state, people: next } : state;
  };
  switch (event.type) {
    case "member.joined":
      if (state.people.has(event.actor.id)) return state;
      return {
        ...state,
        people: people().set(event.actor.id, { ...event.actor, role: "member", mutedUntil: 0 }),
      };
    case "member.invited": {
      const { user, role } = event.data;
      return { ...state, people: people().set(user.id, { ...user, role, mutedUntil: 0 }) };
    }
    case "member.left":
      return without(event.actor.id);
    case "member.kicked":
      return without(event.data.userId);
    case "member.banned": {
      const { userId } = event.data;
      const bans = new Map(state.bans).set(userId, nameOf(state, userId));
      return { ...without(userId), bans };
    }
    case "member.unbanned": {
      const bans = new Map(state.bans);
      return bans.delete(event.data.userId) ? { ...state, bans } : state;
    }
    case "member.role_changed":
      return update(event.data.userId, { role: event.data.role });
    case "member.muted":
      return update(event.data.userId, { mutedUntil: event.data.until });
    case "member.unmuted":
      return update(event.data.userId, { mutedUntil: 0 });
    case "room.ownership_transferred": {
      // The previous owner stays on as a moderator.
      const next = new Map(
        [...state.people].map(([id, p]) => [
          id,
          p.role === "owner" ? { ...p, role: "moderator" as const } : p,
        ]),
      );
      const heir = next.get(event.data.userId);
      if (heir) next.set(heir.id, { ...heir, role: "owner" });
      return { ...state, people: next };
    }
    case "room.created":
    case "room.topic_changed":
    case "room.slow_mode_changed":
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
      return state;
    default:
      return unhandled(event);
  }
}

/** Your standing here, for `can`: your role (none until the lists say) and whether you are admin. */
export function standing(state: MembersState): Standing {
  const role = state.you === undefined ? undefined : state.people.get(state.you)?.role;
  return { role, admin: state.admin };
}

export function nameOf(state: MembersState, userId: string): string {
  return (
    state.people.get(userId)?.name ??
    state.online.get(userId) ??
    state.bans.get(userId) ??
    "someone"
  );
}

/**
 * The commands you may send about `person`, in the menu's order, never about yourself. Someone
 * online who is not a member (a bot never joins: docs/integrations.md, "Bots") has nothing to
 * mute, promote or remove: they may only be banned.
 */
export function menuFor(state: MembersState, person: Person, now: number): MemberCommand[] {
  if (person.id === state.you) return [];
  const me = standing(state);
  if (person.role === undefined)
    return can(me, "ban", person) ? [{ type: "ban", userId: person.id }] : [];
  const userId = person.id;
  const menu: MemberCommand[] = [];
  if (can(me, "role", person))
    menu.push({ type: "role", userId, role: person.role === "member" ? "moderator" : "member" });
  if (person.mutedUntil > now) {
    if (can(me, "unmute", person)) menu.push({ type: "unmute", userId });
  } else if (can(me, "mute", person)) {
    menu.push({ type: "mute", userId, seconds: MUTE_SECONDS });
  }
  if (can(me, "kick", person)) menu.push({ type: "kick", userId });
  if (can(me, "ban", person)) menu.push({ type: "ban", userId });
  if (can(me, "transfer", person)) menu.push({ type: "transfer", userId });
  return menu;
}

/** One line of the people list. */
export type PersonLine = {
  readonly person: Person;
  readonly online: boolean;
  readonly you: boolean;
  readonly muted: boolean;
  readonly menu: readonly MemberCommand[];
};

/** Members and anyone else online: highest rank first, then online first, then by name. */
export function peopleLines(state: MembersState, now: number): PersonLine[] {
  const everyone = new Map(state.people);
  for (const [id, name] of state.online)
    if (!everyone.has(id)) everyone.set(id, { id, name, role: undefined, mutedUntil: 0 });
  const isOnline = (p: Person) => state.online.has(p.id);
  return [...everyone.values()]
    .sort(
      (a, b) =>
        byRank(a, b) || Number(isOnline(b)) - Number(isOnline(a)) || a.name.localeCompare(b.name),
    )
    .map((person) => ({
      person,
      online: isOnline(person),
      you: person.id === state.you,
      muted: person.mutedUntil > now,
      menu: menuFor(state, person, now),
    }));
}

/** Whether you may see the room's bans: then the view asks the server for them. */
export const maySeeBans = (state: MembersState): boolean => can(standing(state), "list_bans");

/** The bans you may lift: none unless you may unban. */
export function liftableBans(state: MembersState): { id: string; name: string }[] {
  if (!can(standing(state), "unban", { role: undefined })) return [];
  return [...state.bans].map(([id, name]) => ({ id, name }));
}

/** When the next mute ends (ms), to draw the list again then; undefined when none is running. */
export function nextMuteEnd(state: MembersState, now: number): number | undefined {
  const ends = [...state.people.values()].map((p) => p.mutedUntil).filter((t) => t > now);
  return ends.length ? Math.min(...ends) : undefined;
}
