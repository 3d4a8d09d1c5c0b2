/**
 * Incoming webhooks against a plain post: one room, one incoming hook posting a Slack-style body
 * (`POST /api/hooks/{room}/{hook}/{secret}`), and one guest posting the same text through
 * `POST /api/rooms/{room}/messages` with its token. Closed loop: `concurrency` requests in
 * flight, each sent when the previous one came back, for a window; the two ways alternate
 * window by window (hook then plain, then plain then hook), on one server.
 */
import { loadavg } from "node:os";
import { call, createRoom, readLog, signInGuest } from "../http.ts";
import { startTarget, type RunningServer } from "../servers.ts";
import { now, percentiles, type Percentiles } from "../util.ts";
import { cpuWindow, type CpuWindow, type ServerChoice } from "./common.ts";

export type Way = "hook" | "plain";
export const WAYS: readonly Way[] = ["hook", "plain"];

/** What a CI system posts to a Slack incoming webhook: mrkdwn text, a link, an attachment. */
export const SLACK_BODY = JSON.stringify({
  username: "ci",
  text: "Build <https://ci.example/builds/4242|#4242> *passed* on `main` in 3m 12s",
  attachments: [
    {
      color: "good",
      fields: [{ title: "commit", value: "a1b2c3d fix the flaky test", short: true }],
    },
  ],
});
/** The plain post's text: about what the hook's body becomes. */
const PLAIN_TEXT =
  "Build #4242 (https://ci.example/builds/4242) passed on main in 3m 12s\ncommit: a1b2c3d fix the flaky test";

export type IncomingWindow = {
  round: number;
  way: Way;
  concurrency: number;
  posts: number;
  failures: Record<string, number>;
  postsPerS: number;
  latencyMs: Percentiles;
  cpu: CpuWindow;
};

export type IncomingRun = {
  windows: IncomingWindow[];
  /** Posts that answered 200/201, and the message.posted events the room's log holds. */
  answered: number;
  inLog: number;
  loadAverage: number[];
};

/** The room's per-user budget would cap one bot and one user: lifted for this part only. */
const LIFTED = { LIMIT_COMMANDS_PER_SECOND: "1000000", LIMIT_COMMANDS_BURST: "1000000" };

export async function runIncoming(
  options: { rounds: number; windowS: number; concurrency: readonly number[]; warmup: number },
  server: ServerChoice,
  log: (line: string) => void,
  running: (s: RunningServer | undefined) => void,
): Promise<IncomingRun> {
  const loadAverage = loadavg();
  const started = await startTarget(server.target, { ...server, vars: LIFTED });
  running(started);
  try {
    const base = started.url;
    const owner = await signInGuest(base, "bench-owner");
    const room = "hooks";
    await createRoom(base, owner, room);
    const made = await call<{ url: string }>(
      base,
      "POST",
      `/api/rooms/${room}/incoming-webhooks`,
      owner,
      { name: "CI" },
    );
    const hookUrl = `${base}${new URL(made.url).pathname}`;
    const poster = await signInGuest(base, "poster");
    const send: Record<Way, () => Promise<number>> = {
      hook: () =>
        fetch(hookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: SLACK_BODY,
          signal: AbortSignal.timeout(30_000),
        }).then(statusOf),
      plain: () =>
        fetch(`${base}/api/rooms/${room}/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${poster}`, "content-type": "application/json" },
          body: JSON.stringify({ clientId: crypto.randomUUID(), text: PLAIN_TEXT }),
          signal: AbortSignal.timeout(30_000),
        }).then(statusOf),
    };
    let answered = 0;
    const ok = (status: number) => status === 200 || status === 201;
    // Warm-up, uncounted but checked: the first post joins the guest, the first hook post makes
    // its bot known to the instance.
    for (const way of WAYS)
      for (let i = 0; i < options.warmup; i++) {
        const status = await send[way]();
        if (!ok(status)) throw new Error(`warm-up: ${way} answered ${status}`);
        answered += 1;
      }
    const windows: IncomingWindow[] = [];
    for (let round = 1; round <= options.rounds; round++)
      for (const concurrency of options.concurrency) {
        const order = round % 2 ? WAYS : [...WAYS].reverse();
        for (const way of order) {
          const w = await closedLoop(started, send[way], concurrency, options.windowS);
          answered += w.posts - sum(w.failures);
          windows.push({ round, way, concurrency, ...w });
          log(
            `  [round ${round} c=${concurrency} ${way}] ${w.postsPerS.toFixed(1)} posts/s, p50/p99 ` +
              `${w.latencyMs.p50.toFixed(1)}/${w.latencyMs.p99.toFixed(1)} ms, others ${w.cpu.othersCores.toFixed(2)} cores` +
              (sum(w.failures) ? `, failures ${JSON.stringify(w.failures)}` : ""),
          );
        }
      }
    const events = await readLog(base, owner, room);
    const inLog = events.filter((e) => e.type === "message.posted").length;
    return { windows, answered, inLog, loadAverage };
  } finally {
    await started.stop();
    running(undefined);
  }
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

async function statusOf(response: Response): Promise<number> {
  await response.arrayBuffer();
  return response.status;
}

/** `concurrency` posters, each posting again as soon as its answer is in, for `windowS`. */
async function closedLoop(
  server: RunningServer,
  send: () => Promise<number>,
  concurrency: number,
  windowS: number,
) {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const end = cpuWindow(server);
  const t0 = now();
  const until = t0 + windowS * 1000;
  await Promise.all(
    [...Array(concurrency).keys()].map(async () => {
      while (now() < until) {
        const sent = now();
        const status = await send().catch(() => 0);
        if (status === 200 || status === 201) latencies.push(now() - sent);
        else failures[String(status)] = (failures[String(status)] ?? 0) + 1;
      }
    }),
  );
  const cpu = end();
  const posts = latencies.length + sum(failures);
  return {
    posts,
    failures,
    // Answers in per second of the loop's whole time (the last ones end past the window).
    postsPerS: latencies.length / ((now() - t0) / 1000),
    latencyMs: percentiles(latencies),
    cpu,
  };
}
