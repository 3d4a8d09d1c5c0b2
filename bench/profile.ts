/**
 * A CPU profile of the worker's JavaScript thread during a measured window: `wrangler dev`'s
 * inspector (on whichever port we give it) takes the Chrome DevTools Profiler commands, and the
 * samples are summed per part of a command (receive, decide and write, commit, serialize,
 * send) by the functions on their stacks.
 *
 *   node bench/profile.ts [--storage disk|tmpfs] [--client sdk|raw] [--clients N] [--rate MSG/S]
 *                         [--senders N] [--duration S] [--server-root DIR] [--label TEXT]
 *
 * The profile sees the isolate's thread only: what workerd does on other threads (socket writes,
 * SQLite's WAL fsyncs if they happen there) shows as idle, and where.ts counts the fsyncs.
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import type { ClientKind } from "./clients.ts";
import { runScenario, type Scenario } from "./load.ts";
import { writeResults } from "./results.ts";
import { freePort, REPO_ROOT, startTarget, type Storage } from "./servers.ts";
import { withTimeout } from "./util.ts";

const { values: flags } = parseArgs({
  options: {
    storage: { type: "string", default: "disk" },
    client: { type: "string", default: "raw" },
    clients: { type: "string", default: "100" },
    senders: { type: "string", default: "10" },
    rate: { type: "string", default: "100" },
    duration: { type: "string", default: "10" },
    "server-root": { type: "string" },
    label: { type: "string" },
    out: { type: "string" },
  },
});

type Node = {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

type Frame = { name: string; native: boolean };

/** A function of interest on a stack: its name (esbuild may add digits), native or the bundle's. */
const fn =
  (name: string, native = false) =>
  (f: Frame) =>
    f.native === native && (f.name === name || f.name.replace(/\d+$/, "") === name);

/**
 * What a command costs, by the functions on the samples' stacks (inclusive: a sample counts for
 * every listed function on its stack, so nested rows are parts of the rows above them).
 */
const PARTS: Array<[label: string, match: (f: Frame) => boolean]> = [
  ["webSocketMessage: every frame, start to end", fn("webSocketMessage")],
  ["  frame gate: rate limit, JSON parse, zod", fn("admit")],
  ["  one turn of the group commit (#commitBatch)", fn("commitBatch")],
  ["    write: the batch's transaction", fn("write")],
  ["      decide (rules, room view)", (f) => fn("decide")(f) || fn("view")(f)],
  ["      idempotency keys (find, remember)", (f) => fn("find")(f) || fn("remember")(f)],
  ["      append to the event log", fn("append")],
  ["        projections", fn("project")],
  ["    deliver: serialize and send", fn("deliver")],
  ["      ws.send (native)", fn("send", true)],
  ["      getWebSockets (native)", fn("getWebSockets", true)],
  ["#settled: storage.sync, then a macrotask", fn("settled")],
  ["SQL statements (exec, native), anywhere", fn("exec", true)],
  ["transactionSync (native), anywhere", fn("transactionSync", true)],
  ["(garbage collector)", fn("(garbage collector)", true)],
  ["(program): the runtime outside JavaScript", fn("(program)", true)],
];

/** Milliseconds of samples per part (inclusive), and the thread's idle time. */
export function parts(profile: Profile): Record<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frame = (id: number): Frame => {
    const { functionName, url } = byId.get(id)!.callFrame;
    return { name: functionName.replace(/^#/, ""), native: url === "" };
  };
  const memo = new Map<number, Set<string>>();
  const labelsOf = (id: number): Set<string> => {
    const cached = memo.get(id);
    if (cached) return cached;
    const up = parent.get(id);
    const labels = new Set(up === undefined ? [] : labelsOf(up));
    const f = frame(id);
    for (const [label, match] of PARTS) if (match(f)) labels.add(label);
    memo.set(id, labels);
    return labels;
  };
  const out: Record<string, number> = { "(idle)": 0, busy: 0 };
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (frame(id).name === "(idle)") return void (out["(idle)"]! += ms);
    out.busy! += ms;
    for (const label of labelsOf(id)) out[label] = (out[label] ?? 0) + ms;
  });
  return out;
}

/** The functions with the most samples of their own (leaves), for names STAGES does not know. */
export function topSelf(profile: Profile, n = 25): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const { functionName, url } = byId.get(id)!.callFrame;
    const key = `${functionName || "(anonymous)"} ${url.split("/").pop() ?? ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** A minimal DevTools-protocol session over the inspector's WebSocket. */
async function inspector(port: number) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await withTimeout(
    new Promise((r, j) => (socket.once("open", r), socket.once("error", j))),
    10_000,
    "inspector",
  );
  let next = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  const call = <T>(method: string, params: object = {}) =>
    withTimeout(
      new Promise<T>((resolve) => {
        next += 1;
        waiting.set(next, resolve as (r: unknown) => void);
        socket.send(JSON.stringify({ id: next, method, params }));
      }),
      60_000,
      method,
    );
  return { call, close: () => socket.close() };
}

async function main(): Promise<void> {
  const started = Date.now();
  const storage = flags.storage as Storage;
  const client = flags.client as ClientKind;
  const serverRoot = resolve(flags["server-root"] ?? REPO_ROOT);
  const inspectorPort = await freePort();
  const s: Scenario = {
    name: "profile",
    mode: "open",
    rooms: 1,
    clients: Number(flags.clients),
    senders: Number(flags.senders),
    rate: Number(flags.rate),
    size: 100,
    duration: Number(flags.duration),
    warmup: 2,
    drain: 5,
    pace: 0,
    shards: 0,
  };
  const server = await startTarget("edgechat-direct", { storage, serverRoot, inspectorPort });
  let profile: Profile | undefined;
  let acked = 0;
  try {
    const session = await inspector(inspectorPort);
    await session.call("Profiler.enable");
    await session.call("Profiler.setSamplingInterval", { interval: 250 });
    let stopped: Promise<void> = Promise.resolve();
    const probe = {
      start: () => void session.call("Profiler.start"),
      end: () =>
        void (stopped = session
          .call<{ profile: Profile }>("Profiler.stop")
          .then((r) => void (profile = r.profile))),
    };
    const result = await runScenario(
      { target: "edgechat-direct", baseUrl: server.url, client, log: console.error, probe },
      s,
    );
    await stopped;
    acked = result.acked;
    session.close();
  } finally {
    await server.stop();
  }
  if (!profile) throw new Error("no profile");
  const ms = parts(profile);
  const busy = ms.busy!;
  const lines = [
    `## CPU profile of the worker's thread${flags.label ? ` (${flags.label})` : ""}: ${storage}, ${client} clients, 1 room × ${s.clients}, ${s.rate} msg/s, ${s.duration} s; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    "",
    `${acked} commands acked; the thread was busy for ${busy.toFixed(0)} ms of samples (idle ${ms["(idle)"]!.toFixed(0)} ms), ` +
      `${(busy / acked).toFixed(3)} ms per command with the profiler on (it slows the thread down: use the shares).`,
    "",
    "| part (inclusive; indented rows are inside the row above) | ms | share of busy | ms per command |",
    "| --- | ---: | ---: | ---: |",
    ...PARTS.map(([label]) => {
      const v = ms[label] ?? 0;
      const name = label.trimStart();
      const indent = "&nbsp;".repeat(label.length - name.length);
      return `| ${indent}${name} | ${v.toFixed(0)} | ${((100 * v) / busy).toFixed(1)} % | ${(v / acked).toFixed(3)} |`;
    }),
    "",
    "Functions with the most samples of their own:",
    "",
    "| function | ms |",
    "| --- | ---: |",
    ...topSelf(profile, 15).map(([name, v]) => `| ${name} | ${v.toFixed(0)} |`),
  ];
  const md = lines.join("\n");
  console.log(md);
  const elapsed = (Date.now() - started) / 1000;
  console.error(
    `results: ${writeResults("profile-", started, elapsed, { flags, parts: ms, topSelf: topSelf(profile), markdown: md }, flags.out)}`,
  );
}

const watchdog = setTimeout(() => {
  console.error("profile: watchdog: gave up after 10 minutes");
  process.exit(2);
}, 10 * 60_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
