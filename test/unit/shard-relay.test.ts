import { describe, expect, it } from "vitest";
import type { RoomEvent } from "../../src/protocol/index.ts";
import { ShardRelay, type Relay } from "../../src/room/shard-relay.ts";

const event = (seq: number) =>
  ({
    seq,
    id: `e${seq}`,
    type: "member.joined",
    at: 1,
    actor: { id: "u", name: "u" },
    data: {},
  }) as RoomEvent;
const seqs = (relay: Relay) => relay.events.map((e) => e.seq);
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("ShardRelay", () => {
  it("sends at once, then coalesces what comes while a relay is in flight, in order", async () => {
    const sent: number[][] = [];
    let finish: () => void = () => undefined;
    const relay = new ShardRelay(async (_shard, r) => {
      sent.push(seqs(r));
      await new Promise<void>((resolve) => (finish = resolve));
    });
    relay.push(0, { events: [event(1)], frames: [] });
    relay.push(0, { events: [event(2)], frames: [] });
    relay.push(0, { events: [event(3), event(4)], frames: [] });
    expect(sent).toEqual([[1]]);
    finish();
    await turn();
    expect(sent).toEqual([[1], [2, 3, 4]]);
    finish();
    await turn();
    expect(relay.pending).toBe(0);
  });

  it("retries a shard it cannot reach, keeping what failed ahead of what came later", async () => {
    const sent: number[][] = [];
    let failures = 1;
    const relay = new ShardRelay(async (_shard, r) => {
      sent.push(seqs(r));
      if (failures-- > 0) throw new Error("shard away");
    });
    relay.push(1, { events: [event(1)], frames: [] });
    relay.push(1, { events: [event(2)], frames: [] });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sent).toEqual([[1], [1, 2]]);
    expect(relay.pending).toBe(0);
  });
});
