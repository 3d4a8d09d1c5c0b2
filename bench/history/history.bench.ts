/**
 * One run of the time-travel benchmark (bench/history/run.ts): a room of BENCH_EVENTS events
 * appended through the real EventLog (hash chain, projections and snapshots, in transactions of
 * 100 as group commits do), then the room's state at seqs near 1,000, the middle and the end,
 * and by time, through the TimeTravel the route calls, against a full replay of the log to the
 * same seq with the same pure folds. Runs inside workerd on the Room object's own SQLite; it
 * measures the queries and folds, not HTTP.
 */
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { NewEvent, RoomEvent, Session, UserRef } from "../../src/protocol/index.ts";
import { EMPTY_ROSTER, foldRosterAll, membersOf } from "../../src/room/history.ts";
import { foldMessage, toMessage, type MessageState } from "../../src/room/message-history.ts";
import { EventLog } from "../../src/room/log.ts";
import type { Room } from "../../src/room/room.ts";
import { SNAPSHOT_EVERY, snapshotIfDue } from "../../src/room/snapshots.ts";
import { TimeTravel } from "../../src/room/time-travel.ts";

const bench = env as unknown as { BENCH_EVENTS: string; BENCH_REPS: string };
const EVENTS = Number(bench.BENCH_EVENTS);
const REPS = Number(bench.BENCH_REPS);
const PAGE = 50;
const T0 = 1_800_000_000_000;
const EMOJI = ["👍", "🎉", "❤️", "😂", "👀"];

type Row = Record<string, string | number>;
const rows: Row[] = [];
const report = (row: Row) => {
  rows.push(row);
  console.log(`BENCH_ROW ${JSON.stringify(row)}`);
};

/** A deterministic pseudo-random stream (mulberry32), so every run builds the same room. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The next event of a busy room: ~70 % posts, then edits, reactions, deletes, joins, role,
 * topic and mute changes, each aimed at a message or member that exists.
 */
function eventMaker(firstSeq: number) {
  const next = random(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const users: UserRef[] = [];
  const posted: number[] = [];
  let seq = firstSeq;
  return (): { event: NewEvent; actor: UserRef } => {
    seq += 1;
    const r = next();
    if (users.length < 5 || r < 0.03) {
      const user = { id: `u_${users.length}`, name: `user${users.length}` };
      users.push(user);
      return { event: { type: "member.joined", data: {} }, actor: user };
    }
    const actor = pick(users);
    const message = posted.length > 0 ? pick(posted.slice(-2000)) : undefined;
    if (r < 0.73 || message === undefined) {
      posted.push(seq);
      return {
        event: { type: "message.posted", data: { text: `message ${seq} from ${actor.name}` } },
        actor,
      };
    }
    if (r < 0.83)
      return {
        event: { type: "message.edited", data: { messageId: message, text: `edited at ${seq}` } },
        actor,
      };
    if (r < 0.93) {
      const type = next() < 0.7 ? "reaction.added" : "reaction.removed";
      return { event: { type, data: { messageId: message, emoji: pick(EMOJI) } }, actor };
    }
    if (r < 0.96)
      return { event: { type: "message.deleted", data: { messageId: message } }, actor };
    if (r < 0.98) {
      const role = next() < 0.5 ? "moderator" : "member";
      return {
        event: { type: "member.role_changed", data: { userId: pick(users).id, role } },
        actor,
      };
    }
    if (r < 0.99)
      return { event: { type: "room.topic_changed", data: { topic: `topic at ${seq}` } }, actor };
    return {
      event: {
        type: "member.muted",
        data: { userId: pick(users).id, until: T0 + seq * 1000 + 60_000 },
      },
      actor,
    };
  };
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** A timer turn: workerd's clock stands still during synchronous work and moves on at I/O. */
const tick = () => new Promise((wake) => setTimeout(wake, 0));

/**
 * The median over `reps` of how long `run` takes (ms): each repetition runs it `inner` times
 * between two timer turns (the clock's only moves), and the cost of the turns alone is taken off.
 */
async function time(run: () => unknown, reps = REPS, inner = 1): Promise<number> {
  const measure = async (work: () => unknown) => {
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      await tick();
      const started = performance.now();
      for (let j = 0; j < inner; j++) work();
      await tick();
      ms.push((performance.now() - started) / inner);
    }
    return median(ms);
  };
  const idle = await measure(() => undefined);
  return Math.max(0, (await measure(run)) - idle);
}

/** The state at `seq` the slow way: read every event from the first and fold it. */
function fullReplay(log: EventLog, seq: number) {
  let roster = EMPTY_ROSTER;
  const messages = new Map<number, MessageState | undefined>();
  let at = 0;
  for (let after = 0; after < seq;) {
    const page = log.range(after, 1000, seq);
    roster = foldRosterAll(roster, page);
    for (const event of page) {
      const id = messageOf(event);
      if (id !== undefined) messages.set(id, foldMessage(messages.get(id), event));
      at = event.at;
    }
    after = page.at(-1)!.seq;
  }
  const newest = [...messages.values()].slice(-PAGE).reverse();
  return {
    members: membersOf(roster, at),
    messages: newest.flatMap((m) => (m ? [toMessage(m)] : [])),
  };
}

const messageOf = (event: RoomEvent): number | undefined =>
  event.type === "message.posted"
    ? event.seq
    : "messageId" in event.data
      ? event.data.messageId
      : undefined;

async function guest(name: string): Promise<Session> {
  const res = await exports.default.fetch(
    new Request("http://bench.test/api/auth/guest", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    }),
  );
  return res.json();
}

it(`time travel in a room of ${EVENTS} events`, async () => {
  const owner = await guest("owner");
  const name = `history-${Date.now()}`;
  const res = await exports.default.fetch(
    new Request("http://bench.test/api/rooms", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ name }),
    }),
  );
  expect(res.status).toBe(201);
  await runInDurableObject(env.ROOM.getByName(name), async (_room: Room, state) => {
    const sql = state.storage.sql;
    const log = new EventLog(sql);
    const make = eventMaker(log.lastSeq);
    await tick();
    const started = performance.now();
    while (log.lastSeq < EVENTS) {
      const batch = Math.min(100, EVENTS - log.lastSeq);
      state.storage.transactionSync(() => {
        for (let i = 0; i < batch; i++) {
          const { event, actor } = make();
          log.append([event], actor, T0 + (log.headSeq + 1) * 1000);
        }
      });
      log.committed();
    }
    await tick();
    const appendMs = performance.now() - started;
    // What one snapshot costs on its own: the same write project() makes every SNAPSHOT_EVERY.
    const last = log.range(log.lastSeq - 1, 1)[0]!;
    const due = { ...last, seq: SNAPSHOT_EVERY * 1_000_000 };
    const snapshotMs = await time(
      () => state.storage.transactionSync(() => snapshotIfDue(sql, due)),
      REPS,
      50,
    );
    sql.exec("DELETE FROM snapshots WHERE seq = ?", due.seq);
    const snapshots = sql
      .exec<{ n: number; bytes: number }>(
        "SELECT count(*) AS n, sum(length(state)) AS bytes FROM snapshots",
      )
      .one();
    const members = sql.exec<{ n: number }>("SELECT count(*) AS n FROM members").one().n;
    const messages = sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages").one().n;
    report({
      measure: "build",
      events: log.lastSeq,
      "append µs/event (snapshots included)": ((appendMs * 1000) / EVENTS).toFixed(1),
      "snapshot write ms": snapshotMs.toFixed(2),
      "snapshot µs/event (amortized)": ((snapshotMs * 1000) / SNAPSHOT_EVERY).toFixed(2),
      snapshots: snapshots.n,
      "snapshot KiB total": (snapshots.bytes / 1024).toFixed(1),
      "snapshot KiB each": (snapshots.bytes / 1024 / Math.max(1, snapshots.n)).toFixed(1),
      members,
      messages,
      "database MiB": (sql.databaseSize / 1024 / 1024).toFixed(1),
    });

    const travel = new TimeTravel(sql, () => log.lastSeq);
    for (const seq of [1_001, Math.floor(EVENTS / 2) + 1, EVENTS - 1]) {
      const snapshotted = await time(() => travel.stateAt(seq, undefined, PAGE), REPS, 20);
      const replay = await time(() => fullReplay(log, seq), seq > 10_000 ? 3 : REPS);
      // The two ways agree (the newest page of messages and the members).
      const fast = travel.stateAt(seq, undefined, PAGE);
      const slow = fullReplay(log, seq);
      expect(fast.members).toEqual(slow.members);
      expect(fast.messages).toEqual(slow.messages);
      report({
        measure: `state at seq ${seq}`,
        "snapshot + fold ms (median)": snapshotted.toFixed(2),
        "full replay ms (median)": replay.toFixed(1),
        "speed-up": `${Math.round(replay / snapshotted)}×`,
      });
    }
    const middle = T0 + Math.floor(EVENTS / 2) * 1000 + 500;
    const lookup = await time(() => travel.seqOf({ atTime: middle }), REPS, 200);
    const byTime = await time(
      () => {
        const seq = travel.seqOf({ atTime: middle });
        if (seq.ok) travel.stateAt(seq.value, undefined, PAGE);
      },
      REPS,
      20,
    );
    report({
      measure: "atTime (middle of the log)",
      "atTime → seq µs (median)": (lookup * 1000).toFixed(1),
      "snapshot + fold ms (median)": byTime.toFixed(2),
    });
  });
});
