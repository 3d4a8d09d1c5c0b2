/**
 * What the db layer's files share: a real primary and two streaming replicas, a worker on them
 * whose Postgres traffic passes through a wire tap (test/support/pg-tap.ts), and the checks
 * the files make on Postgres itself: flushed, caught up, exactly once, identical to the frames.
 */
import { sql, type SQL } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { withDb } from "../../src/db/connect.ts";
import {
  ErrorBody,
  SearchResults,
  type RoomEvent,
  type SearchHit,
  type ServerFrame,
} from "../../src/protocol/index.ts";
import { databaseVars, startMigratedCluster, type TestCluster } from "../support/cluster.ts";
import { startPgTap, type PgTap, type Statement, type Transaction } from "../support/pg-tap.ts";
import {
  assertNoInvalidFrames,
  closeAll,
  startServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "../e2e/helpers.ts";

export type NodeName = "primary" | "replica1" | "replica2";

export type DbSuite = {
  readonly cluster: TestCluster;
  /** Between the worker and the cluster's WebSocket proxy; the tests' own SQL bypasses it. */
  readonly tap: PgTap;
  readonly server: TestServer;
  /** An instance admin (ADMIN_USERNAMES=root). */
  readonly root: Guest;
};

/**
 * Starts the cluster, the tap and the worker before the file's tests and stops them after;
 * after each test, closes the sockets the e2e helpers opened and fails on any frame that breaks
 * the contract. `vars` adds to the worker's configuration.
 */
export function useDbSuite(vars: Record<string, string> = {}): DbSuite {
  const suite = {} as { -readonly [K in keyof DbSuite]: DbSuite[K] };
  beforeAll(async () => {
    suite.cluster = await startMigratedCluster();
    suite.tap = await startPgTap(suite.cluster.proxyAddress);
    suite.server = await startServer({
      vars: databaseVars(
        { ...suite.cluster, proxyAddress: suite.tap.address },
        { ADMIN_USERNAMES: "root", ...vars },
      ),
    });
    suite.root = await register(suite.server, "root");
  }, 180_000);
  afterAll(async () => {
    await suite.server?.dispose();
    await suite.tap?.close();
    await suite.cluster?.stop();
  }, 60_000);
  afterEach(async () => {
    await closeAll();
    assertNoInvalidFrames();
  });
  return suite;
}

export async function register(server: TestServer, username: string): Promise<Guest> {
  const session = await new EdgechatApi(server.url).register(username, "correct horse battery");
  return { ...session, api: new EdgechatApi(server.url, session.token) };
}

export async function get(server: TestServer, path: string, token: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/** Runs SQL on one node straight from the test, through the cluster's proxy (not the tap). */
export async function query<T extends Record<string, unknown>>(
  url: string,
  text: SQL,
): Promise<T[]> {
  return withDb(url, async (db) => (await db.execute(text)).rows as T[]);
}

export function nodeUrl(cluster: TestCluster, node: NodeName): string {
  return node === "primary"
    ? cluster.primaryUrl
    : cluster.replicaUrls[node === "replica1" ? 0 : 1]!;
}

/** The node a tunnel of the tap led to, from its "host:port". */
export function nodeOf(cluster: TestCluster, address: string): NodeName | string {
  const port = Number(address.split(":").at(-1));
  if (port === cluster.ports.primary) return "primary";
  const replica = cluster.ports.replicas.indexOf(port);
  return replica >= 0 ? (`replica${replica + 1}` as NodeName) : address;
}

/** Postgres's cursor for `room` on the primary: how far it holds the room's log. */
export async function cursor(cluster: TestCluster, room: string): Promise<number> {
  const [row] = await query<{ seq: string }>(
    cluster.primaryUrl,
    sql`SELECT seq FROM room_cursors WHERE room = ${room}`,
  );
  return Number(row?.seq ?? 0);
}

/** Waits until the primary holds the room's log up to `lastSeq`; fails loudly after the bound. */
export async function flushed(
  cluster: TestCluster,
  room: string,
  lastSeq: number,
  timeoutMs = 60_000,
): Promise<void> {
  await waitUntil(
    async () => (await cursor(cluster, room)) >= lastSeq,
    `${room} flushed to seq ${lastSeq}`,
    timeoutMs,
    50,
  );
}

/**
 * Waits until the given replicas have replayed everything the primary has written so far, so
 * that a read that follows finds them current rather than behind (a replica that is behind is
 * measured from its last replayed commit, which on an idle cluster can be long ago).
 */
export async function caughtUp(
  cluster: TestCluster,
  replicas: readonly NodeName[] = ["replica1", "replica2"],
): Promise<void> {
  const [primary] = await query<{ lsn: string }>(
    cluster.primaryUrl,
    sql`SELECT pg_current_wal_lsn()::text AS lsn`,
  );
  for (const replica of replicas) {
    await waitUntil(
      async () => {
        const [row] = await query<{ done: boolean }>(
          nodeUrl(cluster, replica),
          sql`SELECT pg_last_wal_replay_lsn() >= ${primary!.lsn}::pg_lsn AS done`,
        );
        return row?.done;
      },
      `${replica} replayed up to ${primary!.lsn}`,
      30_000,
      50,
    );
  }
}

/**
 * Waits until each replica has replayed all the WAL it received, for when the primary is away
 * (its shutdown checkpoint is the last thing they receive).
 */
export async function replayedReceived(
  cluster: TestCluster,
  replicas: readonly NodeName[] = ["replica1", "replica2"],
): Promise<void> {
  for (const replica of replicas) {
    await waitUntil(
      async () => {
        const [row] = await query<{ done: boolean }>(
          nodeUrl(cluster, replica),
          sql`SELECT coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true) AS done`,
        );
        return row?.done;
      },
      `${replica} replayed what it received`,
      30_000,
      50,
    );
  }
}

export type Read = {
  status: number;
  /** The worker's own claim, the x-edgechat-served-by header. */
  header: string | null;
  /** The nodes the read's own statement was sent to, as seen on the wire by the tap. */
  ranOn: (NodeName | string)[];
  body: unknown;
};

/**
 * Makes one read through the worker and tells which node served it: the tap records every
 * statement before the node answers it, so by the time the HTTP answer is in, the nodes that
 * received `statement` (a pattern of the read's SQL) are on record. The router checks a
 * replica's state with a query of its own and sends the read's statement only to the node it
 * chose, so `ranOn` is that node alone.
 */
export async function read(
  suite: DbSuite,
  path: string,
  token: string,
  statement: RegExp,
): Promise<Read> {
  const mark = suite.tap.statements().length;
  const res = await get(suite.server, path, token);
  const body: unknown = await res.json();
  const ranOn = suite.tap
    .statements()
    .slice(mark)
    .filter((s: Statement) => statement.test(s.text))
    .map((s) => nodeOf(suite.cluster, s.node));
  return { status: res.status, header: res.headers.get("x-edgechat-served-by"), ranOn, body };
}

/** The search's statement (src/db/reads.ts searchMessages). */
export const SEARCH = /websearch_to_tsquery/;

/** A search through the worker (`extra`: more query parameters, e.g. "&room=…&seq=…"). */
export function search(
  suite: DbSuite,
  who: { token: string },
  q: string,
  extra = "",
): Promise<Read> {
  return read(suite, `/api/search?q=${encodeURIComponent(q)}${extra}`, who.token, SEARCH);
}

/** A search's results, the answer being a 200; only those of `room` when given. */
export function hitsOf(answer: Read, room?: string): SearchHit[] {
  expect(answer.status).toBe(200);
  const { results } = SearchResults.parse(answer.body);
  return room === undefined ? results : results.filter((hit) => hit.room === room);
}
/** The directory's statement (src/db/reads.ts publicDirectory). */
export const DIRECTORY = /from "rooms" where "rooms"\."visibility"/;

/** Expects the contract's 503: status, and the error body with code `unavailable`. */
export function expectUnavailable(answer: Read): void {
  expect(answer.status).toBe(503);
  const body = ErrorBody.parse(answer.body);
  expect(body.error.code).toBe("unavailable");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(answer.ranOn).toEqual([]);
}

/** Whether a transaction the tap saw wrote `room`'s events (a flush that had something to write). */
export function writesEventsOf(room: string) {
  return (transaction: Transaction) =>
    transaction.statements.some((s) => s.params.includes(room)) &&
    transaction.statements.some((s) => /^insert into "events"/i.test(s.text)) &&
    transaction.statements.some((s) => /^insert into "messages"/i.test(s.text));
}

/**
 * The seqs of `room` that a transaction the tap saw inserted into `events`, read from the bound
 * parameters of its multi-row insert (columns as named in the statement, one row after another).
 */
export function insertedSeqs(transaction: Transaction, room: string): number[] {
  const seqs: number[] = [];
  for (const statement of transaction.statements) {
    const columns = /^insert into "events" \(([^)]*)\)/i.exec(statement.text)?.[1];
    if (!columns) continue;
    const names = columns.split(",").map((name) => name.trim().replaceAll('"', ""));
    const roomAt = names.indexOf("room");
    const seqAt = names.indexOf("seq");
    for (let row = 0; row + names.length <= statement.params.length; row += names.length) {
      if (statement.params[row + roomAt] === room) seqs.push(Number(statement.params[row + seqAt]));
    }
  }
  return seqs;
}

/**
 * The events the sockets received, one per seq, in seq order; every socket that received a seq
 * must have received the same event. The frames were parsed with the contract's ServerFrame as
 * they arrived (test/e2e/helpers.ts).
 */
export function eventsReceived(...sockets: { frames: readonly ServerFrame[] }[]): RoomEvent[] {
  const bySeq = new Map<number, RoomEvent>();
  for (const socket of sockets) {
    for (const frame of socket.frames) {
      if (frame.type !== "event") continue;
      const seen = bySeq.get(frame.event.seq);
      if (seen) expect(frame.event).toEqual(seen);
      else bySeq.set(frame.event.seq, frame.event);
    }
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The room's rows of the `events` mirror on `url`, in the shape of the contract's events. */
export async function mirroredEvents(url: string, room: string): Promise<unknown[]> {
  const rows = await query<{
    seq: string;
    id: string;
    type: string;
    at: string;
    actor_id: string;
    actor_name: string;
    data: unknown;
    hash: string | null;
    prev_hash: string | null;
  }>(
    url,
    sql`SELECT seq, id, type, at, actor_id, actor_name, data, hash, prev_hash FROM events WHERE room = ${room} ORDER BY seq`,
  );
  return rows.map((row) => ({
    seq: Number(row.seq),
    id: row.id,
    type: row.type,
    at: Number(row.at),
    actor: { id: row.actor_id, name: row.actor_name },
    data: row.data,
    ...(row.hash !== null && row.prev_hash !== null
      ? { hash: row.hash, prevHash: row.prev_hash }
      : {}),
  }));
}

/**
 * Expects Postgres to hold exactly the events the clients received: the same seqs 1..last with
 * the same id, type, time, actor and data. `sockets` must together have seen the whole log
 * (e.g. one of them opened with `since=0`).
 */
export async function expectMirrorOfFrames(
  cluster: TestCluster,
  room: string,
  ...sockets: { frames: readonly ServerFrame[] }[]
): Promise<RoomEvent[]> {
  const received = eventsReceived(...sockets);
  expect(received.map((event) => event.seq)).toEqual(received.map((_, index) => index + 1));
  // The chain included: Postgres holds each event's hash and prevHash as the clients got them.
  expect(await mirroredEvents(cluster.primaryUrl, room)).toEqual(received);
  return received;
}

/**
 * Expects the room's log in Postgres exactly once. `events` has (room, seq) as its primary key,
 * so count = distinct = max seq holds whatever the flush does; the room's `messages` figure is
 * a counter the flush adds to, so an event applied twice shows there.
 */
export async function expectExactlyOnce(
  cluster: TestCluster,
  room: string,
  lastSeq: number,
  messages: number,
): Promise<void> {
  const [events] = await query<{ n: string; distinct_seqs: string; max: string }>(
    cluster.primaryUrl,
    sql`SELECT count(*) AS n, count(DISTINCT seq) AS distinct_seqs, max(seq) AS max FROM events WHERE room = ${room}`,
  );
  expect(events).toEqual({
    n: String(lastSeq),
    distinct_seqs: String(lastSeq),
    max: String(lastSeq),
  });
  const [figures] = await query<{ messages: number; last_seq: string; rows: string }>(
    cluster.primaryUrl,
    sql`SELECT r.messages, r.last_seq, (SELECT count(*) FROM messages m WHERE m.room = r.name) AS rows
        FROM rooms r WHERE r.name = ${room}`,
  );
  expect({
    messages: Number(figures?.messages),
    lastSeq: Number(figures?.last_seq),
    rows: Number(figures?.rows),
  }).toEqual({ messages, lastSeq, rows: messages });
}

/** The room's line of the admin backlog report. */
export async function backlogOf(suite: DbSuite, room: string) {
  const report = await suite.root.api.admin.backlog();
  const line = report.rooms.find((r) => r.name === room);
  if (!line) throw new Error(`${room} is not in the backlog report`);
  expect(line.backlog).toBe(line.lastSeq - line.flushedSeq);
  expect(report.total).toBeGreaterThanOrEqual(line.backlog);
  return line;
}

/** Waits until the room itself knows that Postgres holds its whole log (its backlog is 0). */
export async function drained(suite: DbSuite, room: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    async () => {
      const line = await backlogOf(suite, room);
      return line.backlog === 0 && line.attempts === 0 && line.lastError === null;
    },
    `${room}'s backlog drained`,
    timeoutMs,
    100,
  );
}
