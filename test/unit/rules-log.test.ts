/**
 * Rules and plugins as events in the room's log (docs/automation.md, "Rules in the log"): the
 * pure decisions of save_rule, delete_rule, enable_plugin and disable_plugin, and undo and redo
 * of rule changes, against a room kept in memory that folds the events the decisions produce
 * (the rules, the plugins, each user's undo and redo stacks, as project.ts keeps them).
 */
import { describe, expect, it } from "vitest";
import { LIMITS_AUTOMATION, type RuleInput } from "../../src/protocol/automation.ts";
import type { Command, NewEvent, RoomEvent, Role } from "../../src/protocol/index.ts";
import type { LoggedRule } from "../../src/protocol/rules.ts";
import type { Actor } from "../../src/identity/actor.ts";
import { decide, type RoomView } from "../../src/room/decide.ts";
import { ruleIdFor } from "../../src/room/decide-automation.ts";
import { isUndoable, type UndoableEvent } from "../../src/room/undo.ts";

const NOW = 1_800_000_000_000;
const ada: Actor = { id: "u_ada", name: "ada", kind: "user" }; // the owner
const mo: Actor = { id: "u_mo", name: "mo", kind: "user" }; // a moderator
const bob: Actor = { id: "g_bob", name: "bob", kind: "guest" }; // a member
const root: Actor = { id: "u_root", name: "root", kind: "user", admin: true };
const bot: Actor = {
  id: "svc_bot",
  name: "bot",
  kind: "service",
  scope: { rooms: ["ops"], role: "moderator", actions: ["save_rule", "manage_rules"] },
};

/** A room in memory: its log, and what the rules read of it, folded from the log. */
class Room {
  readonly log: RoomEvent[] = [];
  readonly roles: Record<string, Role> = {
    [ada.id]: "owner",
    [mo.id]: "moderator",
    [bob.id]: "member",
  };
  muted = new Set<string>();

  /** Decides `command` for `actor` and logs what it decides; answers the decision. */
  run(command: Command, actor: Actor) {
    const decision = decide(command, actor, this.view(), NOW);
    if (decision.ok) for (const event of decision.events) this.append(event, actor);
    return decision;
  }

  append(event: NewEvent, actor: Actor): RoomEvent {
    const stored = {
      ...event,
      seq: this.log.length + 1,
      id: `e${this.log.length + 1}`,
      at: NOW,
      actor: { id: actor.id, name: actor.name },
    } as RoomEvent;
    this.log.push(stored);
    return stored;
  }

  /** The rules after the events before `seq`, as project.ts keeps the `rules` table. */
  rulesBefore(seq: number): Map<string, LoggedRule> {
    const rules = new Map<string, LoggedRule>();
    for (const e of this.log.filter((e) => e.seq < seq)) {
      if (e.type === "rule.saved") rules.set(e.data.rule.id, e.data.rule);
      if (e.type === "rule.deleted") rules.delete(e.data.ruleId);
    }
    return rules;
  }

  /** Each user's stacks, as project.ts's trackAction keeps them: seq → undone by seq, or null. */
  stacks(userId: string): Map<number, number | null> {
    const actions = new Map<number, number | null>();
    for (const e of this.log.filter((e) => e.actor.id === userId && isUndoable(e))) {
      const data = e.data as { undoes?: number; redoes?: number };
      if (data.undoes !== undefined) actions.set(data.undoes, e.seq);
      else if (data.redoes !== undefined) actions.set(data.redoes, null);
      else {
        for (const [seq, undone] of actions) if (undone !== null) actions.delete(seq);
        actions.set(e.seq, null);
      }
    }
    return actions;
  }

  #event = (seq: number | undefined) =>
    seq === undefined ? undefined : (this.log[seq - 1] as UndoableEvent);

  view(): RoomView {
    const plugins = new Map<string, boolean>();
    for (const e of this.log) {
      if (e.type === "plugin.enabled") plugins.set(e.data.plugin, true);
      if (e.type === "plugin.disabled") plugins.set(e.data.plugin, false);
    }
    const rules = this.rulesBefore(Infinity);
    return {
      name: "ops",
      visibility: "public",
      slowModeSeconds: 0,
      ownerId: ada.id,
      role: (id) => this.roles[id],
      isBanned: () => false,
      mutedUntil: (id) => (this.muted.has(id) ? NOW + 60_000 : 0),
      lastPostAt: () => 0,
      message: () => undefined,
      textBefore: () => undefined,
      lastAction: (userId) => {
        const open = [...this.stacks(userId)].filter(([, undone]) => undone === null);
        return this.#event(open.map(([seq]) => seq).at(-1));
      },
      lastUndone: (userId) => {
        const undone = [...this.stacks(userId)].filter(([, by]) => by !== null);
        return this.#event(undone.toSorted((a, b) => a[1]! - b[1]!).at(-1)?.[0]);
      },
      hasReaction: () => false,
      invitesSince: () => ({ count: 0, oldestAt: 0 }),
      inviteLimit: { count: 1, windowMs: 1 },
      rule: (id) => rules.get(id),
      ruleCount: () => rules.size,
      ruleBefore: (id, seq) => this.rulesBefore(seq).get(id),
      pluginEnabled: (plugin) => plugins.get(plugin) === true,
      postableUpload: () => undefined,
    };
  }
}

const incident: RuleInput = {
  name: "Incident",
  enabled: true,
  trigger: { on: "message", match: { keywords: ["incident"] } },
  conditions: {},
  actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
};
const RL1 = "rl_00000000000000a1";
let clientIds = 0;
const save = (rule: RuleInput, id?: string): Command => ({
  type: "save_rule",
  clientId: `c${++clientIds}`,
  rule,
  ...(id === undefined ? {} : { id }),
});
const del = (ruleId: string): Command => ({
  type: "delete_rule",
  clientId: `c${++clientIds}`,
  ruleId,
});
const undo = (): Command => ({ type: "undo", clientId: `c${++clientIds}` });
const redo = (): Command => ({ type: "redo", clientId: `c${++clientIds}` });
const plugin = (on: boolean, id = "poll"): Command => ({
  type: on ? "enable_plugin" : "disable_plugin",
  clientId: `c${++clientIds}`,
  plugin: id,
});
const refused = (code: string) => ({ ok: false, error: { code } });

describe("save_rule and delete_rule", () => {
  it("logs the whole rule with its id, and a delete with the rule's name", () => {
    const room = new Room();
    expect(room.run(save(incident, RL1), mo)).toEqual({
      ok: true,
      events: [{ type: "rule.saved", data: { rule: { ...incident, id: RL1 } } }],
    });
    expect(room.run(del(RL1), ada)).toEqual({
      ok: true,
      events: [{ type: "rule.deleted", data: { ruleId: RL1, name: "Incident" } }],
    });
    expect(room.view().rule(RL1)).toBeUndefined();
  });

  it("applies the rule's defaults, so that the log holds one shape", () => {
    const room = new Room();
    const bare = {
      name: "Hi",
      trigger: { on: "member_joined" },
      actions: [{ do: "post", text: "hi {user}" }],
    };
    const decision = room.run(save(bare as RuleInput, RL1), mo);
    expect(decision).toMatchObject({
      ok: true,
      events: [{ data: { rule: { enabled: true, conditions: {}, id: RL1 } } }],
    });
    // The same rule sent again with its defaults spelled out is unchanged.
    expect(room.run(save(incident, RL1), mo).ok).toBe(true);
    expect(room.run(save(incident, RL1), mo)).toEqual({ ok: true, events: [] });
  });

  it("gives a rule created without an id one derived from its sender and clientId", () => {
    const room = new Room();
    const command = save(incident);
    const decision = room.run(command, mo);
    const id = ruleIdFor(mo.id, command.clientId);
    expect(id).toMatch(/^rl_[0-9a-f]{16}$/);
    expect(decision).toMatchObject({ ok: true, events: [{ data: { rule: { id } } }] });
    // The same command after its idempotency key expired names the same rule: not a second one.
    expect(room.run(command, mo)).toMatchObject(refused("conflict"));
    expect(ruleIdFor(mo.id, "other")).not.toBe(id);
    expect(ruleIdFor(bob.id, command.clientId)).not.toBe(id);
  });

  it("logs nothing for a save that changes nothing, whatever the order of its keys", () => {
    const room = new Room();
    room.run(save(incident, RL1), mo);
    const reordered = Object.fromEntries(Object.entries(incident).reverse()) as RuleInput;
    expect(Object.keys(reordered)[0]).toBe("actions");
    expect(room.run(save(reordered, RL1), ada)).toEqual({ ok: true, events: [] });
    expect(room.run(save({ ...incident, enabled: false }, RL1), ada)).toMatchObject({
      ok: true,
      events: [{ type: "rule.saved", data: { rule: { enabled: false } } }],
    });
  });

  it("refuses members, lets moderators, owners, admins and a scoped service in", () => {
    const room = new Room();
    expect(room.run(save(incident, RL1), bob)).toMatchObject(refused("forbidden"));
    expect(room.run(save(incident, RL1), root).ok).toBe(true);
    expect(room.run(del(RL1), bob)).toMatchObject(refused("forbidden"));
    expect(room.run(save({ ...incident, name: "svc" }, RL1), bot).ok).toBe(true);
    // Its scope has no delete_rule: refused by name, whatever its role.
    expect(room.run(del(RL1), bot)).toMatchObject({
      ok: false,
      error: { code: "forbidden", message: expect.stringContaining("delete_rule") },
    });
  });

  it("refuses a delete of a rule that is not there with not_found", () => {
    const room = new Room();
    expect(room.run(del(RL1), mo)).toMatchObject(refused("not_found"));
    room.run(save(incident, RL1), mo);
    room.run(del(RL1), mo);
    expect(room.run(del(RL1), mo)).toMatchObject(refused("not_found"));
  });

  it("holds at most rulesPerRoom rules (quota), and still replaces one when full", () => {
    const room = new Room();
    const max = LIMITS_AUTOMATION.rulesPerRoom;
    const idOf = (i: number) => `rl_${i.toString(16).padStart(16, "0")}`;
    for (let i = 0; i < max; i++) expect(room.run(save(incident, idOf(i)), mo).ok).toBe(true);
    expect(room.run(save(incident, idOf(max)), mo)).toMatchObject({
      ok: false,
      error: { code: "quota", message: `this room has ${max} rules, its limit: delete one first` },
    });
    expect(room.run(save({ ...incident, name: "changed" }, idOf(0)), mo).ok).toBe(true);
    room.run(del(idOf(1)), mo);
    expect(room.run(save(incident, idOf(max)), mo).ok).toBe(true);
  });

  it("refuses a rule that is not one (an RPC caller's) with bad_request, never throws", () => {
    const room = new Room();
    const broken = { ...incident, actions: [] } as RuleInput;
    expect(room.run(save(broken, RL1), mo)).toMatchObject(refused("bad_request"));
    const surrogate = { ...incident, name: "bad \udfff" };
    expect(room.run(save(surrogate, RL1), mo)).toMatchObject(refused("bad_request"));
  });
});

describe("enable_plugin and disable_plugin", () => {
  it("are the owner's: on, off, and a no-op when already so", () => {
    const room = new Room();
    expect(room.run(plugin(true), mo)).toMatchObject(refused("forbidden"));
    expect(room.run(plugin(false), root)).toEqual({ ok: true, events: [] });
    expect(room.run(plugin(true), ada)).toEqual({
      ok: true,
      events: [{ type: "plugin.enabled", data: { plugin: "poll" } }],
    });
    expect(room.run(plugin(true), root)).toEqual({ ok: true, events: [] });
    expect(room.run(plugin(false), ada)).toEqual({
      ok: true,
      events: [{ type: "plugin.disabled", data: { plugin: "poll" } }],
    });
  });

  it("are not undoable: an undo after them takes back the action before", () => {
    const room = new Room();
    room.run(save(incident, RL1), ada);
    room.run(plugin(true), ada);
    expect(room.run(undo(), ada)).toMatchObject({
      ok: true,
      events: [{ type: "rule.deleted", data: { ruleId: RL1, undoes: 1 } }],
    });
    expect(room.view().pluginEnabled("poll")).toBe(true);
  });
});

describe("undo and redo of rule changes", () => {
  it("undoes a new rule by deleting it, and redo saves it again", () => {
    const room = new Room();
    room.run(save(incident, RL1), mo);
    expect(room.run(undo(), mo)).toEqual({
      ok: true,
      events: [{ type: "rule.deleted", data: { ruleId: RL1, name: "Incident", undoes: 1 } }],
    });
    expect(room.run(redo(), mo)).toEqual({
      ok: true,
      events: [{ type: "rule.saved", data: { rule: { ...incident, id: RL1 }, redoes: 1 } }],
    });
    expect(room.view().rule(RL1)).toEqual({ ...incident, id: RL1 });
  });

  it("undoes a replacement by saving the version before it, and back and forth", () => {
    const room = new Room();
    room.run(save(incident, RL1), mo);
    room.run(save({ ...incident, name: "Incident v2" }, RL1), mo);
    expect(room.run(undo(), mo)).toMatchObject({
      ok: true,
      events: [{ type: "rule.saved", data: { rule: { name: "Incident" }, undoes: 2 } }],
    });
    expect(room.run(redo(), mo)).toMatchObject({
      ok: true,
      events: [{ type: "rule.saved", data: { rule: { name: "Incident v2" }, redoes: 2 } }],
    });
    expect(room.run(undo(), mo)).toMatchObject({ ok: true, events: [{ data: { undoes: 2 } }] });
    // The first save is next on the stack: undoing it deletes the rule.
    expect(room.run(undo(), mo)).toMatchObject({
      ok: true,
      events: [{ type: "rule.deleted", data: { undoes: 1 } }],
    });
    expect(room.view().rule(RL1)).toBeUndefined();
    expect(room.run(undo(), mo)).toMatchObject(refused("conflict"));
  });

  it("undoes a delete by saving the rule back as it was, and redo deletes it again", () => {
    const room = new Room();
    room.run(save(incident, RL1), ada);
    room.run(del(RL1), mo);
    expect(room.run(undo(), mo)).toEqual({
      ok: true,
      events: [{ type: "rule.saved", data: { rule: { ...incident, id: RL1 }, undoes: 2 } }],
    });
    expect(room.run(redo(), mo)).toEqual({
      ok: true,
      events: [{ type: "rule.deleted", data: { ruleId: RL1, name: "Incident", redoes: 2 } }],
    });
  });

  it("does not overwrite someone else's change since: conflict", () => {
    const room = new Room();
    room.run(save(incident, RL1), mo);
    room.run(save({ ...incident, name: "ada's" }, RL1), ada);
    expect(room.run(undo(), mo)).toMatchObject({
      ok: false,
      error: { code: "conflict", message: `rule ${RL1} was changed since` },
    });
    room.run(del(RL1), ada);
    expect(room.run(undo(), mo)).toMatchObject(refused("conflict"));

    // A delete taken back after someone saved the rule again is refused too.
    const other = new Room();
    other.run(save(incident, RL1), ada);
    other.run(del(RL1), mo);
    other.run(save({ ...incident, name: "again" }, RL1), ada);
    expect(other.run(undo(), mo)).toMatchObject(refused("conflict"));
    // And a redo, once the rule moved on from what the undo left.
    const third = new Room();
    third.run(save(incident, RL1), mo);
    third.run(undo(), mo);
    third.run(save({ ...incident, name: "ada's own" }, RL1), ada);
    expect(third.run(redo(), mo)).toMatchObject(refused("conflict"));
  });

  it("needs manage_rules still: a moderator made a member cannot take their save back", () => {
    const room = new Room();
    room.run(save(incident, RL1), mo);
    room.roles[mo.id] = "member";
    expect(room.run(undo(), mo)).toMatchObject(refused("forbidden"));
  });

  it("lets a muted moderator undo their rule change: a rule is not speech", () => {
    const room = new Room();
    room.run(save(incident, RL1), mo);
    room.muted.add(mo.id);
    expect(room.run(undo(), mo)).toMatchObject({ ok: true, events: [{ type: "rule.deleted" }] });
    expect(room.run(redo(), mo)).toMatchObject({ ok: true, events: [{ type: "rule.saved" }] });
  });

  it("keeps the quota: a delete taken back into a full room is refused", () => {
    const room = new Room();
    const max = LIMITS_AUTOMATION.rulesPerRoom;
    const idOf = (i: number) => `rl_${i.toString(16).padStart(16, "0")}`;
    room.run(save(incident, idOf(0)), mo);
    room.run(del(idOf(0)), mo);
    for (let i = 1; i <= max; i++) room.run(save(incident, idOf(i)), ada);
    expect(room.run(undo(), mo)).toMatchObject(refused("quota"));
  });

  it("shares one stack with messages: the latest action is undone first", () => {
    const room = new Room();
    room.run(save(incident, RL1), mo);
    const post = room.run({ type: "post", clientId: "p1", text: "hello" }, mo);
    expect(post.ok).toBe(true);
    // The post's undo needs the message, which this room in memory does not keep.
    expect(room.view().lastAction(mo.id)).toMatchObject({ type: "message.posted" });
  });
});
