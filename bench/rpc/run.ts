/**
 * `npm run bench:rpc`: the RPC against JSON and the chat socket, in one run.
 *
 * 1. A page of messages (100 of a seeded room, with authors, reactions, edits, replies) as REST
 *    JSON, Connect JSON and protobuf binary: fetched once from the server each way and checked
 *    equal, their bytes (as sent, uncompressed, gzipped), then encode and decode time per page in
 *    this process (bench/rpc/codec.ts), once the server is stopped.
 * 2. Unary PostMessage latency over the chat socket, REST, Connect binary to the worker and gRPC
 *    through the gateway, alternated (bench/rpc/post-latency.ts).
 *
 * edgechat runs as `npm run dev` serves it (`wrangler dev`, storage in a fresh folder, removed
 * at the end); the gateway as `npm run grpc-gateway` in a process of its own. Markdown on stdout,
 * progress on stderr, everything in bench/results/rpc-<time>.json. Talks to 127.0.0.1 only,
 * stops by itself; SIGINT and SIGTERM stop the servers and remove the storage.
 * WatchRoom fan-out against the chat socket: `npm run bench -- --scenario fanout --client raw,rpc`.
 */
import { deepStrictEqual } from "node:assert/strict";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { create, fromBinary, fromJsonString, toBinary } from "@bufbuild/protobuf";
import { MessagesPage } from "../../src/protocol/index.ts";
import {
  ListMessagesRequestSchema,
  ListMessagesResponseSchema,
} from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { RPC_PREFIX } from "../../src/rpc/prefix.ts";
import { markdownTable, positive } from "../graphql/scenario.ts";
import { seedRoom } from "../graphql/seed.ts";
import { WireClient, type Exchange } from "../graphql/wire.ts";
import { createRoom, signInGuest } from "../http.ts";
import { writeResults } from "../results.ts";
import {
  machineCpuMs,
  REPO_ROOT,
  startGatewayProcess,
  treeCpu,
  startTarget,
  type RunningGateway,
  type RunningServer,
  type Storage,
  type TargetName,
} from "../servers.ts";
import { now, stopOnExit, type Percentiles } from "../util.ts";
import { measure, operations, type CodecInput } from "./codec.ts";
import { assertRealistic, pageFromRest, pageFromRpc } from "./page.ts";
import { measurePosts, postWays, type PostLatency } from "./post-latency.ts";

const FLAGS = {
  "page-size": { default: "100", help: "messages in the page" },
  messages: { default: "200", help: "messages in the seeded room" },
  members: { default: "12", help: "members of the seeded room (registered users)" },
  rounds: { default: "400", help: "codec: measured rounds (one batch of every operation each)" },
  "codec-warmup": { default: "100", help: "codec: rounds before measuring" },
  batch: { default: "20", help: "codec: operations per sample" },
  iterations: { default: "500", help: "posts measured each way" },
  warmup: { default: "50", help: "posts each way before measuring" },
  "gap-ms": { default: "15", help: "posts start at most this often (all ways together)" },
} as const;

const { values: flags } = parseArgs({
  options: {
    target: { type: "string", default: "edgechat-dev" },
    storage: { type: "string", default: "disk" },
    "server-root": { type: "string" },
    label: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
    ...Object.fromEntries(
      Object.entries(FLAGS).map(([name, f]) => [
        name,
        { type: "string" as const, default: f.default },
      ]),
    ),
  },
});

const USAGE = [
  "usage: node bench/rpc/run.ts [--target edgechat-dev|edgechat-direct] [--storage disk|tmpfs]",
  "       [--server-root DIR] [--label TEXT] [--out FILE] [flags]",
  ...Object.entries(FLAGS).map(([name, f]) => `  --${name} (${f.default}): ${f.help}`),
  "WatchRoom fan-out against the chat socket: npm run bench -- --scenario fanout --client raw,rpc",
].join("\n");

const log = (line: string) => console.error(line);
const numbers = flags as unknown as Record<string, string>;

let server: RunningServer | undefined;
let gateway: RunningGateway | undefined;

async function stopAll(): Promise<void> {
  await Promise.all([gateway?.stop(), server?.stop()]);
  gateway = server = undefined;
}

const { stopAndExit, stopping } = stopOnExit(stopAll);

/** The page's three answers, as a client asks for them (Connect clients offer gzip and br). */
async function fetchAnswers(base: string, room: string, token: string, size: number) {
  const client = new WireClient(base);
  const auth = { authorization: `Bearer ${token}` };
  const connect = { ...auth, "accept-encoding": "gzip, br", "connect-protocol-version": "1" };
  const path = `${RPC_PREFIX}/edgechat.v1.MessageService/ListMessages`;
  try {
    const ok = async (what: string, exchange: Promise<Exchange>) => {
      const e = await exchange;
      if (e.status !== 200) throw new Error(`${what}: HTTP ${e.status} ${e.body.toString()}`);
      return e;
    };
    return {
      rest: await ok(
        "REST",
        client.send("GET", `/api/rooms/${room}/messages?limit=${size}`, {
          ...auth,
          accept: "application/json",
          "accept-encoding": "gzip, deflate, br",
        }),
      ),
      json: await ok(
        "Connect JSON",
        client.send(
          "POST",
          path,
          { ...connect, "content-type": "application/json" },
          JSON.stringify({ room, pageSize: size }),
        ),
      ),
      binary: await ok(
        "Connect binary",
        client.send(
          "POST",
          path,
          { ...connect, "content-type": "application/proto" },
          toBinary(
            ListMessagesRequestSchema,
            create(ListMessagesRequestSchema, { room, pageSize: size }),
          ),
        ),
      ),
    };
  } finally {
    client.close();
  }
}

type Answers = Awaited<ReturnType<typeof fetchAnswers>>;

/** The same page every way, or an error naming the way that differs. */
function checkSamePage(answers: Answers, size: number) {
  const rest = pageFromRest(MessagesPage.parse(JSON.parse(answers.rest.body.toString("utf8"))));
  const json = pageFromRpc(
    fromJsonString(ListMessagesResponseSchema, answers.json.body.toString("utf8")),
  );
  const binary = pageFromRpc(fromBinary(ListMessagesResponseSchema, answers.binary.body));
  deepStrictEqual(json, rest, "Connect JSON's page differs from REST's");
  deepStrictEqual(binary, rest, "protobuf binary's page differs from REST's");
  return assertRealistic(rest, size);
}

type Size = {
  contentType: string;
  encoding: string;
  body: number;
  gzip: number;
  asSent: number;
  bytesRead: number;
};

/**
 * The cores the rest of the machine took while `measure` ran: every core's busy time (from
 * /proc/stat) less this process's and the process trees of `pids` (the servers). A run whose
 * phases saw others busy compared its ways on a shared machine: the report says so.
 */
async function withOthers<T>(pids: number[], measure: () => Promise<T>) {
  const trees = () => pids.reduce((n, pid) => n + treeCpu(pid).reduce((k, p) => k + p.cpuMs, 0), 0);
  const machine = machineCpuMs();
  const servers = trees();
  const own = process.cpuUsage();
  const started = now();
  const result = await measure();
  const self = process.cpuUsage(own);
  const othersMs =
    machineCpuMs() - machine - (trees() - servers) - (self.user + self.system) / 1000;
  return { result, othersCores: Math.max(0, othersMs) / (now() - started) };
}

const sizeOf = (e: Exchange): Size => ({
  contentType: e.headers["content-type"]?.split(";")[0] ?? "",
  encoding: e.headers["content-encoding"] ?? "none",
  body: e.body.length,
  gzip: gzipSync(e.body, { level: 6 }).length,
  asSent: e.wireBodyBytes,
  bytesRead: e.bytesIn,
});

async function main(): Promise<void> {
  const started = Date.now();
  const target = flags.target as TargetName;
  if (target !== "edgechat-dev" && target !== "edgechat-direct")
    throw new Error(`--target: edgechat-dev or edgechat-direct, not ${target}`);
  const storage = flags.storage as Storage;
  if (storage !== "disk" && storage !== "tmpfs") throw new Error("--storage: disk or tmpfs");
  const serverRoot = resolve(flags["server-root"] ?? REPO_ROOT);
  const size = positive(numbers, "page-size");
  const loadAtStart = loadavg();
  log(
    `[rpc ${target} ${storage}] starting (load ${loadAtStart.map((l) => l.toFixed(2)).join(" ")})`,
  );
  server = await startTarget(target, {
    storage,
    serverRoot,
    // The members register from one address (the seed's 429s are waited out otherwise).
    vars: { AUTH_MAX_ATTEMPTS_PER_IP: "1000000" },
  });
  const base = server.url;

  const seeded = await seedRoom(base, {
    room: "rpc-page",
    members: positive(numbers, "members"),
    messages: positive(numbers, "messages"),
    online: 0,
    log,
  });
  seeded.close();
  const answers = await fetchAnswers(base, seeded.room, seeded.readerToken, size);
  const page = checkSamePage(answers, size);
  log(`  the same page every way: ${JSON.stringify(page)}`);
  const sizes = {
    rest: sizeOf(answers.rest),
    json: sizeOf(answers.json),
    binary: sizeOf(answers.binary),
  };

  gateway = await startGatewayProcess([base]);
  const owner = await signInGuest(base, "rpc-owner");
  await createRoom(base, owner, "rpc-post");
  const ways = await postWays(base, gateway.url, "rpc-post");
  const postOptions = {
    warmup: positive(numbers, "warmup"),
    iterations: positive(numbers, "iterations"),
    gapMs: positive(numbers, "gap-ms"),
  };
  log(`  posts: ${ways.map((w) => w.name).join(", ")}; ${postOptions.warmup} rounds of warm-up`);
  let posts: PostLatency & { othersCores: number };
  try {
    const measured = await withOthers([server.pid, gateway.pid], () =>
      measurePosts(ways, postOptions, log),
    );
    posts = { ...measured.result, othersCores: measured.othersCores };
  } finally {
    for (const way of ways) way.close();
  }
  if (posts.distinctSeqs !== posts.posted)
    throw new Error(`${posts.posted} posts answered but ${posts.distinctSeqs} distinct seqs`);
  await stopAll();

  const codecOptions = {
    rounds: positive(numbers, "rounds"),
    warmup: positive(numbers, "codec-warmup"),
    batch: positive(numbers, "batch"),
  };
  log(`  codec: ${codecOptions.rounds} rounds × ${codecOptions.batch}, the server stopped`);
  const input: CodecInput = {
    restBody: answers.rest.body,
    connectJsonBody: answers.json.body,
    binaryBody: answers.binary.body,
  };
  const ops = operations(input);
  const { result: codec, othersCores: codecOthersCores } = await withOthers([], async () =>
    measure(ops, codecOptions),
  );

  const elapsed = (Date.now() - started) / 1000;
  const data = {
    target,
    storage,
    serverRoot,
    seeded: seeded.counts,
    page,
    sizes,
    codec,
    codecOptions,
    codecOthersCores,
    codecLabels: Object.fromEntries(ops.map((op) => [op.name, op.label])),
    posts,
    postOptions,
    postLabels: Object.fromEntries(ways.map((w) => [w.name, w.label])),
    loadAtStart,
    loadAtEnd: loadavg(),
  };
  const markdown = report(data, started, elapsed);
  console.log(markdown);
  const file = writeResults(
    "rpc-",
    started,
    elapsed,
    { label: flags.label, ...data, markdown },
    flags.out,
  );
  log(`results: ${file}`);
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const x = (a: number, b: number) => (b ? `${(a / b).toFixed(2)}×` : "–");
const n = (v: number) => v.toLocaleString("en-US");

type Data = {
  target: string;
  storage: string;
  serverRoot: string;
  seeded: Record<string, number>;
  page: Record<string, number | boolean>;
  sizes: Record<"rest" | "json" | "binary", Size>;
  codec: Record<string, Percentiles>;
  codecOptions: { rounds: number; warmup: number; batch: number };
  codecOthersCores: number;
  codecLabels: Record<string, string>;
  posts: PostLatency & { othersCores: number };
  postOptions: { warmup: number; iterations: number; gapMs: number };
  postLabels: Record<string, string>;
  loadAtStart: number[];
  loadAtEnd: number[];
};

function report(d: Data, started: number, elapsed: number): string {
  const s = d.sizes;
  const names = { rest: "REST JSON", json: "Connect JSON", binary: "protobuf binary" } as const;
  const sizeRows = (Object.keys(names) as (keyof typeof names)[]).map((k) => [
    names[k],
    `${s[k].contentType} (${s[k].encoding})`,
    n(s[k].body),
    n(s[k].gzip),
    n(s[k].asSent),
    n(s[k].bytesRead),
  ]);
  const c = (name: string) => d.codec[name]!;
  const codecRows = Object.keys(d.codec).map((name) => [
    d.codecLabels[name]!,
    f(c(name).p50, 1),
    f(c(name).p95, 1),
    f(c(name).mean, 1),
  ]);
  const ratioRows = [
    ["body, uncompressed", x(s.binary.body, s.rest.body), x(s.json.body, s.rest.body)],
    ["body, gzip (level 6)", x(s.binary.gzip, s.rest.gzip), x(s.json.gzip, s.rest.gzip)],
    ["body as sent", x(s.binary.asSent, s.rest.asSent), x(s.json.asSent, s.rest.asSent)],
    [
      "encode p50",
      x(c("binary-encode").p50, c("rest-encode").p50),
      x(c("json-encode").p50, c("rest-encode").p50),
    ],
    [
      "decode p50 (REST with zod)",
      x(c("binary-decode").p50, c("rest-decode").p50),
      x(c("json-decode").p50, c("rest-decode").p50),
    ],
    [
      "decode p50 (REST without zod)",
      x(c("binary-decode").p50, c("rest-decode-nozod").p50),
      x(c("json-decode").p50, c("rest-decode-nozod").p50),
    ],
    [
      "worker's side: convert + encode p50",
      x(c("convert").p50 + c("binary-encode").p50, c("rest-encode").p50),
      x(c("convert").p50 + c("json-encode").p50, c("rest-encode").p50),
    ],
  ];
  const p = d.posts.latencyMs;
  const postRows = Object.keys(p).map((name) => [
    d.postLabels[name]!,
    f(p[name]!.p50, 2),
    f(p[name]!.p95, 2),
    f(p[name]!.p99, 2),
    f(p[name]!.mean, 2),
    f(p[name]!.max, 1),
    x(p[name]!.p50, p.ws!.p50),
    x(p[name]!.p99, p.ws!.p99),
  ]);
  const o = d.postOptions;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(" ");
  return [
    `## RPC benchmark${flags.label ? ` (${flags.label})` : ""}, ${new Date(started).toISOString()}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; Node ${process.version}; load average ${load(d.loadAtStart)} at start, ${load(d.loadAtEnd)} at the end. ` +
      `edgechat: \`wrangler dev\` (${d.target}) in ${d.serverRoot}, storage on ${d.storage}.`,
    "",
    `### A page of ${d.page.messages} messages: protobuf against JSON`,
    "",
    `Room: ${JSON.stringify(d.seeded)}. The page, checked equal every way: ${JSON.stringify(d.page)}.`,
    "Bytes as the server answered each (`as sent`: the body on the wire, compressed if the server compressed it; `read`: with the status line and headers).",
    "",
    markdownTable(
      ["answer", "content type (encoding)", "body", "gzip", "as sent", "read"],
      sizeRows,
    ),
    "",
    `Time per page in this process, µs (${d.codecOptions.rounds} samples of ${d.codecOptions.batch} pages after ${d.codecOptions.warmup} uncounted, every operation once a round, the order rotated; others took ${f(d.codecOthersCores, 2)} cores):`,
    "",
    markdownTable(["operation", "p50 µs", "p95 µs", "mean µs"], codecRows),
    "",
    markdownTable(["measure", "binary ÷ REST JSON", "Connect JSON ÷ REST JSON"], ratioRows),
    "",
    "### Unary PostMessage latency",
    "",
    `One client, one post at a time, ${o.iterations} posts each way after ${o.warmup} of warm-up, the ways alternated round-robin, a post started at most every ${o.gapMs} ms; each way its own guest, one public room. ${d.posts.posted} posts, ${d.posts.distinctSeqs} distinct seqs, ${f(d.posts.seconds, 0)} s; others took ${f(d.posts.othersCores, 2)} cores.`,
    "",
    markdownTable(
      ["way", "p50 ms", "p95 ms", "p99 ms", "mean ms", "max ms", "p50 ÷ socket", "p99 ÷ socket"],
      postRows,
    ),
    "",
    "WatchRoom fan-out against the chat socket: `npm run bench -- --scenario fanout --client raw,rpc` (add `--rpc-via gateway` for gRPC through the gateway).",
    "",
    `Run time: ${elapsed.toFixed(0)} s.`,
  ].join("\n");
}

if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

// Every step has its own bound (requests time out, posts time out); this catches the rest.
const watchdogMinutes =
  10 +
  ((Number(numbers.iterations) + Number(numbers.warmup)) * 4 * (Number(numbers["gap-ms"]) + 20)) /
    60_000;
setTimeout(() => {
  log(`bench: watchdog: gave up after ${watchdogMinutes.toFixed(0)} minutes`);
  stopAndExit(2);
}, watchdogMinutes * 60_000).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    // A call cut short by the stop itself (Ctrl-C) is no news.
    if (!stopping()) console.error(error);
    stopAndExit(1);
  },
);
