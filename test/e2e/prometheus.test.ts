import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { ApiError, BATCH_SUBPROTOCOL } from "../../src/protocol/index.ts";
import { startPrometheus, type Prometheus } from "../support/prometheus.ts";
import {
  connect,
  freshRoom,
  rawConnect,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

/**
 * Debian's Prometheus scrapes the real worker's /metrics every second with the scrape token
 * (test/support/prometheus.ts), and the test asks Prometheus, through its HTTP API, for the
 * counts of the traffic it made: registrations, posts over HTTP and over a WebSocket, posts
 * refused by the per-user command limit, requests with bad tokens, wrong passwords and the
 * lockout they lead to, a GraphQL operation and an RPC call. Then every query of every panel of
 * grafana/edgechat.json runs against the same Prometheus. docs/observability.md, "Prometheus".
 */
const METRICS_TOKEN = randomBytes(24).toString("base64url");
/** The per-user command limit, low so that a burst of posts is partly refused (docs/limits.md). */
const COMMAND_BURST = 10;
const JOB = "edgechat";

let server: TestServer;
let prometheus: Prometheus | undefined;
useServer(
  async (started) => {
    server = started;
    prometheus = await startPrometheus({
      targets: [{ address: `127.0.0.1:${started.port}`, token: METRICS_TOKEN, job: JOB }],
      scrapeIntervalSeconds: 1,
    });
  },
  {
    vars: {
      METRICS_TOKEN,
      LIMIT_COMMANDS_PER_SECOND: "1",
      LIMIT_COMMANDS_BURST: String(COMMAND_BURST),
      // Rooms push their counts this long after the first one (5 s by default).
      METRICS_PUSH_MS: "500",
    },
  },
);
afterAll(async () => prometheus?.stop());

const prom = () => {
  if (!prometheus) throw new Error("Prometheus did not start");
  return prometheus;
};

/** One number from PromQL: the query must answer exactly one sample, or none (then 0). */
async function count(expr: string): Promise<number> {
  return (await prom().value(expr)) ?? 0;
}

/**
 * Waits until every query reaches its expected value (the rooms push their counts to the
 * metrics object on their own schedule), then two more scrapes, then checks that each is
 * exactly the expected value: a count that overshot fails.
 */
async function expectCounts(expected: Record<string, number>): Promise<void> {
  await waitUntil(
    async () => {
      for (const [expr, value] of Object.entries(expected)) {
        if ((await count(expr)) < value) return false;
      }
      return true;
    },
    `Prometheus to see ${JSON.stringify(expected)}`,
    45_000,
    250,
  );
  await prom().waitForScrapes(2, JOB);
  const seen: Record<string, number> = {};
  for (const expr of Object.keys(expected)) seen[expr] = await count(expr);
  expect(seen).toEqual(expected);
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

describe("Prometheus scraping the worker", () => {
  it("scrapes /metrics with the token: the target is up and its text parses (up == 1)", async () => {
    const [target] = await prom().waitForTargetsUp(JOB);
    expect(target).toMatchObject({ health: "up", lastError: "" });
    expect(target!.scrapeUrl).toBe(`http://127.0.0.1:${server.port}/metrics`);
    expect(await count(`up{job="${JOB}"}`)).toBe(1);
  });

  it("counts what the test did, exactly, as PromQL reads it from the scrapes", async () => {
    const traffic = await makeTraffic();
    await expectCounts({
      [`sum(edgechat_http_requests_total{job="${JOB}",route="/api/auth/register",method="POST",status="201"})`]:
        traffic.registered,
      [`sum(edgechat_http_requests_total{job="${JOB}",route="/api/rooms/:room/messages",method="POST"})`]:
        traffic.postedOverHttp,
      [`sum(edgechat_commands_total{job="${JOB}",type="post",outcome="ok"})`]: traffic.posted,
      [`sum(edgechat_events_appended_total{job="${JOB}",type="message.posted"})`]: traffic.posted,
      // cyra's refused posts: by the socket's frame gate (refusals_total, before a decision) or
      // by the room's per-user command budget (commands_total, outcome rate_limited).
      [`(sum(edgechat_refusals_total{job="${JOB}",reason="rate_limited"}) or vector(0)) + (sum(edgechat_commands_total{job="${JOB}",type="post",outcome="rate_limited"}) or vector(0))`]:
        traffic.rateLimited,
      [`sum(edgechat_auth_failures_total{job="${JOB}"})`]:
        traffic.badTokens + traffic.wrongPasswords,
      [`sum(edgechat_auth_lockouts_total{job="${JOB}",kind="account"})`]: traffic.lockedOut,
      [`sum(edgechat_graphql_operations_total{job="${JOB}",type="query",outcome="ok"})`]: 1,
      [`sum(edgechat_rpc_calls_total{job="${JOB}",code="ok"})`]: 1,
      [`sum(edgechat_sockets_open{job="${JOB}",kind="chat"})`]: traffic.socketsOpen,
    });
    // Every posted message reached both open sockets at least (joins and the like add more).
    expect(
      await count(`sum(edgechat_deliveries_total{job="${JOB}",transport="chat"})`),
    ).toBeGreaterThanOrEqual(traffic.posted * traffic.socketsOpen);
    // A burst of 60 on one socket passes the gate's 40 and then the budget's 10: both refuse.
    expect(
      await count(`sum(edgechat_refusals_total{job="${JOB}",reason="rate_limited"})`),
    ).toBeGreaterThan(0);
    expect(
      await count(`sum(edgechat_commands_total{job="${JOB}",type="post",outcome="rate_limited"})`),
    ).toBeGreaterThan(0);
    expect(await count(`sum(edgechat_rooms_active{job="${JOB}"})`)).toBeGreaterThanOrEqual(1);
    expect(await count(`sum(edgechat_room_wakeups_total{job="${JOB}"})`)).toBeGreaterThanOrEqual(1);
    expect(
      await count(`sum(edgechat_api_errors_total{job="${JOB}",code="unauthorized"})`),
    ).toBeGreaterThanOrEqual(traffic.badTokens + traffic.wrongPasswords);
  });

  it("refuses /metrics without the token or with a wrong one (401), serves the text format with it", async () => {
    const none = await fetch(`${server.url}/metrics`);
    expect(none.status).toBe(401);
    expect((await none.json()) as unknown).toMatchObject({ error: { code: "unauthorized" } });
    const wrong = await fetch(`${server.url}/metrics`, { headers: bearer(`${METRICS_TOKEN}x`) });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()) as unknown).toMatchObject({ error: { code: "unauthorized" } });
    const right = await fetch(`${server.url}/metrics`, { headers: bearer(METRICS_TOKEN) });
    expect(right.status).toBe(200);
    expect(right.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await right.text()).toMatch(/^# TYPE edgechat_http_requests_total counter$/m);
  });
});

// ---------------------------------------------------------------- the Grafana dashboard

type Target = { expr: string; refId: string; datasource?: { uid?: string } };
type Panel = {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
};
type Dashboard = {
  __inputs: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
  templating: { list: { name: string }[] };
};

const dashboard = JSON.parse(
  readFileSync(new URL("../../grafana/edgechat.json", import.meta.url), "utf8"),
) as Dashboard;
const queries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel, target })),
);

/**
 * Panels that have nothing to show on this server, with the reason: it runs without Postgres
 * (no DATABASE_URL), so nothing is flushed and no database node is probed. test/db covers the
 * numbers themselves with Postgres.
 */
const EMPTY_WITHOUT_POSTGRES: Record<string, string> = {
  "Flush batches / s by outcome": "nothing is flushed without Postgres",
  "Events flushed / s": "nothing is flushed without Postgres",
  "Database nodes up": "no database nodes without Postgres",
  "Replica lag (time)": "no replicas without Postgres",
  "Replica lag (bytes)": "no replicas without Postgres",
};

/** What Grafana fills in, as a Prometheus without Grafana needs it. */
function asPromQL(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$job", JOB);
}

describe("grafana/edgechat.json", () => {
  it("is an importable model: a DS_PROMETHEUS input every panel and query uses, unique ids", () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({
        name: "DS_PROMETHEUS",
        type: "datasource",
        pluginId: "prometheus",
      }),
    ]);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(queries.length).toBeGreaterThan(20);
    for (const { panel, target } of queries) {
      expect(panel.datasource?.uid, panel.title).toBe("${DS_PROMETHEUS}");
      expect(target.datasource?.uid, panel.title).toBe("${DS_PROMETHEUS}");
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(["job"]);
  });

  it("uses every metric of docs/observability.md, and only those", () => {
    const doc = readFileSync(new URL("../../docs/observability.md", import.meta.url), "utf8");
    const documented = new Set([...doc.matchAll(/^\| `(edgechat_[a-z_]+)`/gm)].map((m) => m[1]!));
    expect(documented.size).toBeGreaterThan(20);
    const used = new Set(
      queries.flatMap(({ target }) =>
        [...target.expr.matchAll(/\b(edgechat_[a-z_]+)/g)].map((m) =>
          m[1]!.replace(/_bucket$/, ""),
        ),
      ),
    );
    expect([...used].filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !used.has(name))).toEqual([]);
  });

  it("every panel's every query parses, evaluates and has data in the real Prometheus", async () => {
    // After the counting test's traffic. A panel may wait for its first data a little (the
    // fan-out latency comes from the clients' `received` reports), so the check is repeated,
    // bounded, until only the panels that need Postgres are empty.
    let outcome = await runEveryQuery();
    const deadline = Date.now() + 30_000;
    while (
      outcome.failures.length === 0 &&
      !sameSet(outcome.empty, Object.keys(EMPTY_WITHOUT_POSTGRES))
    ) {
      if (Date.now() > deadline) break;
      await prom().waitForScrapes(1, JOB);
      outcome = await runEveryQuery();
    }
    expect(outcome.failures).toEqual([]);
    expect(outcome.empty).toEqual(Object.keys(EMPTY_WITHOUT_POSTGRES).sort());
  });
});

/** Every query of every panel once: those Prometheus refused, and the panels with no data. */
async function runEveryQuery(): Promise<{ failures: string[]; empty: string[] }> {
  const failures: string[] = [];
  const empty = new Set<string>();
  for (const { panel, target } of queries) {
    const expr = asPromQL(target.expr);
    expect(expr, panel.title).not.toMatch(/\$/);
    const answer = await prom().query(expr);
    if (!answer.ok) failures.push(`${panel.title} ${target.refId}: ${answer.error}`);
    else if (answer.samples.length === 0) empty.add(panel.title);
  }
  return { failures, empty: [...empty].sort() };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && b.every((item) => a.includes(item));

// ---------------------------------------------------------------- the traffic

const POSTS_OVER_HTTP = 5;
const POSTS_OVER_SOCKET = 4;
/**
 * cyra's burst over a raw socket, all at once: the socket's frame gate lets 40 through (20 a
 * second, bursts of 40: COMMAND_RATE), the room's budget COMMAND_BURST of those; the rest are
 * refused `rate_limited`, by one or the other.
 */
const BURST = 60;
const BAD_TOKENS = 3;

/**
 * Three registered users in one room: ada posts over HTTP, bob over the SDK's socket, cyra sends
 * a burst over a raw socket past the per-user command limit; three requests with bad tokens; a
 * fourth user's password wrong until the account locks; one GraphQL query and one RPC call.
 * Counted from what the server answered, not from what was sent.
 */
async function makeTraffic() {
  const [ada, bob, cyra] = [await register("ada"), await register("bob"), await register("cyra")];
  const room = await freshRoom(ada);

  const bobSocket = await connect(server.url, room, bob);
  // On the batch subprotocol, as the SDK speaks it: the room times its fan-out from the reports
  // of how far such a socket has read.
  const cySocket = await rawConnect(server.url, room, cyra.token, undefined, BATCH_SUBPROTOCOL);
  for (let i = 0; i < POSTS_OVER_HTTP; i++) {
    await ada.api.postMessage(room, { text: `over http ${i}`, clientId: `http-${i}` });
  }
  for (let i = 0; i < POSTS_OVER_SOCKET; i++) await bobSocket.conn.post(`over the socket ${i}`);

  const burst = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
  for (const clientId of burst) cySocket.sendJson({ type: "post", clientId, text: clientId });
  const answered = () => {
    const acked = cySocket.of("ack").filter((ack) => burst.includes(ack.clientId));
    const refused = cySocket.of("error").filter((e) => burst.includes(e.clientId ?? ""));
    return { acked: acked.length, refused: refused, total: acked.length + refused.length };
  };
  await waitUntil(() => answered().total === BURST, "cyra's burst answered");
  const { acked, refused } = answered();
  expect(refused.every((error) => error.code === "rate_limited")).toBe(true);
  expect(refused.length).toBeGreaterThan(0);
  // How far cyra has read, reported as the SDK does.
  const lastSeq = Math.max(...cySocket.of("event").map((frame) => frame.event.seq));
  cySocket.sendJson({ type: "received", seq: lastSeq });

  for (let i = 0; i < BAD_TOKENS; i++) {
    const res = await fetch(`${server.url}/api/rooms/${room}/messages`, {
      headers: bearer(`not-a-token-${i}`),
    });
    expect(res.status).toBe(401);
  }

  const { wrongPasswords, lockedOut } = await lockAnAccount();

  const graphql = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(ada.token) },
    body: JSON.stringify({ query: "query Ping { __typename }" }),
  });
  expect(graphql.status).toBe(200);
  const rpc = await fetch(`${server.url}/rpc/edgechat.v1.RoomService/GetRoom`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(ada.token) },
    body: JSON.stringify({ room }),
  });
  expect(rpc.status).toBe(200);

  return {
    registered: 4, // ada, bob, cyra, and dora whose account gets locked
    postedOverHttp: POSTS_OVER_HTTP,
    posted: POSTS_OVER_HTTP + POSTS_OVER_SOCKET + acked,
    rateLimited: refused.length,
    badTokens: BAD_TOKENS,
    wrongPasswords,
    lockedOut,
    socketsOpen: 2, // bob's and cyra's, open until the test ends
  };
}

/** Wrong passwords until sign-in answers 429 (AUTH_MAX_FAILURES, 5 by default). */
async function lockAnAccount(): Promise<{ wrongPasswords: number; lockedOut: number }> {
  const dora = await register("dora");
  let wrongPasswords = 0;
  for (;;) {
    const error = await dora.api.login("dora", "not the password").catch((e: unknown) => e);
    if (!(error instanceof ApiError))
      throw new Error(`a wrong password signed in: ${String(error)}`);
    if (error.status === 429) return { wrongPasswords, lockedOut: 1 };
    expect(error.status).toBe(401);
    wrongPasswords += 1;
    if (wrongPasswords > 20) throw new Error("no lockout after 20 wrong passwords");
  }
}

async function register(username: string): Promise<Guest> {
  const session = await new EdgechatApi(server.url).register(username, "correct horse battery");
  return { ...session, api: new EdgechatApi(server.url, session.token) };
}
