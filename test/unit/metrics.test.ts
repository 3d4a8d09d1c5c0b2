import { describe, expect, it } from "vitest";
import { render } from "../../src/metrics/exposition.ts";
import { databaseGauges, roomGauges } from "../../src/metrics/gauges.ts";
import { addDelta, bucketOf, emptyDelta, Meter, seriesKey } from "../../src/metrics/meter.ts";
import { adminRooms, buildOverview } from "../../src/metrics/overview.ts";
import { applyReport, byRoom, isActive } from "../../src/metrics/room-report.ts";
import {
  addWindows,
  denseWindows,
  emptyWindow,
  foldDelta,
  labelOf,
  quantile,
  WINDOW_MS,
} from "../../src/metrics/windows.ts";
import { Overview } from "../../src/protocol/index.ts";

describe("the meter", () => {
  it("keys series by the catalogue's label order and escapes values", () => {
    expect(seriesKey("commands_total", { outcome: "ok", type: "post" })).toBe(
      'commands_total{type="post",outcome="ok"}',
    );
    expect(seriesKey("api_errors_total", { code: 'a"b\\c\nd' })).toBe(
      'api_errors_total{code="a\\"b\\\\c\\nd"}',
    );
    expect(seriesKey("room_wakeups_total", {})).toBe("room_wakeups_total");
    expect(labelOf('commands_total{type="post",outcome="not_found"}', "outcome")).toBe("not_found");
    expect(labelOf('api_errors_total{code="a\\"b"}', "code")).toBe('a"b');
  });

  it("counts, takes, and puts back what could not be delivered", () => {
    const meter = new Meter();
    expect(meter.empty).toBe(true);
    meter.count("commands_total", { type: "post", outcome: "ok" }, 2);
    meter.observe("commit_duration_seconds", {}, 0.003);
    const taken = meter.take();
    expect(meter.empty).toBe(true);
    expect(taken.counters['commands_total{type="post",outcome="ok"}']).toBe(2);
    expect(taken.histograms["commit_duration_seconds"]!.count).toBe(1);
    meter.count("commands_total", { type: "post", outcome: "ok" });
    meter.restore(taken);
    expect(meter.take().counters['commands_total{type="post",outcome="ok"}']).toBe(3);
  });

  it("puts an observation in the first bucket whose bound holds it, +Inf past the last", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.0005)).toBe(0);
    expect(bucketOf(0.0006)).toBe(1);
    expect(bucketOf(10)).toBe(13);
    expect(bucketOf(11)).toBe(14);
  });
});

describe("the text format", () => {
  it("writes HELP and TYPE for every metric, counters, cumulative buckets and gauges", () => {
    const meter = new Meter();
    meter.count("commands_total", { type: "post", outcome: "ok" }, 3);
    meter.observe("commit_duration_seconds", {}, 0.002);
    meter.observe("commit_duration_seconds", {}, 20);
    const text = render(meter.take(), [{ name: "rooms_active", value: 2 }]);
    expect(text).toContain("# TYPE edgechat_commands_total counter\n");
    expect(text).toContain('edgechat_commands_total{type="post",outcome="ok"} 3\n');
    expect(text).toContain('edgechat_commit_duration_seconds_bucket{le="0.001"} 0\n');
    expect(text).toContain('edgechat_commit_duration_seconds_bucket{le="0.0025"} 1\n');
    expect(text).toContain('edgechat_commit_duration_seconds_bucket{le="10"} 1\n');
    expect(text).toContain('edgechat_commit_duration_seconds_bucket{le="+Inf"} 2\n');
    expect(text).toContain("edgechat_commit_duration_seconds_count 2\n");
    expect(text).toContain("edgechat_commit_duration_seconds_sum 20.002\n");
    expect(text).toContain("# TYPE edgechat_rooms_active gauge\nedgechat_rooms_active 2\n");
    // A metric with nothing counted yet is still declared, so that queries find it.
    expect(text).toContain("# TYPE edgechat_flush_batches_total counter\n");
    expect(text.endsWith("\n")).toBe(true);
  });

  it("adds deltas from several places into one total", () => {
    const a = new Meter();
    const b = new Meter();
    a.count("deliveries_total", { transport: "chat" }, 5);
    b.count("deliveries_total", { transport: "chat" }, 7);
    b.observe("fanout_duration_seconds", {}, 0.01);
    const total = addDelta(addDelta(emptyDelta(), a.take()), b.take());
    expect(total.counters['deliveries_total{transport="chat"}']).toBe(12);
    expect(total.histograms["fanout_duration_seconds"]!.buckets[4]).toBe(1);
  });
});

describe("quantiles from buckets", () => {
  it("interpolates inside the bucket, as histogram_quantile does", () => {
    const buckets = emptyWindow(0).commit;
    buckets[4] = 10; // (0.005, 0.01]
    expect(quantile(buckets, 0.5)).toBeCloseTo(0.0075);
    expect(quantile(buckets, 1)).toBeCloseTo(0.01);
    expect(quantile(emptyWindow(0).commit, 0.5)).toBeNull();
    const slow = emptyWindow(0).commit;
    slow[14] = 1;
    expect(quantile(slow, 0.99)).toBe(10);
  });
});

describe("windows and the overview", () => {
  const meter = new Meter();
  meter.count("commands_total", { type: "post", outcome: "ok" }, 20);
  meter.count("commands_total", { type: "post", outcome: "rate_limited" }, 5);
  meter.count("refusals_total", { reason: "quota" }, 1);
  meter.count("events_appended_total", { type: "message.posted" }, 20);
  meter.count("api_errors_total", { code: "unauthorized" }, 3);
  meter.observe("commit_duration_seconds", {}, 0.004);
  const delta = meter.take();

  it("folds a delta into a window's messages, commands, refusals and errors", () => {
    const window = emptyWindow(0);
    foldDelta(window, delta);
    expect(window).toMatchObject({
      messages: 20,
      commands: 25,
      refusals: { rate_limited: 5, quota: 1 },
      errors: { unauthorized: 3 },
    });
    expect(window.commit.reduce((a, b) => a + b)).toBe(1);
  });

  it("fills windows nobody pushed in, gauges carried forward, and adds shards", () => {
    const start = 100 * WINDOW_MS;
    const pushed = { ...emptyWindow(start), sockets: 4, rooms: 2, commands: 10 };
    const dense = denseWindows([pushed], start, start + 3 * WINDOW_MS);
    expect(dense.map((w) => [w.commands, w.sockets])).toEqual([
      [10, 4],
      [0, 4],
      [0, 4],
      [0, 4],
    ]);
    const other = denseWindows([], start, start + 3 * WINDOW_MS);
    expect(addWindows([dense, other]).map((w) => w.sockets)).toEqual([4, 4, 4, 4]);
  });

  it("builds the overview the contract describes", () => {
    const now = 1_000 * WINDOW_MS + 1234;
    const window = emptyWindow(999 * WINDOW_MS);
    foldDelta(window, delta);
    window.sockets = 3;
    window.rooms = 1;
    const room = applyReport(
      undefined,
      {
        name: "lobby",
        part: "room",
        sockets: { chat: 2, graphql: 1 },
        backlog: 0,
        oldestUnflushedAt: null,
        events: 20,
      },
      now - 2000,
    );
    const overview = Overview.parse(
      buildOverview([{ windows: [window], rooms: [room] }], now, { replicaLagMs: null }),
    );
    expect(overview.series.at).toHaveLength(360);
    expect(overview.series.at.at(-1)).toBe(1_000 * WINDOW_MS);
    expect(overview.now).toMatchObject({ roomsActive: 1, socketsOpen: 3, messagesPerSecond: 2 });
    expect(overview.series.refusalsPerSecond["rate_limited"]!.at(-1)).toBe(0.5);
    expect(overview.series.commitMs.p50.at(-1)).toBeCloseTo(3.75);
    expect(overview.busiestRooms).toEqual([
      { name: "lobby", socketsOpen: 3, recentEvents: 20, lastActiveAt: now - 2000 },
    ]);
  });

  it("keeps a room active while it has sockets or a recent event", () => {
    const report = {
      part: "room",
      name: "r",
      sockets: { chat: 0, graphql: 0 },
      backlog: 0,
      oldestUnflushedAt: null,
    };
    const row = applyReport(undefined, { ...report, events: 1 }, 0);
    expect(isActive(row, 299_000)).toBe(true);
    expect(isActive(row, 301_000)).toBe(false);
    const open = applyReport(row, { ...report, sockets: { chat: 1, graphql: 0 }, events: 0 }, 1);
    expect(isActive(open, 10_000_000)).toBe(true);
    expect(adminRooms(["idle"], [row], 0)).toEqual(
      expect.arrayContaining([
        { name: "idle", socketsOpen: 0, recentEvents: 0, lastActiveAt: null },
        { name: "r", socketsOpen: 0, recentEvents: 1, lastActiveAt: 0 },
      ]),
    );
  });
});

describe("a room's parts", () => {
  it("adds a big room's shards to its row: sockets, and the room's events", () => {
    const part = (name: string, chat: number, events: number) =>
      applyReport(
        undefined,
        {
          name: "big",
          part: name,
          sockets: { chat, graphql: 0 },
          backlog: 0,
          oldestUnflushedAt: null,
          events,
        },
        0,
      );
    const rows = byRoom([part("room", 0, 5), part("shard-0", 3, 0), part("shard-1", 4, 0)]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: "big", chat: 7 });
    expect(adminRooms([], [part("room", 0, 5), part("shard-0", 3, 0)], 0)).toEqual([
      { name: "big", socketsOpen: 3, recentEvents: 5, lastActiveAt: 0 },
    ]);
  });
});

describe("gauges", () => {
  it("adds up the rooms and names database nodes without their URLs", () => {
    const row = applyReport(
      undefined,
      {
        name: "r",
        part: "room",
        sockets: { chat: 2, graphql: 1 },
        backlog: 7,
        oldestUnflushedAt: 1000,
        events: 0,
      },
      0,
    );
    expect(roomGauges([row], 4000)).toEqual(
      expect.arrayContaining([
        { name: "sockets_open", labels: { kind: "chat" }, value: 2 },
        { name: "flush_backlog_events", value: 7 },
        { name: "flush_lag_seconds", value: 3 },
      ]),
    );
    const node = (role: "primary" | "replica", lagMs: number | null) => ({
      url: "postgres://user:secret@host/db",
      role,
      healthy: true,
      openUntil: 0,
      lagBytes: lagMs === null ? null : 10,
      lagMs,
      replayLsn: null,
      paused: false,
      error: null,
      checkedAt: 0,
    });
    const gauges = databaseGauges([node("primary", null), node("replica", 1500)]);
    expect(gauges).toContainEqual({
      name: "db_replica_lag_seconds",
      labels: { node: "replica-1" },
      value: 1.5,
    });
    expect(JSON.stringify(gauges)).not.toContain("secret");
  });
});
