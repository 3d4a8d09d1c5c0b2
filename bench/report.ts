/** The benchmark's markdown: one table per (storage, scenario, client), then the goals. */
import type { ClientKind } from "./clients.ts";
import type { RunResult, Scenario } from "./load.ts";
import type { Goal } from "./scenarios.ts";
import type { Storage, TargetName } from "./servers.ts";
import { sum } from "./util.ts";

export type Measured = RunResult & {
  /** Server CPU in the measured window, per role (runtime, proxy, wrangler, raw), ms. */
  windowServerCpuMs: Record<string, number>;
  loadAverage: number[];
};

export type Report = {
  storage: Storage;
  scenario: Scenario;
  client: ClientKind;
  results: Partial<Record<TargetName, Measured>>;
  /** Goals per edgechat target. */
  goals: Partial<Record<TargetName, Goal[]>>;
};

const NAMES: Record<TargetName, string> = {
  raw: "raw ws",
  "edgechat-dev": "edgechat dev",
  "edgechat-direct": "edgechat direct",
};
const ORDER: TargetName[] = ["raw", "edgechat-dev", "edgechat-direct"];

export const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !b ? undefined : a / b;
const codes = (o: Record<string, number>) =>
  Object.keys(o).length
    ? Object.entries(o)
        .map(([k, v]) => `${k}:${v}`)
        .join(" ")
    : "0";

export function shape(s: Scenario): string {
  const load =
    s.mode === "open"
      ? `open loop ${s.rate} msg/s in all`
      : `closed loop${s.pace ? ` (each sender ≤ ${s.pace} msg/s)` : ""}`;
  const shards = s.shards ? `, created with "shards": ${s.shards}` : "";
  const window =
    s.mode === "closed" && s.posts ? `${s.posts} measured posts per sender` : `${s.duration} s`;
  return `${s.rooms} room(s) × ${s.clients} clients, ${s.senders} sender(s)/room, ${load}${shards}, ${s.size}-char messages, ${window} (+${s.warmup} s warm-up, ≤${s.drain} s drain)`;
}

/** CPU of the process that runs the rooms: the worker's workerd, or the raw server. */
const runtimeCpuMs = (r: Measured) => r.windowServerCpuMs.runtime ?? r.windowServerCpuMs.raw ?? 0;

type Row = [
  label: string,
  get: (r: Measured) => number | string | undefined,
  digits?: number,
  ratio?: boolean,
];

const ROWS: Row[] = [
  ["sent msg/s", (r) => r.sentPerS],
  ["acked msg/s (in the window)", (r) => r.ackedPerS],
  ["delivered msg/s", (r) => r.messagesPerS],
  ["deliveries/s (msg × receivers)", (r) => r.deliveriesPerS, 0],
  ["fan-out latency p50 ms", (r) => r.latencyMs.p50, 2],
  ["fan-out latency p95 ms", (r) => r.latencyMs.p95, 2],
  ["fan-out latency p99 ms", (r) => r.latencyMs.p99, 2],
  ["fan-out latency max ms", (r) => r.latencyMs.max, 2],
  ["fan-out latency p99 ms from the accepted send", (r) => r.latencyFromSendMs?.p99, 2],
  ["ack latency p50 ms", (r) => r.ackLatencyMs.p50, 2],
  ["ack latency p99 ms", (r) => r.ackLatencyMs.p99, 2],
  ["messages acked / sent", (r) => `${r.acked}/${r.sent}`, 0, false],
  ["backlog at the window's end ms (last delivery)", (r) => r.backlogMs, 0, false],
  ["WebSocket messages received/s", (r) => r.framesInWindow / r.durationS, 0],
  ["refused (final, by code)", (r) => codes(r.rejects), 0, false],
  ["refused as overloaded at least once (sdk: or held back)", (r) => r.refusedOnce, 0, false],
  ["p99 ms of those, accepted on a resend", (r) => r.latencyRetriedMs.p99, 1, false],
  ["unanswered", (r) => r.unanswered, 0, false],
  ["acked, not delivered by the end of the drain", (r) => r.lost, 0, false],
  ["duplicates", (r) => r.duplicates, 0, false],
  ["out of order", (r) => r.outOfOrder, 0, false],
  ["seq gaps", (r) => r.gaps, 0, false],
  ["error frames without a clientId", (r) => codes(r.unmatchedErrors), 0, false],
  ["closed by the server (code:count)", (r) => codes(r.closes), 0, false],
  ["server CPU s in the window", (r) => sum(r.windowServerCpuMs) / 1000, 2],
  ["runtime CPU ms per acked post", (r) => runtimeCpuMs(r) / (r.ackedPerS * r.durationS), 2],
  [
    "WebSocket messages received per acked post",
    (r) => r.framesInWindow / (r.ackedPerS * r.durationS),
    1,
  ],
  [
    "of which the worker's workerd",
    (r) => (r.windowServerCpuMs.runtime ?? r.windowServerCpuMs.raw ?? 0) / 1000,
    2,
  ],
  ["max send lag ms (load generator)", (r) => r.maxSendLagMs, 1, false],
  ["load generator CPU s, whole run", (r) => r.loadgenCpuMs / 1000, 2],
  ["connect ms (all clients)", (r) => r.connectMs, 0, false],
];

function durableLine(target: TargetName, r: Measured): string | undefined {
  const d = r.durable;
  if (!d) return undefined;
  return (
    `${NAMES[target]} log check (GET /api/rooms/{room}/events, paged): ${d.found}/${d.acked} acked ` +
    `messages found under their seq with their text, ${d.missing} missing, ${d.wrongText} other text, ` +
    `${d.refusedButStored} refused but stored, ${d.storedTwice} stored twice${d.error ? `; error: ${d.error}` : ""}`
  );
}

export function table(report: Report): string {
  const { scenario: s, results } = report;
  const cols = ORDER.filter((t) => results[t]);
  const others = cols.filter((t) => t !== "raw");
  const raw = results.raw;
  const heads = [
    ...cols.map((t) => NAMES[t]),
    ...(raw ? others.map((t) => `${NAMES[t]}/raw`) : []),
  ];
  const lines = [
    `### ${s.name}, ${report.client} clients, storage on ${report.storage}`,
    "",
    shape(s),
    "",
    `| metric | ${heads.join(" | ")} |`,
    `| --- | ${heads.map(() => "---:").join(" | ")} |`,
  ];
  for (const [label, get, digits = 1, showRatio = true] of ROWS) {
    const value = (t: TargetName) => get(results[t]!);
    const cell = (v: number | string | undefined) => (typeof v === "string" ? v : fmt(v, digits));
    const ratios = raw
      ? others.map((t) => {
          const a = value(t);
          const b = value("raw");
          return showRatio && typeof a === "number" && typeof b === "number"
            ? fmt(ratio(a, b), 2)
            : "";
        })
      : [];
    lines.push(`| ${label} | ${[...cols.map((t) => cell(value(t))), ...ratios].join(" | ")} |`);
  }
  for (const t of others) {
    const w = results[t]!.windowServerCpuMs;
    lines.push("", `${NAMES[t]} server CPU in the window by process (ms): ${JSON.stringify(w)}`);
    const d = durableLine(t, results[t]!);
    if (d) lines.push("", d);
  }
  for (const t of others)
    for (const g of report.goals[t] ?? [])
      lines.push(`- **${g.pass ? "PASS" : "FAIL"}** ${NAMES[t]}: ${goalText(g)}`);
  return lines.join("\n");
}

const goalText = (g: Goal) =>
  `${g.label}: ${g.raw ? `raw ${g.raw}, edgechat ` : ""}${g.edgechat}${g.ratio ? ` (${g.ratio})` : ""}`;

export function goalsTable(reports: Report[]): string {
  const lines = [
    "| storage | scenario | client | target | goal | raw | edgechat | ratio | result |",
    "| --- | --- | --- | --- | --- | ---: | ---: | ---: | --- |",
  ];
  for (const r of reports)
    for (const t of ORDER)
      for (const g of r.goals[t] ?? [])
        lines.push(
          `| ${r.storage} | ${r.scenario.name} | ${r.client} | ${NAMES[t]} | ${g.label} | ${g.raw || ""} | ${g.edgechat} | ${g.ratio} | ${g.pass ? "PASS" : "FAIL"} |`,
        );
  return lines.join("\n");
}

/** One line per (storage, scenario, client): the headline numbers of every target. */
export function summaryTable(reports: Report[]): string {
  const lines = [
    "| storage | scenario | client | target | acked / delivered msg/s | p50 / p99 ms | refused (once) | undelivered / dup / reorder | server CPU s |",
    "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of reports)
    for (const t of ORDER) {
      const m = r.results[t];
      if (!m) continue;
      lines.push(
        `| ${r.storage} | ${r.scenario.name} | ${r.client} | ${NAMES[t]} | ${fmt(m.ackedPerS)} / ${fmt(m.messagesPerS)} | ${fmt(m.latencyMs.p50, 1)} / ${fmt(m.latencyMs.p99, 1)} | ${m.rejected} (${m.refusedOnce}) | ${m.lost} / ${m.duplicates} / ${m.outOfOrder} | ${fmt(sum(m.windowServerCpuMs) / 1000, 2)} |`,
      );
    }
  return lines.join("\n");
}
