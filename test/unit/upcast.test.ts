import { describe, expect, it } from "vitest";
import stored from "../fixtures/events/stored-v1.json" with { type: "json" };
import {
  EVENT_VERSION,
  EventData,
  upcast,
  UpcastError,
  type EventType,
} from "../../src/protocol/index.ts";

type Fixture = { type: string; version: number; data: unknown; current?: unknown };
const fixtures = stored as Fixture[];

describe("versioned events (upcast.ts)", () => {
  it("has a stored fixture of the oldest form of every event type", () => {
    const covered = new Set(fixtures.map((f) => f.type));
    expect([...covered].sort()).toEqual(Object.keys(EVENT_VERSION).sort());
  });

  it.each(fixtures.map((f) => [f.type, f] as const))(
    "reads a stored %s of version 1 as the current shape",
    (type, fixture) => {
      const data = upcast(type, fixture.version, fixture.data);
      expect(EventData[type as EventType].safeParse(data).success).toBe(true);
      expect(data).toEqual(fixture.current ?? fixture.data);
    },
  );

  it("leaves data of the current version as it is", () => {
    const data = { name: "a", topic: "", visibility: "public", shards: 2 };
    expect(upcast("room.created", EVENT_VERSION["room.created"], data)).toBe(data);
  });

  it("refuses what storage should never hold", () => {
    expect(() => upcast("message.unknown", 1, {})).toThrow(UpcastError);
    expect(() => upcast("message.posted", 2, { text: "x" })).toThrow(/no version 2/);
    expect(() => upcast("message.posted", 0, { text: "x" })).toThrow(UpcastError);
    expect(() => upcast("room.created", 1, null)).toThrow(/not an object/);
    expect(() => upcast("room.created", 1, ["x"])).toThrow(/not an object/);
  });
});
