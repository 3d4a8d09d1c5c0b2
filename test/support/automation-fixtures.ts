import { ActionBudget } from "../../src/automation/budget.ts";
import {
  factsFromMembers,
  type EngineContext,
  type EngineRule,
} from "../../src/automation/engine.ts";
import type { Action, Conditions, Trigger } from "../../src/protocol/automation.ts";
import type { RoomEvent } from "../../src/protocol/events.ts";
import type { Role, UserRef } from "../../src/protocol/names.ts";

/** People and a room for the automation tests: ada owns it, mo moderates, bob and cy are members. */
export const ROOM = "ops";
export const T0 = Date.parse("2026-01-14T10:00:00Z");
export const ada: UserRef = { id: "u_ada", name: "ada" };
export const mo: UserRef = { id: "u_mo", name: "mo" };
export const bob: UserRef = { id: "u_bob", name: "bob" };
export const cy: UserRef = { id: "u_cy", name: "cy" };
export const root: UserRef = { id: "u_root", name: "root" };
export const stranger: UserRef = { id: "u_eve", name: "eve" };
export const HOOK = "ih_000000000000000000000001";
export const HOOK_BOT: UserRef = { id: "svc_00000000000000000000000000000001", name: "Alerts" };

export const members: (UserRef & { role: Role; admin?: boolean })[] = [
  { ...ada, role: "owner" },
  { ...mo, role: "moderator" },
  { ...bob, role: "member" },
  { ...cy, role: "member" },
  { ...root, role: "member", admin: true },
];

export function rule(
  trigger: Trigger,
  actions: Action[],
  more: {
    id?: string;
    name?: string;
    conditions?: Conditions;
    enabled?: boolean;
    instance?: boolean;
  } = {},
): EngineRule {
  return {
    id: more.id ?? "rl_00000000000000a1",
    name: more.name ?? "Incident",
    enabled: more.enabled ?? true,
    trigger,
    conditions: more.conditions ?? {},
    actions,
    ...(more.instance ? { instance: true } : {}),
  };
}

export function context(more: Partial<EngineContext> = {}): EngineContext {
  const texts = new Map<number, string>([[7, "the deploy is stuck"]]);
  return {
    room: ROOM,
    facts: factsFromMembers(members, (id) => texts.get(id)),
    hookBots: new Map([[HOOK, HOOK_BOT.id]]),
    budget: new ActionBudget(),
    now: T0,
    ...more,
  };
}

/** Numbers events as a log would: seq from `first`, a second apart. */
export class Log {
  seq: number;
  constructor(first = 10) {
    this.seq = first;
  }
  posted(actor: UserRef, text: string, at = T0 + this.seq * 1000): RoomEvent {
    return this.#event({ type: "message.posted", data: { text } }, actor, at);
  }
  joined(actor: UserRef): RoomEvent {
    return this.#event({ type: "member.joined", data: {} }, actor);
  }
  left(actor: UserRef): RoomEvent {
    return this.#event({ type: "member.left", data: {} }, actor);
  }
  invited(by: UserRef, user: UserRef): RoomEvent {
    return this.#event({ type: "member.invited", data: { user, role: "member" } }, by);
  }
  reacted(actor: UserRef, messageId: number, emoji: string): RoomEvent {
    return this.#event({ type: "reaction.added", data: { messageId, emoji } }, actor);
  }
  edited(actor: UserRef, messageId: number, text: string): RoomEvent {
    return this.#event({ type: "message.edited", data: { messageId, text } }, actor);
  }
  #event(
    body: Pick<RoomEvent, "type" | "data">,
    actor: UserRef,
    at = T0 + this.seq * 1000,
  ): RoomEvent {
    const seq = this.seq++;
    return { ...body, seq, id: `ev${seq}`, at, actor } as RoomEvent;
  }
}
