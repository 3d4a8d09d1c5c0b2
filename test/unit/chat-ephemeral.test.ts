import { describe, expect, it } from "vitest";
import { initialChatState, reduce, type ChatState } from "../../src/web/chat-state.ts";
import { ephemeralKey } from "../../src/web/ephemeral-item.ts";

const answer = (text: string, after: number) =>
  ({ type: "ephemeral", text, from: "/deploy", at: 5, after }) as const;

describe("ephemeral answers in the room's state", () => {
  it("each comes after the newest event, in the order they came, and scrolls into view", () => {
    let state: ChatState = initialChatState;
    const first = reduce(state, answer("one", 7));
    expect(first.effects).toEqual([{ kind: "scroll-to-bottom" }]);
    state = reduce(first.state, answer("two", 7)).state;
    state = reduce(state, answer("three", 9)).state;
    expect(state.ephemerals.map((e) => [e.id, e.text, e.after])).toEqual([
      [1, "one", 7],
      [2, "two", 7],
      [3, "three", 9],
    ]);
    const keys = state.ephemerals.map(ephemeralKey);
    // After event 7 and before event 8, in order; the third after 9.
    expect(keys[0]).toBeGreaterThan(7);
    expect(keys[1]).toBeGreaterThan(keys[0]!);
    expect(keys[1]).toBeLessThan(8);
    expect(keys[2]).toBeGreaterThan(9);
    expect(keys[2]).toBeLessThan(10);
  });

  it("stays below the next event however many come", () => {
    let state: ChatState = initialChatState;
    for (let i = 0; i < 1000; i++) state = reduce(state, answer(`n${i}`, 3)).state;
    const keys = state.ephemerals.map(ephemeralKey);
    expect(keys.every((key, i) => key < 4 && (i === 0 || key > keys[i - 1]!))).toBe(true);
  });

  it("goes when dismissed, and when a gap starts the history over", () => {
    let state = reduce(initialChatState, answer("one", 1)).state;
    state = reduce(state, answer("two", 1)).state;
    state = reduce(state, { type: "ephemeral-dismissed", id: 1 }).state;
    expect(state.ephemerals.map((e) => e.text)).toEqual(["two"]);
    expect(reduce(state, { type: "gap" }).state.ephemerals).toEqual([]);
  });
});
