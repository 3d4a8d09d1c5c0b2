/**
 * The "room page" (issue 12): the room's info, its members and its 20 newest messages with
 * authors and reactions, fetched the REST way (three GETs) and the GraphQL way (one query), by
 * a registered member of a seeded room. Checks once that both ways get the same page, then
 * measures each way's latency and bytes one page at a time, alternating the ways so that the
 * machine's drift hits all alike, and then its throughput and server CPU under a closed-loop
 * load of many clients, in windows that alternate the ways too.
 */
import { deepStrictEqual } from "node:assert/strict";
import { parse, print, stripIgnoredCharacters } from "graphql";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { MemberList, MessagesPage, RoomInfo } from "../../src/protocol/index.ts";
import { cpuDelta, machineCpuMs, treeCpu, type RunningServer } from "../servers.ts";
import { now, percentiles, type Percentiles } from "../util.ts";
import {
  PAGE_MESSAGES,
  pageFromGraphql,
  pageFromRest,
  restPaths,
  ROOM_PAGE_QUERY,
  type RoomPage,
  type RoomPageAnswer,
} from "./page.ts";
import { markdownTable, positive, type BenchScenario, type ScenarioContext } from "./scenario.ts";
import { seedRoom } from "./seed.ts";
import { WireClient, type Exchange } from "./wire.ts";

/** The header GRAPHQL_COUNT_CALLS adds: read for the count, left out of the bytes. */
const CALLS_HEADER = "x-edgechat-storage-calls";
/** What a browser offers; the bench reports whether the server took it up. */
const ACCEPT_ENCODING = "gzip, deflate, br";

/** One way of fetching the page: its requests, made on one client's connections. */
type Way = {
  name: string;
  label: string;
  requests: number;
  fetch(client: WireClient): Promise<Exchange[]>;
};

/**
 * The ways. The query goes as GraphQL clients send a document (graphql-js `print`, which
 * Apollo Client and urql use), not squeezed by hand. GraphQL is asked twice over POST: as
 * GraphQL-over-HTTP clients ask (`application/graphql-response+json` first, which Yoga also
 * picks for `*\/*`), and accepting `application/json` only, because the two answers are
 * compressed differently (Cloudflare's default list of compressed types has `application/json`
 * and `application/graphql+json`, not `application/graphql-response+json`).
 */
function waysFor(room: string, token: string): Way[] {
  const paths = Object.values(restPaths(room));
  const auth = { authorization: `Bearer ${token}`, "accept-encoding": ACCEPT_ENCODING };
  const restHeaders = { ...auth, accept: "application/json" };
  const gqlHeaders = { ...auth, accept: "application/graphql-response+json, application/json" };
  const jsonOnly = { ...auth, accept: "application/json" };
  const query = print(parse(ROOM_PAGE_QUERY));
  const variables = { room, first: PAGE_MESSAGES };
  const body = JSON.stringify({ query, variables, operationName: "RoomPage" });
  const search = new URLSearchParams({
    query,
    variables: JSON.stringify(variables),
    operationName: "RoomPage",
  });
  const post = (headers: Record<string, string>) => async (c: WireClient) => [
    await c.send("POST", "/graphql", { ...headers, "content-type": "application/json" }, body),
  ];
  return [
    {
      name: "rest",
      label: "REST, 3 GETs at once",
      requests: 3,
      fetch: (c) => Promise.all(paths.map((path) => c.send("GET", path, restHeaders))),
    },
    {
      name: "rest-seq",
      label: "REST, 3 GETs one after another",
      requests: 3,
      fetch: async (c) => {
        const out: Exchange[] = [];
        for (const path of paths) out.push(await c.send("GET", path, restHeaders));
        return out;
      },
    },
    { name: "graphql", label: "GraphQL, 1 POST", requests: 1, fetch: post(gqlHeaders) },
    {
      name: "graphql-json",
      label: "GraphQL, 1 POST, accepting application/json only",
      requests: 1,
      fetch: post(jsonOnly),
    },
    {
      name: "graphql-get",
      label: "GraphQL, 1 GET",
      requests: 1,
      fetch: async (c) => [await c.send("GET", `/graphql?${search}`, gqlHeaders)],
    },
  ];
}

/** A page whose every answer is 200, or an error naming the first that was not. */
async function fetchPage(way: Way, client: WireClient): Promise<Exchange[]> {
  const exchanges = await way.fetch(client);
  const bad = exchanges.find((e) => e.status !== 200);
  if (bad) throw new Error(`${way.name}: HTTP ${bad.status} ${bad.body.toString().slice(0, 200)}`);
  return exchanges;
}

const json = <T>(e: Exchange) => JSON.parse(e.body.toString("utf8")) as T;

function pageOf(way: Way, exchanges: Exchange[]): RoomPage {
  if (way.name.startsWith("rest")) {
    const [info, members, messages] = exchanges as [Exchange, Exchange, Exchange];
    return pageFromRest(
      json<RoomInfo>(info),
      json<MemberList>(members),
      json<MessagesPage>(messages),
    );
  }
  return pageFromGraphql(json<RoomPageAnswer>(exchanges[0]!));
}

/** What the page shows, to say in the report that it is a realistic one (and to refuse if not). */
function describePage(page: RoomPage) {
  const shown = {
    messages: page.messages.length,
    withReactions: page.messages.filter((m) => m.reactions.length > 0).length,
    reactions: page.messages.reduce((n, m) => n + m.reactions.reduce((k, r) => k + r.count, 0), 0),
    edited: page.messages.filter((m) => m.editedAt !== null).length,
    deleted: page.messages.filter((m) => m.deleted).length,
    replies: page.messages.filter((m) => m.replyTo !== null).length,
    members: page.members.length,
    online: page.online.length,
  };
  const realistic =
    shown.messages === PAGE_MESSAGES &&
    page.hasOlder &&
    shown.withReactions >= 3 &&
    page.messages.some((m) => m.reactions.some((r) => r.count >= 2)) &&
    shown.edited >= 1 &&
    shown.members >= 10 &&
    shown.online >= 1;
  if (!realistic)
    throw new Error(`the seeded page is not the one asked for: ${JSON.stringify(shown)}`);
  return shown;
}

/**
 * Fetches the page every way, checks that every way got exactly REST's page, and measures the
 * bodies' compressed sizes once (the bodies do not change while the bench reads).
 */
/** The page's bodies, uncompressed and compressed, and what the server did with them. */
type Sizes = { body: number; gzip: number; brotli: number; contentType: string; encoding: string };

async function checkEquivalence(ways: Way[], client: WireClient) {
  const pages = new Map<string, RoomPage>();
  const sizes: Record<string, Sizes> = {};
  for (const way of ways) {
    const exchanges = await fetchPage(way, client);
    pages.set(way.name, pageOf(way, exchanges));
    const bodies = exchanges.map((e) => e.body);
    sizes[way.name] = {
      body: bodies.reduce((n, b) => n + b.length, 0),
      gzip: bodies.reduce((n, b) => n + gzipSync(b, { level: 6 }).length, 0),
      brotli: bodies.reduce(
        (n, b) =>
          n + brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }).length,
        0,
      ),
      contentType: exchanges.map((e) => e.headers["content-type"]?.split(";")[0]).join(", "),
      encoding: exchanges.map((e) => e.headers["content-encoding"] ?? "none").join(", "),
    };
  }
  const rest = pages.get("rest")!;
  for (const [name, page] of pages)
    deepStrictEqual(page, rest, `${name}'s page differs from REST's`);
  return { shown: describePage(rest), sizes };
}

type Tally = {
  ms: number[];
  bytesOut: number[];
  bytesIn: number[];
  wireBody: number[];
  calls: number[];
};
const tally = (): Tally => ({ ms: [], bytesOut: [], bytesIn: [], wireBody: [], calls: [] });

function record(t: Tally, ms: number, exchanges: Exchange[]): void {
  t.ms.push(ms);
  t.bytesOut.push(exchanges.reduce((n, e) => n + e.bytesOut, 0));
  t.bytesIn.push(exchanges.reduce((n, e) => n + e.bytesIn, 0));
  t.wireBody.push(exchanges.reduce((n, e) => n + e.wireBodyBytes, 0));
  const calls = exchanges.map((e) => e.headers[CALLS_HEADER]);
  if (calls.every((c) => c !== undefined)) t.calls.push(calls.reduce((n, c) => n + Number(c), 0));
}

/** CPU the machine spent outside the server's tree and this process: others' share of a window. */
function othersMeter(server: RunningServer) {
  const machine = machineCpuMs();
  const tree = treeCpu(server.pid).reduce((n, p) => n + p.cpuMs, 0);
  const own = process.cpuUsage();
  const started = now();
  return () => {
    const self = process.cpuUsage(own);
    const othersMs =
      machineCpuMs() -
      machine -
      (treeCpu(server.pid).reduce((n, p) => n + p.cpuMs, 0) - tree) -
      (self.user + self.system) / 1000;
    return Math.max(0, othersMs) / (now() - started); // cores
  };
}

/**
 * One client, one page at a time: `warmup` rounds uncounted, then `iterations` rounds, each
 * round fetching the page every way, the order rotated by one each round so that every way
 * takes every position equally often.
 */
async function onePageAtATime(ways: Way[], client: WireClient, warmup: number, iterations: number) {
  const tallies = new Map(ways.map((w) => [w.name, tally()]));
  for (let round = 0; round < warmup + iterations; round++)
    for (let k = 0; k < ways.length; k++) {
      const way = ways[(round + k) % ways.length]!;
      const started = now();
      const exchanges = await fetchPage(way, client);
      const ms = now() - started;
      if (round >= warmup) record(tallies.get(way.name)!, ms, exchanges);
    }
  return tallies;
}

type LoadTally = {
  pagesInWindow: number;
  pagesAll: number;
  seconds: number;
  ms: number[];
  serverCpuMs: Record<string, number>;
  clientCpuMs: number;
  /** Cores the machine's other processes took, per window. */
  othersCores: number[];
};

/**
 * `clients` clients, each with its own connections, fetch pages back to back for `windowS`
 * seconds per way; the ways alternate window by window (forward, then backward), `rounds`
 * windows each. Throughput counts the pages done within the window; CPU (server, from /proc,
 * and this process's) is divided by every page the window started, the last ones included.
 */
async function underLoad(
  ways: Way[],
  server: RunningServer,
  clients: WireClient[],
  windowS: number,
  rounds: number,
  log: (line: string) => void,
) {
  const tallies = new Map<string, LoadTally>(
    ways.map((w) => [
      w.name,
      {
        pagesInWindow: 0,
        pagesAll: 0,
        seconds: 0,
        ms: [],
        serverCpuMs: {},
        clientCpuMs: 0,
        othersCores: [],
      },
    ]),
  );
  // Every client opens its connections first (a page each way), outside any window.
  await Promise.all(
    clients.map(async (c) => {
      for (const w of ways) await fetchPage(w, c);
    }),
  );
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ways : [...ways].reverse();
    for (const way of order) {
      const t = tallies.get(way.name)!;
      const cpuBefore = treeCpu(server.pid);
      const clientBefore = process.cpuUsage();
      const others = othersMeter(server);
      const deadline = now() + windowS * 1000;
      let inWindow = 0;
      let all = 0;
      await Promise.all(
        clients.map(async (c) => {
          while (now() < deadline) {
            const s = now();
            await fetchPage(way, c);
            const e = now();
            all++;
            if (e <= deadline) (inWindow++, t.ms.push(e - s));
          }
        }),
      );
      const cpu = cpuDelta(cpuBefore, treeCpu(server.pid), server.role);
      const client = process.cpuUsage(clientBefore);
      const othersCores = others();
      for (const [role, ms] of Object.entries(cpu))
        t.serverCpuMs[role] = (t.serverCpuMs[role] ?? 0) + ms;
      t.clientCpuMs += (client.user + client.system) / 1000;
      t.pagesInWindow += inWindow;
      t.pagesAll += all;
      t.seconds += windowS;
      t.othersCores.push(othersCores);
      log(
        `  load ${way.name}: ${(inWindow / windowS).toFixed(0)} pages/s, server CPU ${JSON.stringify(cpu)}, others ${othersCores.toFixed(2)} cores`,
      );
    }
  }
  return tallies;
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const median = (values: number[]) => percentiles(values).p50;
const range = (values: number[]) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
};

async function run(context: ScenarioContext) {
  const { server, log, flags } = context;
  const iterations = positive(flags, "iterations");
  const warmup = positive(flags, "warmup");
  const clientCount = positive(flags, "clients");
  const windowS = positive(flags, "window");
  const rounds = positive(flags, "rounds");
  const seeded = await seedRoom(server.url, {
    room: "room-page",
    members: positive(flags, "members"),
    messages: positive(flags, "messages"),
    online: positive(flags, "online"),
    log,
  });
  const ways = waysFor(seeded.room, seeded.readerToken);
  const wire = { uncountedHeaders: [CALLS_HEADER] };
  const client = new WireClient(server.url, wire);
  const load = Array.from({ length: clientCount }, () => new WireClient(server.url, wire));
  try {
    const { shown, sizes } = await checkEquivalence(ways, client);
    log(`  the same page every way: ${JSON.stringify(shown)}`);
    log(`  one page at a time: ${warmup} rounds of warm-up, ${iterations} measured`);
    const others = othersMeter(server);
    const single = await onePageAtATime(ways, client, warmup, iterations);
    const singleOthers = others();
    log(`  under load: ${clientCount} clients, ${rounds} × ${windowS} s per way`);
    const loaded = await underLoad(ways, server, load, windowS, rounds, log);
    const query = print(parse(ROOM_PAGE_QUERY));
    const data: Measured = {
      seeded: seeded.counts,
      page: shown,
      sizes,
      queryBytes: {
        printed: Buffer.byteLength(query),
        stripped: Buffer.byteLength(stripIgnoredCharacters(query)),
      },
      singleOthersCores: singleOthers,
      single: Object.fromEntries(
        [...single].map(([name, t]) => [name, { ...t, latencyMs: percentiles(t.ms) }]),
      ),
      load: Object.fromEntries(
        [...loaded].map(([name, t]) => [name, { ...t, latencyMs: percentiles(t.ms) }]),
      ),
      settings: { iterations, warmup, clients: clientCount, windowS, rounds },
    };
    return { markdown: report(ways, data), data };
  } finally {
    client.close();
    for (const c of load) c.close();
    seeded.close();
  }
}

type Measured = {
  seeded: Record<string, number>;
  page: Record<string, number>;
  sizes: Record<string, Sizes>;
  queryBytes: { printed: number; stripped: number };
  singleOthersCores: number;
  single: Record<string, Tally & { latencyMs: Percentiles }>;
  load: Record<string, LoadTally & { latencyMs: Percentiles }>;
  settings: {
    iterations: number;
    warmup: number;
    clients: number;
    windowS: number;
    rounds: number;
  };
};

/** The tables: one page at a time, under load, and GraphQL's ratios to REST. */
function report(ways: Way[], data: Measured): string {
  const s = data.settings;
  const one = (name: string) => data.single[name]!;
  const loaded = (name: string) => data.load[name]!;
  const pagesPerS = (name: string) => loaded(name).pagesInWindow / loaded(name).seconds;
  const cpuPerPage = (name: string, role: string) =>
    (loaded(name).serverCpuMs[role] ?? 0) / loaded(name).pagesAll;
  const perPage = ways.map((w) => {
    const t = one(w.name);
    const size = data.sizes[w.name]!;
    return [
      w.label,
      w.requests,
      f(t.latencyMs.p50, 2),
      f(t.latencyMs.p95, 2),
      f(t.latencyMs.p99, 2),
      range(t.bytesOut),
      range(t.bytesIn),
      f(median(t.bytesIn) - median(t.wireBody), 0),
      range(t.wireBody),
      size.body,
      size.gzip,
      size.brotli,
      t.calls.length ? range(t.calls) : "–",
    ];
  });
  const underLoadRows = ways.map((w) => {
    const t = loaded(w.name);
    return [
      w.label,
      f(pagesPerS(w.name), 0),
      f(t.latencyMs.p50, 1),
      f(t.latencyMs.p99, 1),
      f(cpuPerPage(w.name, "runtime"), 2),
      f(cpuPerPage(w.name, "proxy"), 2),
      f(t.clientCpuMs / t.pagesAll, 2),
      f(t.clientCpuMs / (t.seconds * 1000), 2),
      `${f(Math.min(...t.othersCores), 2)}–${f(Math.max(...t.othersCores), 2)}`,
    ];
  });
  const x = (a: number, b: number) => (b ? `${(a / b).toFixed(2)}×` : "–");
  const against = (measure: (name: string) => number) => [
    x(measure("graphql"), measure("rest")),
    x(measure("graphql-json"), measure("rest")),
    x(measure("graphql"), measure("rest-seq")),
  ];
  const ratios: string[][] = [
    ["latency p50, one page at a time", ...against((n) => one(n).latencyMs.p50)],
    ["latency p95, one page at a time", ...against((n) => one(n).latencyMs.p95)],
    ["latency p99, one page at a time", ...against((n) => one(n).latencyMs.p99)],
    ["bytes read (headers + body as sent)", ...against((n) => median(one(n).bytesIn))],
    ["bytes sent", ...against((n) => median(one(n).bytesOut))],
    ["body, uncompressed", ...against((n) => data.sizes[n]!.body)],
    ["body, gzip", ...against((n) => data.sizes[n]!.gzip)],
    ["pages/s under load", ...against(pagesPerS)],
    ["latency p50 under load", ...against((n) => loaded(n).latencyMs.p50)],
    ["runtime CPU per page under load", ...against((n) => cpuPerPage(n, "runtime"))],
  ];
  // Straight to the runtime there is no proxy: its row would divide nothing by nothing.
  if (cpuPerPage("rest", "proxy") >= 0.05)
    ratios.push(["proxy CPU per page under load", ...against((n) => cpuPerPage(n, "proxy"))]);
  const served = ways
    .map((w) => `${w.name}: ${data.sizes[w.name]!.contentType} (${data.sizes[w.name]!.encoding})`)
    .join("; ");
  return [
    `Room: ${JSON.stringify(data.seeded)}. The page, checked equal every way before measuring: ${JSON.stringify(data.page)}.`,
    `The query as sent: ${data.queryBytes.printed} bytes printed (${data.queryBytes.stripped} with whitespace stripped).`,
    `Served as (content-encoding), the client offering "${ACCEPT_ENCODING}": ${served}. gzip (level 6) and brotli (quality 4) are computed from the bodies, per answer.`,
    "",
    `#### One page at a time (one client, ${s.iterations} pages each way after ${s.warmup} of warm-up, the ways alternated; others took ${f(data.singleOthersCores, 2)} cores)`,
    "",
    markdownTable(
      [
        "way",
        "requests",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "bytes sent",
        "bytes read",
        "of which headers",
        "body as sent",
        "body uncompressed",
        "gzip",
        "brotli",
        "storage calls",
      ],
      perPage,
    ),
    "",
    `#### Under load (${s.clients} clients, closed loop, ${s.rounds} × ${s.windowS} s per way, alternated)`,
    "",
    markdownTable(
      [
        "way",
        "pages/s",
        "p50 ms",
        "p99 ms",
        "runtime CPU ms/page",
        "proxy CPU ms/page",
        "client CPU ms/page",
        "client busy (cores)",
        "others (cores)",
      ],
      underLoadRows,
    ),
    "",
    "#### GraphQL / REST",
    "",
    markdownTable(
      [
        "measure",
        "GraphQL ÷ REST at once",
        "GraphQL (json) ÷ REST at once",
        "GraphQL ÷ REST one after another",
      ],
      ratios,
    ),
  ].join("\n");
}

export const roomPage: BenchScenario = {
  name: "room-page",
  summary:
    "the room page (info, members, 20 messages with authors and reactions): GraphQL against REST",
  flags: {
    iterations: { default: "400", help: "pages measured each way, one at a time" },
    warmup: { default: "50", help: "pages each way before measuring" },
    clients: { default: "16", help: "clients of the load" },
    window: { default: "5", help: "seconds of one load window" },
    rounds: { default: "3", help: "load windows per way" },
    messages: { default: "200", help: "messages in the room" },
    members: { default: "12", help: "members of the room (registered users)" },
    online: { default: "3", help: "members connected to the room's chat meanwhile" },
  },
  serverVars: {
    // Each GraphQL answer reports its storage calls; the bench reads it and leaves the header
    // out of the bytes it reports.
    GRAPHQL_COUNT_CALLS: "true",
    // The members register from one address; the reader's token outlives a long run.
    AUTH_MAX_ATTEMPTS_PER_IP: "1000000",
    ACCESS_TOKEN_SECONDS: "3600",
  },
  maxMinutes: (flags) =>
    3 +
    (Number(flags.iterations) * 5 * 0.05 + 5 * Number(flags.rounds) * Number(flags.window) * 1.5) /
      60,
  run,
};
