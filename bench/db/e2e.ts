/**
 * The flush end to end: the real worker (test/support/server.ts → wrangler unstable_startWorker,
 * workerd) configured with the cluster, N public rooms, P posts in flight over
 * POST /api/rooms/{room}/messages (no per-connection limit on HTTP) from G guests per room
 * (each room its own guests: the flushEvents run with shared users shows why). Meanwhile a
 * kept-open connection polls `room_cursors` on the primary every `pollMs`; each acked seq's
 * "ack → in Postgres" delay is the first poll whose cursor for that room is ≥ the seq, minus
 * the ack's arrival time (resolution ≈ pollMs + one round trip).
 */
import { randomBytes } from "node:crypto";
import { EdgechatApi } from "../../src/client/index.ts";
import { chatText, rng } from "./synthetic.ts";
import { describe, dist, openPool, sleep, type Dist } from "./util.ts";

export type E2eConfig = {
  rooms: number;
  /** Guests of each room (every room has its own, so that no user's row is shared by two rooms' flushes). */
  guestsPerRoom: number;
  inFlight: number;
  warmupS: number;
  seconds: number;
  drainS: number;
  pollMs: number;
};

export type E2eResult = E2eConfig & {
  roomNames: string[];
  from: number;
  to: number;
  acked: number;
  ackedPerS: number;
  postErrors: number;
  firstPostError: string | null;
  ackMs: Dist;
  flushedPerS: number;
  /** Events flushed in the window: the cursors' sum at the end minus at the start. */
  flushedInWindow: number;
  /** ack → first poll that shows the seq in room_cursors, for acks in the window. */
  ackToPostgresMs: Dist;
  /** Largest (acked − flushed) seen by the poller, summed over rooms. */
  maxBacklog: number;
  /** From the last ack to every room's cursor at its last acked seq (NaN if not within drainS). */
  drainMs: number;
  polls: number;
};

type Series = { at: number; seq: number }[];

function firstAtOrAbove(series: Series, seq: number): number | undefined {
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid]!.seq >= seq) hi = mid;
    else lo = mid + 1;
  }
  return series[lo]?.at;
}

/** Cursor sum over rooms at time t (last sample at or before t). */
function sumAt(series: Map<string, Series>, t: number): number {
  let sum = 0;
  for (const s of series.values()) {
    let v = 0;
    for (const p of s) if (p.at <= t) v = p.seq;
    sum += v;
  }
  return sum;
}

export async function runE2e(
  serverUrl: string,
  primaryUrl: string,
  config: E2eConfig,
  log: (line: string) => void,
): Promise<E2eResult> {
  const tag = randomBytes(3).toString("hex");
  const owner = await new EdgechatApi(serverUrl).signInGuest("bench-owner");
  const ownerApi = new EdgechatApi(serverUrl, owner.token);
  const roomNames = Array.from({ length: config.rooms }, (_, i) => `e2e-${tag}-${i}`);
  for (const name of roomNames) await ownerApi.createRoom({ name });
  const guests: EdgechatApi[][] = [];
  for (let r = 0; r < config.rooms; r++) {
    const mine: EdgechatApi[] = [];
    for (let i = 0; i < config.guestsPerRoom; i++)
      mine.push(
        new EdgechatApi(
          serverUrl,
          (await new EdgechatApi(serverUrl).signInGuest(`poster${r}.${i}`)).token,
        ),
      );
    guests.push(mine);
  }

  const monitor = openPool(primaryUrl);
  const series = new Map<string, Series>(roomNames.map((r) => [r, []]));
  const acks: { room: string; seq: number; at: number; ms: number }[] = [];
  const lastAcked = new Map<string, number>();
  let polling = true;
  let polls = 0;
  let maxBacklog = 0;
  const poller = (async () => {
    while (polling) {
      try {
        const res = await monitor.pool.query(
          "SELECT room, seq::int AS seq FROM room_cursors WHERE room = ANY($1)",
          [roomNames],
        );
        const now = Date.now();
        polls += 1;
        let backlog = 0;
        for (const row of res.rows as { room: string; seq: number }[]) {
          const s = series.get(row.room)!;
          if (!s.length || s.at(-1)!.seq !== Number(row.seq))
            s.push({ at: now, seq: Number(row.seq) });
        }
        for (const [room, s] of series)
          backlog += Math.max(0, (lastAcked.get(room) ?? 0) - (s.at(-1)?.seq ?? 0));
        maxBacklog = Math.max(maxBacklog, backlog);
      } catch {
        await sleep(50);
      }
      await sleep(config.pollMs);
    }
  })();

  let posting = true;
  let postErrors = 0;
  let firstPostError: string | null = null;
  let n = 0;
  const started = Date.now();
  const from = started + config.warmupS * 1000;
  const to = from + config.seconds * 1000;
  log(
    `  e2e: posting to ${config.rooms} rooms, ${config.inFlight} in flight, ${config.warmupS}+${config.seconds} s`,
  );
  const workers = Array.from({ length: config.inFlight }, async (_, w) => {
    const room = roomNames[w % config.rooms]!;
    const mine = guests[w % config.rooms]!;
    const api = mine[Math.floor(w / config.rooms) % mine.length]!;
    const r = rng(7 + w);
    while (posting) {
      const i = n++;
      const t0 = performance.now();
      try {
        const { seq } = await api.postMessage(room, { text: chatText(r), clientId: `${tag}-${i}` });
        const at = Date.now();
        acks.push({ room, seq, at, ms: performance.now() - t0 });
        if (seq > (lastAcked.get(room) ?? 0)) lastAcked.set(room, seq);
      } catch (error) {
        postErrors += 1;
        firstPostError ??= describe(error);
        await sleep(50);
      }
    }
  });
  await sleep(Math.max(0, to - Date.now()));
  posting = false;
  await Promise.all(workers);
  const stoppedAt = Date.now();

  // drain: every room's cursor at its last acked seq
  let drainMs = NaN;
  const drainEnd = stoppedAt + config.drainS * 1000;
  while (Date.now() < drainEnd) {
    const done = roomNames.every(
      (r) => (series.get(r)!.at(-1)?.seq ?? 0) >= (lastAcked.get(r) ?? 0),
    );
    if (done) {
      drainMs = Math.max(...roomNames.map((r) => series.get(r)!.at(-1)?.at ?? 0)) - stoppedAt;
      break;
    }
    await sleep(20);
  }
  polling = false;
  await poller;
  await monitor.close();

  const inWindow = acks.filter((a) => a.at >= from && a.at <= to);
  const delays = inWindow.flatMap((a) => {
    const seenAt = firstAtOrAbove(series.get(a.room)!, a.seq);
    return seenAt === undefined ? [] : [Math.max(0, seenAt - a.at)];
  });
  const flushedInWindow = sumAt(series, to) - sumAt(series, from);
  return {
    ...config,
    roomNames,
    from,
    to,
    acked: inWindow.length,
    ackedPerS: inWindow.length / config.seconds,
    postErrors,
    firstPostError,
    ackMs: dist(inWindow.map((a) => a.ms)),
    flushedPerS: flushedInWindow / config.seconds,
    flushedInWindow,
    ackToPostgresMs: dist(delays),
    maxBacklog,
    drainMs,
    polls,
  };
}
