/**
 * The feed's cost on the write path: a steady scenario of the load benchmark (bench/load.ts's
 * `runScenario`, as bench:observability runs it) with no webhook, and with one `message.posted`
 * webhook per room at the bench's receiver; the runtime's CPU per post and the posts' latency,
 * deliveries included (they run in the same workerd, inside the measured window).
 */
import { loadavg } from "node:os";
import type { ClientKind } from "../clients.ts";
import { readLog } from "../http.ts";
import { runScenario, type RunResult, type Scenario } from "../load.ts";
import { STANDARD } from "../scenarios.ts";
import { startTarget, type RunningServer } from "../servers.ts";
import { now, percentiles, sleep, type Percentiles } from "../util.ts";
import { addWebhook, cpuWindow, type CpuWindow, type ServerChoice } from "./common.ts";
import type { DeliveryReceiver } from "./receiver.ts";
import { tallyDeliveries, type DeliveryTally, type Post } from "./tally.ts";

/** bench:observability's `rooms-300`: 10 rooms × 20 clients, 5 senders each, 300 msg/s in all. */
export const ROOMS_300: Scenario = { ...STANDARD.rooms!, name: "rooms-300", rate: 300 };

/** The same rooms at another rate (`rooms-<rate>`). */
export const roomsAt = (rate: number): Scenario =>
  rate === 300 ? ROOMS_300 : { ...ROOMS_300, name: `rooms-${rate}`, rate };

export type WritePathVariant = "none" | "webhook";
export const WRITE_PATH_VARIANTS: readonly WritePathVariant[] = ["none", "webhook"];

export type WritePathRun = {
  round: number;
  scenario: string;
  variant: WritePathVariant;
  result: RunResult;
  /** The measured window. */
  cpu: CpuWindow;
  /** `webhook`: every message.posted of the rooms' logs against the receiver's arrivals. */
  deliveries?: DeliveryTally;
  /** `webhook`: deliveries of events committed in the window, from the commit to the receiver. */
  deliveryLatencyMs?: Percentiles;
  /** `webhook`: from the window's end to the last delivery's arrival. */
  lastDeliveryAfterWindowMs?: number;
  loadAverage: number[];
};

const path = (room: string) => `/w/${room}/0`;

export async function runWritePath(
  round: number,
  variant: WritePathVariant,
  s: Scenario,
  client: ClientKind,
  receiver: DeliveryReceiver,
  server: ServerChoice,
  log: (line: string) => void,
  running: (s: RunningServer | undefined) => void,
): Promise<WritePathRun> {
  const loadAverage = loadavg();
  const started = await startTarget(server.target, {
    ...server,
    vars: { WEBHOOK_ALLOW_LOOPBACK: "true" },
  });
  running(started);
  try {
    receiver.forget();
    let owner = "";
    let rooms: readonly string[] = [];
    let end: (() => CpuWindow) | undefined;
    let cpu: CpuWindow | undefined;
    const window = { start: 0, end: 0 };
    const result = await runScenario(
      {
        target: server.target,
        baseUrl: started.url,
        client,
        log,
        probe: {
          start: () => ([end, window.start] = [cpuWindow(started), now()]),
          end: () => ([cpu, window.end] = [end?.(), now()]),
        },
        prepare: async (token, names) => {
          [owner, rooms] = [token, names];
          if (variant === "webhook")
            for (const room of names)
              await addWebhook(started.url, token, room, receiver.url(path(room)));
        },
      },
      s,
    );
    const run: WritePathRun = { round, scenario: s.name, variant, result, cpu: cpu!, loadAverage };
    if (variant === "webhook") {
      run.deliveries = await awaitDeliveries(started.url, owner, rooms, receiver, window);
      const arrivals = receiver.arrivals;
      run.deliveryLatencyMs = percentiles(
        arrivals
          .filter((a) => a.committedAt >= window.start && a.committedAt < window.end)
          .map((a) => a.at - a.committedAt),
      );
      run.lastDeliveryAfterWindowMs = Math.max(0, ...arrivals.map((a) => a.at - window.end));
    }
    return run;
  } finally {
    await started.stop();
    running(undefined);
  }
}

/**
 * Every message.posted in the rooms' logs (warm-up included) must reach its room's endpoint:
 * waits for them (60 s at most, or 20 s without a new arrival), then tallies.
 */
async function awaitDeliveries(
  baseUrl: string,
  owner: string,
  rooms: readonly string[],
  receiver: DeliveryReceiver,
  window: { start: number; end: number },
): Promise<DeliveryTally> {
  const posts: Post[] = [];
  for (const room of rooms)
    for (const e of await readLog(baseUrl, owner, room))
      if (e.type === "message.posted")
        posts.push({ room, seq: e.seq, sentAt: 0, answeredAt: 0, measured: false });
  const deadline = now() + 60_000;
  let [seen, since] = [-1, now()];
  while (receiver.arrivals.length < posts.length && now() < deadline && now() - since < 20_000) {
    if (receiver.arrivals.length !== seen) [seen, since] = [receiver.arrivals.length, now()];
    await sleep(100);
  }
  return tallyDeliveries(posts, receiver.arrivals, (room) => [path(room)], window);
}
