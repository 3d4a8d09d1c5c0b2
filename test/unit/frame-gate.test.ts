import { describe, expect, it } from "vitest";
import { ServerFrame } from "../../src/protocol/index.ts";
import { FrameGate, type Verdict } from "../../src/room/frame-gate.ts";

const post = (i: number) => JSON.stringify({ type: "post", clientId: `c${i}`, text: "hi" });
const kinds = (verdicts: Verdict[]) => verdicts.map((v) => (v.kind === "close" ? v.code : v.kind));

describe("FrameGate", () => {
  it("lets a burst of 40 commands through, then refuses with the command's clientId and the wait for a token", () => {
    const gate = new FrameGate();
    const verdicts = Array.from({ length: 45 }, (_, i) => gate.admit("a", post(i), 0));
    expect(kinds(verdicts).filter((k) => k === "frame")).toHaveLength(40);
    const refused = verdicts[44]!;
    expect(refused).toEqual({
      kind: "refuse",
      error: {
        type: "error",
        code: "rate_limited",
        message: expect.any(String),
        clientId: "c44",
        retryAfterMs: 50,
      },
    });
    if (refused.kind === "refuse") expect(ServerFrame.safeParse(refused.error).success).toBe(true);
  });

  it("closes a connection that goes on past the limit with 4429, and only that one", () => {
    const gate = new FrameGate();
    const verdicts = Array.from({ length: 200 }, (_, i) => gate.admit("a", post(i), 0));
    expect(kinds(verdicts).indexOf(4429)).toBe(140); // 40 allowed, then 100 refusals
    expect(gate.admit("b", post(0), 0).kind).toBe("frame");
  });

  it("answers malformed frames with errors, then closes a stream of them with 4400", () => {
    const gate = new FrameGate();
    const verdicts = Array.from({ length: 21 }, (_, i) => gate.admit("a", "{oops", i));
    expect(
      kinds(verdicts)
        .slice(0, 20)
        .every((k) => k === "refuse"),
    ).toBe(true);
    expect(verdicts[20]).toEqual({ kind: "close", code: 4400, reason: expect.any(String) });
  });

  it("forgets a closed connection's buckets", () => {
    const gate = new FrameGate();
    for (let i = 0; i < 40; i++) gate.admit("a", post(i), 0);
    expect(gate.admit("a", post(40), 0).kind).toBe("refuse");
    gate.forget("a");
    expect(gate.admit("a", post(41), 0).kind).toBe("frame");
  });
});

describe("received reports", () => {
  it("have a bucket of their own: they never cost the sender its commands, and a flood of them is dropped", () => {
    const gate = new FrameGate();
    const report = (seq: number) => JSON.stringify({ type: "received", seq });
    const verdicts = Array.from({ length: 30 }, (_, i) => gate.admit("c", report(i), 0).kind);
    expect(verdicts.filter((k) => k === "frame")).toHaveLength(20);
    expect(verdicts.filter((k) => k === "drop")).toHaveLength(10);
    // The command bucket is untouched: the full burst of 40 posts still goes through.
    const posts = Array.from(
      { length: 40 },
      (_, i) =>
        gate.admit("c", JSON.stringify({ type: "post", clientId: `p${i}`, text: "hi" }), 0).kind,
    );
    expect(posts.every((k) => k === "frame")).toBe(true);
  });
});
