import { describe, expect, it } from "vitest";
import { readMessage } from "../../src/client/incoming.ts";

const event = (seq: number) => ({
  type: "event",
  event: {
    seq,
    id: `e${seq}`,
    type: "message.posted",
    at: 1,
    actor: { id: "u", name: "u" },
    data: { text: "hi" },
  },
});

describe("readMessage", () => {
  it("reads a batch frame by frame, in order", () => {
    const batch = {
      type: "batch",
      frames: [{ type: "ack", clientId: "c1", seq: 7 }, event(7), event(8)],
    };
    expect(
      readMessage(JSON.stringify(batch)).map((i) => ("frame" in i ? i.frame.type : "?")),
    ).toEqual(["ack", "event", "event"]);
  });

  it("keeps the seq of an event of a newer kind, inside a batch too, and drops what it cannot read", () => {
    const newer = { ...event(9), event: { ...event(9).event, type: "room.future", data: {} } };
    const batch = { type: "batch", frames: [event(8), newer, { type: "hologram" }, event(10)] };
    expect(readMessage(JSON.stringify(batch))).toEqual([
      { frame: event(8) },
      { unknownEventSeq: 9 },
      { frame: event(10) },
    ]);
    expect(readMessage("not json")).toEqual([]);
    expect(readMessage(new ArrayBuffer(2))).toEqual([]);
  });
});
