/**
 * The standard scenarios and their goals (from the issue that asked for them), each goal a
 * PASS/FAIL against the raw server measured in the same run with the same kind of client.
 */
import type { RunResult, Scenario } from "./load.ts";

const base = { size: 100, duration: 10, warmup: 2, drain: 5, pace: 0, shards: 0 } as const;

/** A room of 1000 clients, 20 senders at 1 msg/s each. */
const big: Scenario = {
  ...base,
  name: "big",
  mode: "open",
  rooms: 1,
  clients: 1000,
  senders: 20,
  rate: 20,
};

export const STANDARD: Record<string, Scenario> = {
  fanout: { ...base, name: "fanout", mode: "open", rooms: 1, clients: 100, senders: 10, rate: 200 },
  // Every client sends, each at most 20/s (the server's per-connection limit, as a well-behaved
  // client would pace itself), so the rate limit is not what bounds the result.
  "closed-loop": {
    ...base,
    name: "closed-loop",
    mode: "closed",
    rooms: 1,
    clients: 100,
    senders: 100,
    rate: 0,
    pace: 20,
  },
  // 5 senders per room at 20/s each = 1000 msg/s, within the per-connection limit.
  rooms: { ...base, name: "rooms", mode: "open", rooms: 10, clients: 20, senders: 5, rate: 1000 },
  // 100 senders × 15 msg/s: more than one room can fan out to 100 sockets here, on purpose; the
  // SDK's resends of refused posts need a longer drain.
  flood: {
    ...base,
    name: "flood",
    mode: "open",
    rooms: 1,
    clients: 100,
    senders: 100,
    rate: 1500,
    drain: 15,
  },
  big,
  // As big, in a room created with `"shards": N` (--shards; a server without shards ignores it).
  shards: { ...big, name: "shards", shards: 4 },
};

export type Goal = { label: string; raw: string; edgechat: string; ratio: string; pass: boolean };

const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !b ? undefined : a / b;

/** The refusal codes that tell a client what to do (wait, then retry). */
const CLEAR_CODES = new Set(["overloaded", "rate_limited"]);

function p99Goal(factor: number, raw: RunResult | undefined, edge: RunResult): Goal {
  const r = ratio(edge.latencyMs.p99, raw?.latencyMs.p99);
  return {
    label: `fan-out p99 ≤ ${factor}× raw`,
    raw: `${fmt(raw?.latencyMs.p99)} ms`,
    edgechat: `${fmt(edge.latencyMs.p99)} ms`,
    ratio: `${fmt(r, 2)}×`,
    pass: r !== undefined && r <= factor,
  };
}

/**
 * Acked but lost: not delivered to every client by the end of the (bounded) drain, or not in the
 * log under its seq with its text (or a refused post in the log); duplicates; reorders.
 */
function correctGoal(edge: RunResult): Goal {
  const d = edge.durable;
  const inLog = d && !d.error ? d.missing + d.wrongText + d.refusedButStored : 0;
  const lost = edge.lost + inLog;
  const dups = edge.duplicates + (d?.storedTwice ?? 0);
  return {
    label: "0 acked-but-lost / duplicates / reorders",
    raw: "",
    edgechat: `${lost} / ${dups} / ${edge.outOfOrder}${d?.error ? "; the log check failed" : ""}`,
    ratio: "",
    pass: lost === 0 && dups === 0 && edge.outOfOrder === 0 && edge.sent > 0 && !d?.error,
  };
}

/** Every post acked and delivered everywhere, the last within 1 s of the window's end. */
function keepsUpGoal(edge: RunResult): Goal {
  return {
    label: "keeps up: delivered = offered, backlog ≤ 1 s",
    raw: "",
    edgechat: `${edge.acked}/${edge.sent} acked, ${edge.lost} undelivered, backlog ${fmt(edge.backlogMs, 0)} ms`,
    ratio: "",
    pass: edge.sent > 0 && edge.acked === edge.sent && edge.lost === 0 && edge.backlogMs <= 1000,
  };
}

/**
 * Accepted work is what the room accepted: its latency runs from that send (for plain clients
 * the post itself; the SDK may have held a post back before, which is shown beside it).
 */
function floodGoals(edge: RunResult): Goal[] {
  const codes = Object.keys(edge.rejects);
  const p99 = edge.latencyFromSendMs.p99;
  const fromPost = `from the post: first try ${fmt(edge.latencyMs.p99)} ms, pushed back ${fmt(edge.latencyRetriedMs.p99)} ms`;
  return [
    {
      label: "accepted work delivered, p99 < 1 s (from the accepted send)",
      raw: "",
      edgechat: `${edge.acked} acked, p99 ${fmt(p99)} ms (${fromPost})`,
      ratio: "",
      pass: edge.acked > 0 && edge.lost === 0 && p99 < 1000,
    },
    {
      label: "the rest refused with a clear code",
      raw: "",
      edgechat: `${edge.refusedOnce} refused at least once; final ${JSON.stringify(edge.rejects)}, ${edge.unanswered} unanswered`,
      ratio: "",
      pass: edge.unanswered === 0 && codes.every((c) => CLEAR_CODES.has(c)),
    },
  ];
}

export function goalsFor(s: Scenario, raw: RunResult | undefined, edge: RunResult): Goal[] {
  const goals: Goal[] = [];
  switch (s.name) {
    case "fanout":
      goals.push(p99Goal(5, raw, edge));
      break;
    case "rooms":
      goals.push(keepsUpGoal(edge), p99Goal(10, raw, edge));
      break;
    case "flood":
      goals.push(...floodGoals(edge));
      break;
    case "closed-loop": {
      const r = ratio(edge.ackedPerS, raw?.ackedPerS);
      goals.push({
        label: "acked msg/s ≥ 0.6× raw",
        raw: fmt(raw?.ackedPerS),
        edgechat: fmt(edge.ackedPerS),
        ratio: `${fmt(r, 2)}×`,
        pass: r !== undefined && r >= 0.6,
      });
      break;
    }
  }
  goals.push(correctGoal(edge));
  return goals;
}
