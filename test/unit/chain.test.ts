import { describe, expect, it } from "vitest";
import {
  checkAnchor,
  contentHashOf,
  GENESIS_HASH,
  linkHash,
  verifyChain,
  type ChainedEvent,
} from "../../src/protocol/index.ts";

type Spec = { type: string; data: unknown; version?: number };

/** A well-formed chain of the events given (posts by default). */
function chainOf(specs: Spec[]): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prevHash = GENESIS_HASH;
  specs.forEach(({ type, data, version }, i) => {
    const seq = i + 1;
    const fields = {
      seq,
      id: `id-${seq}`,
      type,
      at: 1_700_000_000_000 + seq,
      actor: { id: "u_ada", name: "ada" },
      contentHash: contentHashOf(data),
      prevHash,
      ...(version ? { version } : {}),
    };
    const hash = linkHash(fields);
    events.push({ ...fields, hash, data });
    prevHash = hash;
  });
  return events;
}

const posts = (n: number): Spec[] =>
  Array.from({ length: n }, (_, i) => ({
    type: "message.posted",
    data: { text: `message ${i + 1}` },
  }));
const chain = (n: number) => chainOf(posts(n));

/** Empties event `seq`'s text as the room does when `by` redacts its message. */
function redact(events: ChainedEvent[], seq: number, by: number): void {
  const e = events[seq - 1]!;
  events[seq - 1] = { ...e, data: { ...(e.data as object), text: "" }, redactedBy: by };
}

describe("the hash chain", () => {
  it("hashes content canonically (RFC 8785): key order and spacing do not matter", () => {
    expect(contentHashOf({ b: 1, a: "x" })).toBe(contentHashOf(JSON.parse('{ "a":"x",  "b":1 }')));
    expect(contentHashOf({ a: 1 })).not.toBe(contentHashOf({ a: 2 }));
    expect(contentHashOf({ text: "é" })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("verifies an intact chain and names its head", () => {
    const events = chain(5);
    expect(verifyChain(events)).toEqual({ ok: true, lastSeq: 5, head: events[4]!.hash });
    expect(verifyChain([])).toEqual({ ok: true, lastSeq: 0, head: GENESIS_HASH });
  });

  it("names the first broken link: changed content, changed fields, a missing event, a bad link", () => {
    const changed = chain(5);
    changed[2] = { ...changed[2]!, data: { text: "message 3!" } };
    expect(verifyChain(changed)).toMatchObject({ ok: false, seq: 3, problem: /content/ });

    const renamed = chain(5);
    renamed[1] = { ...renamed[1]!, actor: { id: "u_ada", name: "eve" } };
    expect(verifyChain(renamed)).toMatchObject({ ok: false, seq: 2, problem: /fields/ });

    const gap = chain(5).filter((e) => e.seq !== 4);
    expect(verifyChain(gap)).toMatchObject({ ok: false, seq: 4, problem: /missing/ });

    // Rebuilt from event 3 on with honest hashes that do not link to event 2.
    const forged = chain(5);
    forged[2] = { ...forged[2]!, prevHash: GENESIS_HASH };
    forged[2] = { ...forged[2], hash: linkHash(forged[2]) };
    expect(verifyChain(forged)).toMatchObject({ ok: false, seq: 3, problem: /link/ });
  });

  it("verifies a redacted event by its content hash, if a later message.redacted redacts it", () => {
    const events = chainOf([
      ...posts(2),
      { type: "message.edited", data: { messageId: 2, text: "changed" } },
      { type: "message.redacted", data: { messageId: 2 } },
    ]);
    redact(events, 2, 4);
    redact(events, 3, 4);
    expect(verifyChain(events)).toMatchObject({ ok: true, lastSeq: 4 });
  });

  it("does not let a changed text pass as redacted", () => {
    const unredacted = chain(3); // no message.redacted at all
    redact(unredacted, 2, 3);
    expect(verifyChain(unredacted)).toMatchObject({ ok: false, seq: 2, problem: /redacted/ });
    const other = chainOf([...posts(2), { type: "message.redacted", data: { messageId: 1 } }]);
    redact(other, 2, 3); // the redaction names message 1, not 2
    expect(verifyChain(other)).toMatchObject({ ok: false, seq: 2, problem: /redact/ });
    const beyond = chain(2);
    redact(beyond, 1, 9); // a redaction the log does not hold
    expect(verifyChain(beyond)).toMatchObject({ ok: false, seq: 1 });
    const notText = chainOf([{ type: "member.joined", data: {} }, ...posts(1)]);
    notText[0] = { ...notText[0]!, redactedBy: 2 };
    expect(verifyChain(notText)).toMatchObject({ ok: false, seq: 1, problem: /cannot be/ });
  });

  it("covers the data's version when it is not 1", () => {
    const events = chainOf([
      {
        type: "room.created",
        data: { name: "a", topic: "", visibility: "public", shards: 0 },
        version: 2,
      },
      ...posts(1),
    ]);
    expect(verifyChain(events)).toMatchObject({ ok: true });
    events[0] = { ...events[0]!, version: 1 };
    expect(verifyChain(events)).toMatchObject({ ok: false, seq: 1, problem: /fields/ });
    expect(linkHash({ ...events[1]!, version: 1 })).toBe(events[1]!.hash); // 1 is left out
  });

  it("catches a cut-off tail only with the anchor kept outside", () => {
    const events = chain(6);
    const hashAt = (seq: number) => events[seq - 1]?.hash;
    const cut = verifyChain(events.slice(0, 4));
    if (!cut.ok) throw new Error("a cut chain verifies by itself");
    const anchored = { lastSeq: 6, head: events[5]!.hash };
    expect(checkAnchor(cut, anchored, hashAt)).toMatchObject({
      ok: false,
      seq: 5,
      problem: /cut off/,
    });
    const whole = verifyChain(events);
    if (!whole.ok) throw new Error("intact");
    expect(checkAnchor(whole, anchored, hashAt)).toMatchObject({ ok: true, anchoredSeq: 6 });
    expect(checkAnchor(whole, { lastSeq: 4, head: GENESIS_HASH }, hashAt)).toMatchObject({
      ok: false,
      seq: 4,
    });
    expect(checkAnchor(whole, undefined, hashAt)).toEqual(whole);
  });
});
