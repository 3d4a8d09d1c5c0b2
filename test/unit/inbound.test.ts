import { describe, expect, it } from "vitest";
import { ErrorFrame, LIMITS } from "../../src/protocol/index.ts";
import { parseFrame } from "../../src/room/inbound.ts";

/** Every refusal must be sendable as the contract's error frame. */
function expectError(data: string | ArrayBuffer, code: string) {
  const result = parseFrame(data);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  const { ok: _, ...error } = result;
  expect(ErrorFrame.safeParse({ type: "error", ...error }).success).toBe(true);
  expect(result.code).toBe(code);
  return result;
}

describe("parseFrame", () => {
  it("accepts every client frame of the contract", () => {
    const frames = [
      { type: "post", clientId: "c", text: "hi" },
      { type: "post", clientId: "c", text: "hi", replyTo: 3 },
      { type: "edit", clientId: "c", messageId: 3, text: "x" },
      { type: "delete", clientId: "c", messageId: 3 },
      { type: "react", clientId: "c", messageId: 3, emoji: "👍", on: true },
      { type: "react", clientId: "c", messageId: 3, emoji: "👩‍💻", on: false },
      { type: "typing" },
      { type: "read", seq: 0 },
      { type: "ping" },
    ];
    for (const frame of frames)
      expect(parseFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
  });

  it("refuses malformed, unknown and binary frames with bad_request", () => {
    expectError("{not json", "bad_request");
    expectError("[1,2]", "bad_request");
    expectError("null", "bad_request");
    expectError('"post"', "bad_request");
    expectError('{"type":"shout"}', "bad_request");
    expectError('{"type":"post","text":"hi"}', "bad_request");
    expectError(new ArrayBuffer(4), "bad_request");
  });

  it("refuses bad values with a message naming the field", () => {
    const error = expectError('{"type":"post","clientId":"c9","text":"   "}', "bad_request");
    expect(error?.message).toMatch(/^text: /);
    expect(error?.clientId).toBe("c9");
    expectError(
      JSON.stringify({ type: "post", clientId: "c", text: "a".repeat(4001) }),
      "bad_request",
    );
    expectError(
      JSON.stringify({ type: "post", clientId: "x".repeat(65), text: "hi" }),
      "bad_request",
    );
    expectError(
      JSON.stringify({ type: "react", clientId: "c", messageId: 1, emoji: "ab", on: true }),
      "bad_request",
    );
    expectError(
      JSON.stringify({ type: "react", clientId: "c", messageId: 1, emoji: "👍👍", on: true }),
      "bad_request",
    );
    expectError(
      JSON.stringify({ type: "edit", clientId: "c", messageId: -1, text: "x" }),
      "bad_request",
    );
    expectError(JSON.stringify({ type: "read", seq: 1.5 }), "bad_request");
  });

  it("counts message length in code points, not UTF-16 units", () => {
    const emoji4000 = "😀".repeat(4000); // 8000 UTF-16 units
    expect(parseFrame(JSON.stringify({ type: "post", clientId: "c", text: emoji4000 })).ok).toBe(
      true,
    );
  });

  it("refuses a frame over 64 KiB with too_large before parsing it", () => {
    const big = JSON.stringify({
      type: "post",
      clientId: "c",
      text: "a".repeat(LIMITS.frameBytes),
    });
    expectError(big, "too_large");
  });

  it("ignores fields it does not know", () => {
    expect(parseFrame('{"type":"ping","extra":1}')).toEqual({ ok: true, frame: { type: "ping" } });
  });
});
