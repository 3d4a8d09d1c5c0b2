import { describe, expect, it } from "vitest";
import { liveEngine } from "../../src/graphql/live.ts";
import { EVERY_FIELD } from "../../src/http/room-stream.ts";
import { TRUSTED_DOCUMENTS } from "../../src/graphql/trusted-documents.ts";
import { missedSince } from "../../src/room/graphql-protocol.ts";
import type { RoomEvent } from "../../src/protocol/index.ts";

const event = (seq: number): RoomEvent =>
  ({
    seq,
    id: `e${seq}`,
    type: "message.posted",
    at: 1000 + seq,
    actor: { id: "u1", name: "ada" },
    data: { text: `m${seq}` },
  }) as RoomEvent;

const log = (last: number) => (after: number, limit: number) =>
  Array.from({ length: Math.min(limit, last - after) }, (_, i) => event(after + i + 1));

describe("missedSince: what a resuming subscription is replayed", () => {
  it("nothing when it is up to date or ahead; the events after `since` otherwise", () => {
    expect(missedSince(10, 10, log(10))).toEqual({ ok: true, value: [] });
    expect(missedSince(12, 10, log(10))).toEqual({ ok: true, value: [] });
    const missed = missedSince(7, 10, log(10));
    expect(missed.ok && missed.value.map((e) => e.seq)).toEqual([8, 9, 10]);
  });

  it("1000 events back is replayed whole; 1001 is a conflict saying how to catch up", () => {
    const whole = missedSince(0, 1000, log(1000));
    expect(whole.ok && whole.value.length).toBe(1000);
    const far = missedSince(0, 1001, log(1001));
    expect(far).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(!far.ok && far.error.message).toContain('Room.events(after: "0")');
  });
});

// No bindings are needed to check and run a subscription; only `verify` reads the config.
const engine = liveEngine({} as Env);
const ROOM = "lobby";
const payload = (query: string, variables: Record<string, unknown> = {}) => ({ query, variables });

describe("the subscription engine a room is given", () => {
  it("checks a subscription and says where it resumes", () => {
    const q = `subscription($r: String!, $s: Int) { roomEvents(room: $r, since: $s) { seq } }`;
    expect(engine.prepare(payload(q, { r: ROOM, s: 4 }), ROOM)).toEqual({
      ok: true,
      since: 4,
      query: q,
    });
    expect(engine.prepare(payload(q, { r: ROOM }), ROOM)).toEqual({
      ok: true,
      since: undefined,
      query: q,
    });
  });

  it("refuses what is not roomEvents of this room, with the contract's bad_request", () => {
    const refusals = [
      `{ me { id } }`,
      `subscription { roomEvents(room: "elsewhere") { seq } }`,
      `subscription { roomEvents(room: "${ROOM}", since: -2) { seq } }`,
      `subscription { ...F } fragment F on Subscription { roomEvents(room: "${ROOM}") { seq } }`,
      `subscription { roomEvents(room: "${ROOM}") { seq nope } }`,
      `subscription { roomEvents(room: "${ROOM}") `,
    ].map((query) => engine.prepare(payload(query), ROOM));
    for (const refusal of refusals) {
      expect(refusal.ok).toBe(false);
      const errors = (refusal as { errors: { extensions: { code: string } }[] }).errors;
      expect(errors.map((e) => e.extensions.code)).toEqual(errors.map(() => "bad_request"));
    }
  });

  it("keys subscriptions by what their results depend on: not by the seq they resume from", () => {
    const q = `subscription($r: String!, $s: Int) { roomEvents(room: $r, since: $s) { seq } }`;
    const a = engine.keyOf(payload(q, { r: ROOM, s: 1 }));
    expect(engine.keyOf(payload(q, { r: ROOM, s: 99 }))).toBe(a);
    expect(engine.keyOf(payload(q, { r: "other", s: 1 }))).not.toBe(a);
    const inline = `subscription { roomEvents(room: "${ROOM}", since: 3) { seq } }`;
    expect(engine.keyOf(payload(inline))).not.toBe(engine.keyOf(payload(inline.replace("3", "4"))));
  });

  it("renders an event with the client's selection, also without a prepared document (after hibernation)", () => {
    const q = `subscription($r: String!) { roomEvents(room: $r) { seq type actor { name } data } }`;
    const fresh = liveEngine({} as Env);
    const p = payload(q, { r: ROOM });
    expect(JSON.parse(fresh.render(p, fresh.keyOf(p), event(5)))).toEqual({
      data: {
        roomEvents: {
          seq: 5,
          type: "message.posted",
          actor: { name: "ada" },
          data: { text: "m5" },
        },
      },
    });
  });
});

describe("trusted documents on the room's socket (GRAPHQL_TRUSTED_DOCUMENTS)", () => {
  const configured = (mode: string) =>
    liveEngine({ JWT_SECRET: "s".repeat(32), GRAPHQL_TRUSTED_DOCUMENTS: mode } as unknown as Env);
  const [id, text] = [...TRUSTED_DOCUMENTS].find(([, doc]) => doc.startsWith("subscription"))!;
  const byHash = {
    query: "",
    variables: { room: ROOM },
    extensions: { persistedQuery: { version: 1, sha256Hash: id.slice(7) } },
  };
  const unknownHash = {
    ...byHash,
    extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } },
  };
  const raw = payload(`subscription { roomEvents(room: "${ROOM}") { seq } }`);
  const codeOf = (answer: ReturnType<ReturnType<typeof liveEngine>["prepare"]>) =>
    answer.ok ? "ok" : (answer.errors as { message: string }[])[0]!.message;

  it("only: the manifest's subscription by hash or in full, and the worker's own for SSE; nothing else", () => {
    const only = configured("only");
    expect(only.prepare(byHash, ROOM)).toEqual({ ok: true, since: undefined, query: text });
    expect(only.prepare({ query: text, variables: { room: ROOM } }, ROOM)).toMatchObject({
      ok: true,
      query: text,
    });
    expect(only.prepare(payload(EVERY_FIELD, { room: ROOM }), ROOM).ok).toBe(true);
    expect(codeOf(only.prepare(raw, ROOM))).toMatch(/^only trusted documents run here/);
    expect(codeOf(only.prepare(unknownHash, ROOM))).toBe("PersistedQueryNotFound");
  });

  it("allow runs any document and the manifest's by hash; off knows no hashes", () => {
    const allow = configured("allow");
    expect(allow.prepare(raw, ROOM).ok).toBe(true);
    expect(allow.prepare(byHash, ROOM)).toMatchObject({ ok: true, query: text });
    expect(codeOf(allow.prepare(unknownHash, ROOM))).toBe("PersistedQueryNotFound");
    const off = configured("off");
    expect(off.prepare(raw, ROOM).ok).toBe(true);
    expect(off.prepare(byHash, ROOM).ok).toBe(false); // an empty document, not a hash
  });
});
