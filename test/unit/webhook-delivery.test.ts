import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  failingTooLong,
  judgeTry,
  DISABLE_MIN_FAILURES,
} from "../../src/integrations/delivery-outcome.ts";
import {
  intoSendBatches,
  MAX_BATCH_BYTES,
  MAX_BATCH_MESSAGES,
  MAX_MESSAGE_BYTES,
  packRoomEvents,
} from "../../src/integrations/queue-messages.ts";
import {
  DEFAULT_RETRY_DELAYS,
  MAX_QUEUE_DELAY_SECONDS,
  retryDelaySeconds,
} from "../../src/integrations/retry-schedule.ts";
import type { RoomEvent } from "../../src/protocol/index.ts";

describe("the retry schedule", () => {
  it("is the Standard Webhooks schedule: 8 tries over about 27.6 hours", () => {
    expect(DEFAULT_RETRY_DELAYS.length + 1).toBe(8);
    const hours = DEFAULT_RETRY_DELAYS.reduce((a, b) => a + b, 0) / 3600;
    expect(hours).toBeCloseTo(27.6, 1);
    expect(Math.max(...DEFAULT_RETRY_DELAYS)).toBeLessThanOrEqual(MAX_QUEUE_DELAY_SECONDS);
  });

  it("waits the scheduled delay, longer when the receiver asks, never past Queues' 12 h", () => {
    expect(retryDelaySeconds(1, [5, 300])).toBe(5);
    expect(retryDelaySeconds(2, [5, 300])).toBe(300);
    expect(retryDelaySeconds(3, [5, 300])).toBeUndefined();
    expect(retryDelaySeconds(1, [5], 120)).toBe(120);
    expect(retryDelaySeconds(1, [5], 1)).toBe(5);
    expect(retryDelaySeconds(1, [5], 10 ** 9)).toBe(MAX_QUEUE_DELAY_SECONDS);
  });
});

describe("a try's verdict", () => {
  const delays = [1, 2];
  it("delivers on any 2xx, and ends on 410 Gone", () => {
    for (const status of [200, 201, 204, 299])
      expect(judgeTry({ status }, 1, delays)).toEqual({ kind: "delivered" });
    expect(judgeTry({ status: 410 }, 1, delays)).toEqual({ kind: "gone" });
  });

  it("retries every other answer, and no answer, until the schedule is spent", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constant(null),
          fc.integer({ min: 100, max: 599 }).filter((s) => (s < 200 || s >= 300) && s !== 410),
        ),
        fc.integer({ min: 1, max: 5 }),
        (status, tryNumber) => {
          const verdict = judgeTry({ status }, tryNumber, delays);
          if (tryNumber <= delays.length)
            expect(verdict).toEqual({ kind: "retry", delaySeconds: delays[tryNumber - 1] });
          else expect(verdict).toEqual({ kind: "dead" });
        },
      ),
    );
  });

  it("disables an endpoint only after enough failures over long enough", () => {
    const day = 86_400_000;
    expect(failingTooLong(DISABLE_MIN_FAILURES, 0, 5 * day, 5 * day)).toBe(true);
    expect(failingTooLong(DISABLE_MIN_FAILURES - 1, 0, 10 * day, 5 * day)).toBe(false);
    expect(failingTooLong(100, 0, 5 * day - 1, 5 * day)).toBe(false);
    expect(failingTooLong(100, null, 10 * day, 5 * day)).toBe(false);
  });
});

describe("packing a room's events for the queue", () => {
  const event = (seq: number, text: string): RoomEvent => ({
    seq,
    id: `e${seq}`,
    type: "message.posted",
    at: 1,
    actor: { id: "u", name: "u" },
    data: { text },
  });
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

  it("keeps order, loses nothing, and keeps every message under Queues' limit", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 16_000 }), { maxLength: 60 }), (texts) => {
        const events = texts.map((text, i) => event(i + 1, text || "x"));
        const messages = packRoomEvents("lobby", ["room"], events);
        expect(messages.flatMap((m) => m.events)).toEqual(events);
        for (const message of messages)
          expect(bytes(message)).toBeLessThan(MAX_MESSAGE_BYTES + 1000);
        const batches = intoSendBatches(messages);
        expect(batches.flat()).toEqual(messages);
        for (const batch of batches) {
          expect(batch.length).toBeLessThanOrEqual(MAX_BATCH_MESSAGES);
          expect(batch.length === 1 || bytes(batch) <= MAX_BATCH_BYTES + 1000).toBe(true);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("sends nothing for no events", () => {
    expect(packRoomEvents("lobby", ["room"], [])).toEqual([]);
    expect(intoSendBatches([])).toEqual([]);
  });
});
