/**
 * `npm run bench:slack`: the Slack bridge's latencies through `wrangler dev` (the user path, its
 * local Queues) against the fake Slack of the tests (test/support/fake-slack.ts), in a linked
 * channel and room:
 *
 * - **ack**: a person's post in Slack, from the signed POST to /api/slack/events to its 200
 *   (Slack allows 3 s);
 * - **Slack → room**: from that POST to the message's event on an SDK socket in the room;
 * - **room → Slack**: from a post over HTTP to chat.postMessage reaching the fake.
 *
 * `--count` messages each way (100), one after another with `--gap-ms` between them (100); the
 * first 5 of each way are warm-up (auth.test, users.info, cold objects) and reported apart. Then it
 * checks that each message is once on each side and that the fake saw no request Slack would
 * refuse. Markdown on stdout, progress on stderr, the samples in bench/results/slack-<time>.json.
 * 127.0.0.1 only; SIGINT and SIGTERM stop the server and the fake.
 */
import { parseArgs } from "node:util";
import { EdgechatApi, RoomConnection } from "../../src/client/index.ts";
import { startFakeSlack, type FakeSlack } from "../../test/support/fake-slack.ts";
import { writeResults } from "../results.ts";
import { REPO_ROOT, startTarget, type RunningServer } from "../servers.ts";
import { now, percentiles, sleep, stopOnExit, type Percentiles } from "../util.ts";

const { values: args } = parseArgs({
  options: {
    count: { type: "string", default: "100" },
    "gap-ms": { type: "string", default: "100" },
    storage: { type: "string", default: "disk" },
  },
});
const COUNT = Number(args.count);
const GAP_MS = Number(args["gap-ms"]);
const WARMUP = 5;
const APP = {
  botToken: "xoxb-bench-0000-bridge",
  signingSecret: "bench-signing-secret-0123456789abcdef",
  teamId: "T0BENCH001",
  appId: "A0BENCH001",
  botUserId: "U0BENCHBOT",
  botId: "B0BENCHBOT",
};
const CHANNEL = "C0BENCH001";
const ANN = "U0BENCHANN";

let server: RunningServer | undefined;
let slack: FakeSlack | undefined;
const { stopping } = stopOnExit(async () => {
  await slack?.close();
  await server?.stop();
});

async function main(): Promise<void> {
  const started = Date.now();
  slack = await startFakeSlack({
    ...APP,
    channels: [CHANNEL],
    users: { [ANN]: { name: "ann", displayName: "Ann" } },
  });
  console.error("bench:slack: starting wrangler dev");
  server = await startTarget("edgechat-dev", {
    storage: args.storage === "tmpfs" ? "tmpfs" : "disk",
    serverRoot: REPO_ROOT,
    vars: {
      ADMIN_USERNAMES: "root",
      SLACK_SIGNING_SECRET: APP.signingSecret,
      SLACK_BOT_TOKEN: APP.botToken,
      SLACK_API_BASE: slack.apiBase,
    },
  });
  slack.setEventsUrl(`${server.url}/api/slack/events`);
  const root = await new EdgechatApi(server.url).register("root", "root's password 1");
  const ada = await new EdgechatApi(server.url).signInGuest("ada");
  const api = new EdgechatApi(server.url, ada.token);
  const room = `slack-bench-${Date.now().toString(36)}`;
  await api.createRoom({ name: room });
  const linked = await fetch(`${server.url}/api/admin/slack/links`, {
    method: "POST",
    headers: { authorization: `Bearer ${root.token}`, "content-type": "application/json" },
    body: JSON.stringify({ channel: CHANNEL, room }),
  });
  if (linked.status !== 201) throw new Error(`link: ${linked.status} ${await linked.text()}`);

  // When each text first showed in the room (its event on a socket) and in Slack (a call).
  const inRoom = new Map<string, number>();
  const conn = new RoomConnection({ baseUrl: server.url, room, token: ada.token });
  conn.on("event", (event) => {
    if (event.type === "message.posted" && !inRoom.has(event.data.text))
      inRoom.set(event.data.text, now());
  });
  conn.connect();
  const inSlack = new Map<string, number>();
  let seen = 0;
  const watch = setInterval(() => {
    for (; seen < slack!.calls.length; seen++) {
      const call = slack!.calls[seen]!;
      if (call.method === "chat.postMessage" && typeof call.args.text === "string")
        inSlack.set(call.args.text, now());
    }
  }, 2);

  console.error(`bench:slack: ${COUNT} posts from Slack`);
  const ack: number[] = [];
  const sentAt = new Map<string, number>();
  for (let i = 0; i < COUNT; i++) {
    const text = `from slack ${i}`;
    const t0 = now();
    sentAt.set(text, t0);
    const { delivery } = await slack.userPosts(CHANNEL, ANN, text);
    if (delivery?.attempts.length !== 1 || delivery.attempts[0]!.status !== 200)
      throw new Error(`event ${i} was not acknowledged at once`);
    ack.push(now() - t0);
    await sleep(GAP_MS);
  }
  await waitFor(() => inRoom.size >= COUNT, "Slack's posts in the room");

  console.error(`bench:slack: ${COUNT} posts from the room`);
  for (let i = 0; i < COUNT; i++) {
    const text = `from the room ${i}`;
    sentAt.set(text, now());
    await api.postMessage(room, { text, clientId: crypto.randomUUID() });
    await sleep(GAP_MS);
  }
  await waitFor(() => inSlack.size >= COUNT, "the room's posts in Slack");
  await sleep(3000);
  await slack.settled();
  clearInterval(watch);
  conn.close();

  const latency = (arrived: Map<string, number>, prefix: string) =>
    Array.from({ length: COUNT }, (_, i) => {
      const text = `${prefix} ${i}`;
      return arrived.get(text)! - sentAt.get(text)!;
    });
  const toRoom = latency(inRoom, "from slack");
  const toSlack = latency(inSlack, "from the room");
  const roomPosts = (await api.events(room, 0, 1000)).events.filter(
    (e) => e.type === "message.posted",
  ).length;
  const checks = {
    roomPosts,
    slackMessages: slack.messages(CHANNEL).length,
    postMessageCalls: slack.calls.filter((c) => c.method === "chat.postMessage").length,
    usersInfoCalls: slack.calls.filter((c) => c.method === "users.info").length,
    violations: slack.violations,
  };
  const rows = {
    ack: split(ack),
    "Slack → room": split(toRoom),
    "room → Slack": split(toSlack),
  };
  report(rows, checks);
  const file = writeResults("slack-", started, (Date.now() - started) / 1000, {
    count: COUNT,
    gapMs: GAP_MS,
    storage: args.storage,
    rows,
    checks,
    samples: { ack, toRoom, toSlack },
  });
  console.error(`bench:slack: results in ${file}`);
}

function split(values: number[]): { warm: Percentiles; cold: number[] } {
  return { warm: percentiles(values.slice(WARMUP)), cold: values.slice(0, WARMUP) };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const ms = (v: number) => v.toFixed(v < 10 ? 1 : 0);

function report(
  rows: Record<string, { warm: Percentiles; cold: number[] }>,
  checks: Record<string, unknown>,
): void {
  console.log(`## Slack bridge latency (${COUNT} messages each way, ${GAP_MS} ms apart)\n`);
  console.log("| path | p50 ms | p95 ms | p99 ms | max ms | first 5 (warm-up) ms |");
  console.log("| ---- | -----: | -----: | -----: | -----: | -------------------- |");
  for (const [name, { warm, cold }] of Object.entries(rows))
    console.log(
      `| ${name} | ${ms(warm.p50)} | ${ms(warm.p95)} | ${ms(warm.p99)} | ${ms(warm.max)} | ${cold.map(ms).join(", ")} |`,
    );
  console.log(`\nchecks: ${JSON.stringify(checks)}`);
}

main()
  .then(async () => {
    await slack?.close();
    await server?.stop();
  })
  .catch(async (error: unknown) => {
    if (!stopping()) console.error(error);
    await slack?.close();
    await server?.stop();
    process.exitCode = 1;
  });
