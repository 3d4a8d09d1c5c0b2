import { describe, expect, it } from "vitest";
import { EVENT_TYPES, type Delivery } from "../../src/protocol/index.ts";
import { currentRoute, integrationsHref } from "../../src/web/route.ts";
import {
  attemptText,
  deliveryChanged,
  deliveryDetail,
  eventTypeGroups,
  eventTypesText,
  inText,
  mergeRefresh,
  replayable,
  secretsText,
  WEBHOOK_OVERLAPS,
  webhookStatusText,
} from "../../src/web/webhooks/webhook-rules.ts";

/** A delivery of the log, created at `at` (ms), with `tries` tries of `status`. */
function delivery(id: string, at: number, more: Partial<Delivery> = {}): Delivery {
  return {
    id: `dlv_${id.padStart(24, "0")}`,
    webhookId: `wh_${"a".repeat(24)}`,
    messageId: `msg_${id}`,
    eventType: "message.posted",
    room: "lobby",
    seq: at,
    status: "delivered",
    createdAt: at,
    updatedAt: at,
    nextAttemptAt: null,
    attempts: [{ at, status: 200, error: null, durationMs: 12, response: "ok" }],
    ...more,
  };
}

const ids = (list: { deliveries: Delivery[] }) => list.deliveries.map((d) => d.createdAt);

describe("the webhook screens' words", () => {
  it("groups every event type once, by its first word, in the protocol's order", () => {
    const groups = eventTypeGroups();
    expect(groups.map((g) => g.title)).toEqual([
      "Room",
      "Members",
      "Messages",
      "Reactions",
      "Rules",
      "Plugins",
    ]);
    expect(groups.flatMap((g) => g.types).sort()).toEqual([...EVENT_TYPES].sort());
    expect(groups.find((g) => g.title === "Reactions")!.types).toEqual([
      "reaction.added",
      "reaction.removed",
    ]);
    // A kind of event the screens do not know yet gets a group titled by its word.
    const later = eventTypeGroups(["message.posted", "poll.closed" as never]);
    expect(later.map((g) => g.title)).toEqual(["Messages", "poll"]);
  });

  it("says what an endpoint receives, its status and why it is disabled, and its secrets", () => {
    expect(eventTypesText("*")).toBe("all events");
    expect(eventTypesText(["message.posted", "member.joined"])).toBe(
      "message.posted, member.joined",
    );
    expect(webhookStatusText({ status: "enabled", disabledReason: null })).toBe("enabled");
    expect(webhookStatusText({ status: "disabled", disabledReason: "gone" })).toBe(
      "disabled: the receiver answered 410 Gone",
    );
    expect(webhookStatusText({ status: "disabled", disabledReason: "failing" })).toMatch(
      /^disabled: every try failed/,
    );
    expect(webhookStatusText({ status: "disabled", disabledReason: "manual" })).toBe(
      "disabled by hand",
    );
    const until = Date.UTC(2030, 0, 1);
    expect(
      secretsText({
        secrets: [
          { hint: "whsec_AAAA", createdAt: 2, expiresAt: null },
          { hint: "whsec_BBBB", createdAt: 1, expiresAt: until },
        ],
      }),
    ).toBe(`whsec_AAAA…, whsec_BBBB… (signs until ${new Date(until).toLocaleString()})`);
  });

  it("offers rotation overlaps within the webhooks' 7 days, none included", () => {
    expect(WEBHOOK_OVERLAPS.map(([s]) => s)).toEqual([0, 3600, 86_400, 7 * 86_400]);
  });

  it("tells each delivery's state: the next try, how many tries, why it was not sent", () => {
    const now = 1_000_000;
    const failed = { at: now - 1000, status: 503, error: null, durationMs: 8, response: "nope" };
    expect(deliveryDetail(delivery("1", now, { status: "pending", attempts: [] }), now)).toBe(
      "waiting for its first try",
    );
    expect(deliveryDetail(delivery("1", now, { status: "pending", attempts: [failed] }), now)).toBe(
      "sending again (1 try so far)",
    );
    expect(deliveryDetail(delivery("1", now), now)).toBe("delivered at the first try");
    expect(
      deliveryDetail(
        delivery("1", now, { attempts: [failed, failed, { ...failed, status: 200 }] }),
        now,
      ),
    ).toBe("delivered after 3 tries");
    const retrying = delivery("1", now, {
      status: "retrying",
      attempts: [failed],
      nextAttemptAt: now + 4000,
    });
    expect(deliveryDetail(retrying, now)).toMatch(/^next try at .+ \(in 4 s\)$/);
    expect(deliveryDetail(delivery("1", now, { status: "dead", attempts: [failed] }), now)).toMatch(
      /^gave up after 1 try/,
    );
    expect(deliveryDetail(delivery("1", now, { status: "skipped", attempts: [] }), now)).toBe(
      "not sent: the webhook was disabled",
    );
    expect([0, 400, 4000, 600_000].map((ms) => inText(now + ms, now))).toEqual([
      "now",
      "now",
      "in 4 s",
      "in 10 min",
    ]);
  });

  it("offers a replay for every delivery not already waiting for its try", () => {
    expect(
      (["pending", "delivered", "retrying", "dead", "skipped"] as const).filter(replayable),
    ).toEqual(["delivered", "retrying", "dead", "skipped"]);
  });

  it("writes a try as its HTTP status or its error, and its duration", () => {
    const at = 0;
    expect(attemptText({ at, status: 502, error: null, durationMs: 1234, response: "" })).toBe(
      "HTTP 502 · 1.2 s",
    );
    expect(
      attemptText({ at, status: null, error: "timeout", durationMs: 15000, response: "" }),
    ).toBe("timeout · 15.0 s");
  });

  it("knows when a delivery's drawing must change", () => {
    const one = delivery("1", 10, { status: "retrying", nextAttemptAt: 20 });
    expect(deliveryChanged(one, { ...one })).toBe(false);
    expect(deliveryChanged(one, { ...one, status: "dead" })).toBe(true);
    expect(deliveryChanged(one, { ...one, attempts: [...one.attempts, ...one.attempts] })).toBe(
      true,
    );
  });
});

describe("a refresh of the delivery log", () => {
  // Newest first, as the API answers.
  const page = (...ats: number[]) => ats.map((at) => delivery(String(at), at));

  it("on the first load, and when the newest page holds everything, is that page", () => {
    expect(ids(mergeRefresh({ deliveries: [], nextBefore: null }, page(3, 2), "c"))).toEqual([
      3, 2,
    ]);
    const shown = { deliveries: page(3, 2, 1), nextBefore: null };
    expect(mergeRefresh(shown, page(4, 3, 2, 1), null)).toEqual({
      deliveries: page(4, 3, 2, 1),
      nextBefore: null,
    });
  });

  it("keeps what older pages brought below the newest page, with their cursor", () => {
    const shown = { deliveries: page(5, 4, 3, 2), nextBefore: "after-2" };
    const merged = mergeRefresh(shown, page(6, 5, 4), "after-4");
    expect(ids(merged)).toEqual([6, 5, 4, 3, 2]);
    expect(merged.nextBefore).toBe("after-2");
  });

  it("drops one that left the filter, above the page's oldest", () => {
    const shown = { deliveries: page(5, 4, 3, 2), nextBefore: "after-2" };
    // 4 is no longer `retrying`: the fresh page of retrying ones skips it.
    expect(ids(mergeRefresh(shown, page(5, 3), "after-3"))).toEqual([5, 3, 2]);
  });

  it("starts over when more arrived than the page holds: no gap is ever shown", () => {
    const shown = { deliveries: page(3, 2, 1), nextBefore: null };
    const merged = mergeRefresh(shown, page(9, 8, 7), "after-7");
    expect(merged).toEqual({ deliveries: page(9, 8, 7), nextBefore: "after-7" });
  });
});

describe("the Integrations route", () => {
  it("is the room's, and nothing else's", () => {
    expect(integrationsHref("ops room")).toBe("#/room/ops%20room/integrations");
    expect(currentRoute("#/room/ops%20room/integrations")).toEqual({
      view: "room",
      room: "ops room",
      integrations: true,
    });
    expect(currentRoute("#/search/x/integrations")).toEqual({ view: "rooms" });
    expect(currentRoute("#/room/x/webhooks")).toEqual({ view: "rooms" });
    expect(currentRoute("#/admin/webhooks")).toEqual({ view: "admin", section: "webhooks" });
  });
});
