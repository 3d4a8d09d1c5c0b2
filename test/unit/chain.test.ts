import { describe, expect, it } from "vitest";
import {
  checkAnchor,
  contentHashOf,
  GENESIS_HASH,
  linkHash,
  verifyChain,
  type ChainedEvent,
} from "../../src/protocol/index.ts";

/** A well-formed chain of `n` posts. */
function chain(n: number): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const data = { text: `message ${seq}` };
    const fields = {
      seq,
      id: `id-${seq}`,
      type: "message.posted",
      at: 1_700_000_000_000 + seq,
      actor: { id: "u_ada", name: "ada" },
      contentHash: contentHashOf(data),
      prevHash,
    };
    const hash = linkHash(fields);
    events.push({ ...fields, hash, data });
    prevHash = hash;
  }
  return events;
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

  it("verifies a redacted event by its content hash alone", () => {
    const events = chain(3);
    const { data: _gone, ...redacted } = events[1]!;
    events[1] = redacted;
    expect(verifyChain(events)).toMatchObject({ ok: true, lastSeq: 3 });
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
