import { describe, expect, it } from "vitest";
import { asChained, chainEntry, EMPTY_HEAD, verifyAuditChain } from "../../src/audit/entry.ts";
import { matches, pageOf, sqliteWhere, type AuditFilter } from "../../src/audit/filter.ts";
import { InstanceAuditFeed } from "../../src/audit/feed.ts";
import { auditEntriesOf } from "../../src/audit/room-entries.ts";
import {
  AuditEntryInput,
  AuditQuery,
  contentHashOf,
  GENESIS_HASH,
  linkHash,
  RoomEvent,
  type AuditEntry,
} from "../../src/protocol/index.ts";

const input = (overrides: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  at: 1_000,
  actor: { id: "u_ada", name: "Ada" },
  action: "auth.signed_in",
  target: {},
  ip: "203.0.113.7",
  data: {},
  ...overrides,
});

function chain(inputs: AuditEntryInput[]): AuditEntry[] {
  let head = EMPTY_HEAD;
  return inputs.map((each, i) => {
    const entry = chainEntry(each, head, `id-${i + 1}`);
    head = { seq: entry.seq, hash: entry.hash };
    return entry;
  });
}

describe("chaining audit entries", () => {
  it("links each entry with chain.ts's linkHash, the action as type, target/ip/data as content", () => {
    const [first, second] = chain([
      input({ target: { room: "lobby", user: undefined } }),
      input({
        action: "auth.sign_in_failed",
        actor: { id: "", name: "mallory" },
        data: { reason: "bad_credentials" },
      }),
    ]);
    expect(first!.prevHash).toBe(GENESIS_HASH);
    expect(first!.target).toEqual({ room: "lobby" }); // absent keys dropped before hashing
    expect(first!.contentHash).toBe(
      contentHashOf({ target: { room: "lobby" }, ip: "203.0.113.7", data: {} }),
    );
    expect(second!.prevHash).toBe(first!.hash);
    expect(second!.hash).toBe(
      linkHash({
        seq: 2,
        id: "id-2",
        type: "auth.sign_in_failed",
        at: 1_000,
        actor: { id: "", name: "mallory" },
        contentHash: second!.contentHash,
        prevHash: first!.hash,
      }),
    );
    expect(verifyAuditChain([first!, second!])).toEqual({
      ok: true,
      lastSeq: 2,
      head: second!.hash,
    });
  });

  it("reports a changed address, actor, a missing entry and a reordering at their seq", () => {
    const entries = chain([input(), input({ at: 2_000 }), input({ at: 3_000 })]);
    const at = (i: number, change: Partial<AuditEntry>) =>
      entries.map((e, j) => (j === i ? { ...e, ...change } : e));
    expect(verifyAuditChain(at(1, { ip: "198.51.100.1" }))).toMatchObject({
      ok: false,
      seq: 2,
      problem: /content/,
    });
    expect(verifyAuditChain(at(2, { actor: { id: "u_eve", name: "Eve" } }))).toMatchObject({
      ok: false,
      seq: 3,
      problem: /fields/,
    });
    expect(verifyAuditChain([entries[0]!, entries[2]!])).toMatchObject({
      ok: false,
      seq: 2,
      problem: /missing/,
    });
    expect(asChained(entries[0]!).type).toBe("auth.signed_in");
  });
});

describe("filters and the paging cursor", () => {
  const entries = chain([
    input({ at: 100 }),
    input({ at: 200, actor: { id: "", name: "ADA" }, action: "auth.sign_in_failed" }),
    input({ at: 300, actor: { id: "u_bob", name: "bob" }, action: "member.banned" }),
    input({ at: 400, actor: { id: "u_bob", name: "bob" } }),
  ]);
  const pick = (filter: Omit<AuditFilter, "limit">) =>
    entries.filter((e) => matches(e, { ...filter, limit: 50 })).map((e) => e.seq);

  it("matches an actor by id or by name in any case, an action, an inclusive time range and a cursor", () => {
    expect(pick({ actor: "u_ada" })).toEqual([1]);
    expect(pick({ actor: "ada" })).toEqual([1, 2]);
    expect(pick({ action: "member.banned" })).toEqual([3]);
    expect(pick({ since: 200, until: 300 })).toEqual([2, 3]);
    expect(pick({ actor: "bob", before: 4 })).toEqual([3]);
    expect(pick({})).toEqual([1, 2, 3, 4]);
  });

  it("turns the same filters into SQL with bound values only", () => {
    expect(sqliteWhere({ limit: 5 })).toEqual({ where: "", params: [] });
    const { where, params } = sqliteWhere({
      actor: "x' OR 1=1 --",
      action: "member.kicked",
      since: 1,
      until: 2,
      before: 9,
      limit: 5,
    });
    expect(where).toBe(
      "WHERE (actor_id = ? OR lower(actor_name) = lower(?)) AND action = ? AND at >= ? AND at <= ? AND seq < ?",
    );
    expect(params).toEqual(["x' OR 1=1 --", "x' OR 1=1 --", "member.kicked", 1, 2, 9]);
  });

  it("pages newest first: the cursor is the oldest seq shown, null on the last page", () => {
    const newest = [...entries].reverse();
    expect(pageOf(newest.slice(0, 3), 2)).toEqual({ entries: newest.slice(0, 2), nextBefore: 3 });
    expect(pageOf(newest.slice(2), 2)).toEqual({ entries: newest.slice(2), nextBefore: null });
    expect(pageOf([], 2)).toEqual({ entries: [], nextBefore: null });
  });
});

describe("the query of GET /api/admin/audit", () => {
  const parse = (query: Record<string, string>) => AuditQuery.safeParse(query);
  const message = (query: Record<string, string>) => {
    const result = parse(query);
    return result.success ? "" : result.error.issues.map((i) => i.message).join("; ");
  };

  it("defaults the limit to 50 and takes every filter", () => {
    expect(parse({}).data).toEqual({ limit: 50 });
    expect(
      parse({
        actor: "ada",
        action: "auth.signed_in",
        since: "1",
        until: "2",
        before: "7",
        limit: "200",
      }).data,
    ).toEqual({
      actor: "ada",
      action: "auth.signed_in",
      since: 1,
      until: 2,
      before: 7,
      limit: 200,
    });
  });

  it("refuses what is not a filter with a message that says what is wrong", () => {
    expect(message({ limit: "201" })).toMatch(/at most 200/);
    expect(message({ limit: "0" })).toMatch(/at least 1/);
    expect(message({ since: "yesterday" })).toMatch(/expected a non-negative integer/);
    expect(message({ since: "5", until: "4" })).toMatch(/must not be after until/);
    expect(message({ action: "message.posted" })).toMatch(/auth\.signed_in/);
    expect(message({ before: "0" })).not.toBe("");
    expect(message({ actor: "   " })).toMatch(/give a user id or a name/);
  });
});

const event = (seq: number, rest: Record<string, unknown>) =>
  RoomEvent.parse({
    seq,
    id: `e${seq}`,
    at: seq * 10,
    actor: { id: "u_mod", name: "mod" },
    ...rest,
  });

describe("auditEntriesOf: a room's events as audit entries", () => {
  it("records moderation and room changes with their target and details, never chat", () => {
    const events = [
      event(1, { type: "room.created", data: { name: "lobby", topic: "", visibility: "private" } }),
      event(2, { type: "member.joined", data: {} }),
      event(3, { type: "message.posted", data: { text: "hi" } }),
      event(4, { type: "message.edited", data: { messageId: 3, text: "hey" } }),
      event(5, { type: "reaction.added", data: { messageId: 3, emoji: "👍" } }),
      event(6, {
        type: "member.invited",
        data: { user: { id: "u_bob", name: "bob" }, role: "member" },
      }),
      event(7, { type: "member.role_changed", data: { userId: "u_bob", role: "moderator" } }),
      event(8, { type: "room.topic_changed", data: { topic: "rules" } }),
      event(9, { type: "member.muted", data: { userId: "u_bob", until: 99 } }),
      event(10, { type: "member.unmuted", data: { userId: "u_bob" } }),
      event(11, { type: "member.kicked", data: { userId: "u_bob" } }),
      event(12, { type: "member.banned", data: { userId: "u_bob" } }),
      event(13, { type: "member.unbanned", data: { userId: "u_bob" } }),
      event(14, { type: "room.slow_mode_changed", data: { seconds: 30 } }),
      event(15, { type: "message.deleted", data: { messageId: 3 } }),
      event(16, { type: "room.ownership_transferred", data: { userId: "u_bob", from: "u_mod" } }),
      event(17, { type: "member.left", data: {} }),
      event(18, { type: "reaction.removed", data: { messageId: 3, emoji: "👍" } }),
    ];
    const entries = auditEntriesOf("lobby", events);
    expect(entries.map((e) => [e.action, e.target, e.data])).toEqual([
      ["room.created", { room: "lobby" }, { visibility: "private", roomSeq: 1 }],
      [
        "member.invited",
        { room: "lobby", user: "u_bob" },
        { name: "bob", role: "member", roomSeq: 6 },
      ],
      ["member.role_changed", { room: "lobby", user: "u_bob" }, { role: "moderator", roomSeq: 7 }],
      ["room.topic_changed", { room: "lobby" }, { topic: "rules", roomSeq: 8 }],
      ["member.muted", { room: "lobby", user: "u_bob" }, { until: 99, roomSeq: 9 }],
      ["member.unmuted", { room: "lobby", user: "u_bob" }, { roomSeq: 10 }],
      ["member.kicked", { room: "lobby", user: "u_bob" }, { roomSeq: 11 }],
      ["member.banned", { room: "lobby", user: "u_bob" }, { roomSeq: 12 }],
      ["member.unbanned", { room: "lobby", user: "u_bob" }, { roomSeq: 13 }],
      ["room.slow_mode_changed", { room: "lobby" }, { seconds: 30, roomSeq: 14 }],
      ["message.deleted", { room: "lobby", message: 3 }, { roomSeq: 15 }],
      [
        "room.ownership_transferred",
        { room: "lobby", user: "u_bob" },
        { from: "u_mod", roomSeq: 16 },
      ],
    ]);
    for (const entry of entries) {
      expect(entry.actor).toEqual({ id: "u_mod", name: "mod" });
      expect(entry.ip).toBeNull();
      expect(entry.ref).toBe(`e${entry.data.roomSeq}`);
      expect(entry.at).toBe(Number(entry.data.roomSeq) * 10);
    }
  });

  it("records the room's rule and plugin changes with the rule's id and name, and undo marks", () => {
    const rule = {
      id: "rl_00000000000000a1",
      name: "Incident",
      enabled: true,
      trigger: { on: "member_joined" as const },
      conditions: {},
      actions: [{ do: "post" as const, text: "welcome {user}" }],
    };
    const entries = auditEntriesOf("ops", [
      event(1, { type: "rule.saved", data: { rule } }),
      event(2, { type: "rule.deleted", data: { ruleId: rule.id, name: "Incident", undoes: 1 } }),
      event(3, { type: "plugin.enabled", data: { plugin: "poll" } }),
      event(4, { type: "plugin.disabled", data: { plugin: "poll" } }),
    ]);
    expect(entries.map((e) => [e.action, e.target, e.data])).toEqual([
      ["rule.saved", { room: "ops" }, { rule: rule.id, name: "Incident", roomSeq: 1 }],
      ["rule.deleted", { room: "ops" }, { rule: rule.id, name: "Incident", undoes: 1, roomSeq: 2 }],
      ["plugin.enabled", { room: "ops" }, { plugin: "poll", roomSeq: 3 }],
      ["plugin.disabled", { room: "ops" }, { plugin: "poll", roomSeq: 4 }],
    ]);
    for (const entry of entries) expect(AuditEntryInput.safeParse(entry).success).toBe(true);
  });

  it("yields nothing for a batch of chat, so that posting costs no call", () => {
    const chat = [event(1, { type: "message.posted", data: { text: "hi" } })];
    expect(auditEntriesOf("lobby", chat)).toEqual([]);
    const sent: unknown[] = [];
    const feed = new InstanceAuditFeed(
      async (entries) => sent.push(entries),
      () => undefined,
    );
    feed.record(auditEntriesOf("lobby", chat));
    expect(sent).toEqual([]);
  });
});

describe("InstanceAuditFeed", () => {
  it("sends one call at a time, folds what comes meanwhile into the next, retries a failure", async () => {
    const calls: number[][] = [];
    let fail = 1;
    const work: Promise<unknown>[] = [];
    const feed = new InstanceAuditFeed(
      async (entries) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (fail-- > 0) throw new Error("the log was away");
        calls.push(entries.map((e) => e.at));
      },
      (promise) => work.push(promise),
      1,
    );
    feed.record([input({ at: 1 })]);
    feed.record([input({ at: 2 })]);
    feed.record([input({ at: 3 })]);
    await Promise.all(work);
    expect(work).toHaveLength(1);
    // The first call failed and was retried with its entry; the two that came meanwhile followed together.
    expect(calls).toEqual([[1], [2, 3]]);
  });
});
