import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { withDb } from "../../src/db/connect.ts";
import {
  BacklogReport,
  DirectoryList,
  EventsPage,
  MyRooms,
  ReplicaReport,
  SearchResults,
  Session,
} from "../../src/protocol/index.ts";
import { databaseVars, startMigratedCluster } from "../support/cluster.ts";
import {
  connect,
  freshRoom,
  guest,
  httpPosts,
  startServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "../e2e/helpers.ts";

type Cluster = Awaited<ReturnType<typeof startMigratedCluster>>;

let cluster: Cluster;
let server: TestServer;
let root: Session & { api: EdgechatApi };

/** Runs SQL on one node straight from the test, through the same driver and proxy as the worker. */
async function query<T extends Record<string, unknown>>(
  url: string,
  text: ReturnType<typeof sql>,
): Promise<T[]> {
  return withDb(url, async (db) => (await db.execute(text)).rows as T[]);
}

async function register(username: string): Promise<Session & { api: EdgechatApi }> {
  const res = await fetch(`${server.url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "correct horse battery" }),
  });
  const session = Session.parse(await res.json());
  return { ...session, api: new EdgechatApi(server.url, session.token) };
}

async function get(path: string, token: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/** Waits until Postgres holds the room's whole log. */
async function flushed(room: string, lastSeq: number, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      const [row] = await query<{ seq: string }>(
        cluster.primaryUrl,
        sql`SELECT seq FROM room_cursors WHERE room = ${room}`,
      );
      return Number(row?.seq ?? 0) >= lastSeq;
    },
    `${room} flushed to seq ${lastSeq}`,
    timeoutMs,
    50,
  );
}

beforeAll(async () => {
  cluster = await startMigratedCluster();
  server = await startServer({
    vars: databaseVars(cluster, { ADMIN_USERNAMES: "root", REPLICA_MAX_LAG_MS: "1000" }),
  });
  root = await register("root");
}, 180_000);

afterAll(async () => {
  await server?.dispose();
  await cluster?.stop();
}, 60_000);

describe("the flush", () => {
  it("puts every event sent over WebSocket into Postgres, identical in seq and content, within a second", async () => {
    const ada = await guest(server.url, "ada");
    const bob = await guest(server.url, "bob");
    const room = await freshRoom(ada);
    const a = await connect(server.url, room, ada);
    const b = await connect(server.url, room, bob);
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) seqs.push(await (i % 2 ? b : a).conn.post(`hello postgres ${i}`));
    await a.conn.edit(seqs[0]!, "edited in place");
    await b.conn.react(seqs[0]!, "👍", true);
    const last = await b.conn.delete(seqs[1]!);
    const started = Date.now();
    await flushed(room, last, 5_000);
    const took = Date.now() - started;
    console.log(`flush reached seq ${last} ${took} ms after the last ack`);
    expect(took).toBeLessThan(1_500);

    const log = EventsPage.parse(
      await (await get(`/api/rooms/${room}/events?limit=1000`, ada.token)).json(),
    ).events;
    const mirror = await query<{
      seq: string;
      id: string;
      type: string;
      at: string;
      actor_id: string;
      actor_name: string;
      data: unknown;
    }>(
      cluster.primaryUrl,
      sql`SELECT seq, id, type, at, actor_id, actor_name, data FROM events WHERE room = ${room} ORDER BY seq`,
    );
    expect(
      mirror.map((row) => ({
        seq: Number(row.seq),
        id: row.id,
        type: row.type,
        at: Number(row.at),
        actor: { id: row.actor_id, name: row.actor_name },
        data: row.data,
      })),
    ).toEqual(log);
    const [edited] = await query<{ text: string; deleted: boolean }>(
      cluster.primaryUrl,
      sql`SELECT text, deleted FROM messages WHERE room = ${room} AND id = ${seqs[0]}`,
    );
    expect(edited).toEqual({ text: "edited in place", deleted: false });
    const [gone] = await query<{ deleted: boolean }>(
      cluster.primaryUrl,
      sql`SELECT deleted FROM messages WHERE room = ${room} AND id = ${seqs[1]}`,
    );
    expect(gone?.deleted).toBe(true);
    a.close();
    b.close();
  });

  it("loses and duplicates nothing when the primary stops while clients post, and drains when it returns", async () => {
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    await httpPosts(ada, room, 20, "before");
    await flushed(room, 22);
    await cluster.stopNode("primary");
    const during = await httpPosts(ada, room, 100, "during");
    // Reads go on from the replicas meanwhile.
    const read = await get(`/api/search?q=before1`, ada.token);
    expect(read.status).toBe(200);
    expect(read.headers.get("x-edgechat-served-by")).toMatch(/^replica-/);
    const backlog = BacklogReport.parse(await (await get("/api/admin/backlog", root.token)).json());
    const mine = backlog.rooms.find((r) => r.name === room);
    expect(mine?.backlog).toBeGreaterThan(0);
    expect(backlog.total).toBeGreaterThanOrEqual(mine!.backlog);
    await cluster.startNode("primary");
    const lastSeq = Math.max(...during);
    await flushed(room, lastSeq, 60_000);
    const [counts] = await query<{ n: string; distinct_seqs: string; max: string }>(
      cluster.primaryUrl,
      sql`SELECT count(*) AS n, count(DISTINCT seq) AS distinct_seqs, max(seq) AS max FROM events WHERE room = ${room}`,
    );
    expect(counts).toEqual({
      n: String(lastSeq),
      distinct_seqs: String(lastSeq),
      max: String(lastSeq),
    });
    const [messages] = await query<{ n: string }>(
      cluster.primaryUrl,
      sql`SELECT count(*) AS n FROM messages WHERE room = ${room}`,
    );
    expect(Number(messages?.n)).toBe(120);
  });
});

describe("reads from replicas", () => {
  async function search(who: { token: string }, q: string, extra = "") {
    const res = await get(`/api/search?q=${encodeURIComponent(q)}${extra}`, who.token);
    expect(res.status).toBe(200);
    return {
      servedBy: res.headers.get("x-edgechat-served-by"),
      ...SearchResults.parse(await res.json()),
    };
  }

  it("searches with ranking and highlights, served by a replica", async () => {
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    await ada.api.postMessage(room, { text: "the quick brown fox jumps", clientId: "s1" });
    const { seq } = await ada.api.postMessage(room, {
      text: "fox fox fox everywhere",
      clientId: "s2",
    });
    await flushed(room, seq);
    const found = await waitUntil(async () => {
      const result = await search(ada, "fox");
      return result.results.filter((hit) => hit.room === room).length === 2 ? result : undefined;
    }, "both messages searchable");
    const hits = found.results.filter((hit) => hit.room === room);
    expect(hits[0]!.text).toBe("fox fox fox everywhere");
    expect(hits[0]!.highlight.filter((piece) => piece.match).map((piece) => piece.text)).toContain(
      "fox",
    );
    expect(found.servedBy).toMatch(/^replica-/);
  });

  it("goes on when a replica stops", async () => {
    const ada = await guest(server.url, "ada");
    await cluster.stopNode("replica1");
    try {
      for (let i = 0; i < 3; i++) {
        const result = await search(ada, "fox");
        expect(result.servedBy).not.toBe("replica-1");
      }
    } finally {
      await cluster.startNode("replica1");
    }
  });

  it("never misses the caller's own write with a token, even when replay is paused", async () => {
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    for (const url of cluster.replicaUrls) await query(url, sql`SELECT pg_wal_replay_pause()`);
    try {
      const word = `zebra${Date.now()}`;
      const { seq } = await ada.api.postMessage(room, {
        text: `a ${word} appears`,
        clientId: "z1",
      });
      await flushed(room, seq);
      const withToken = await search(ada, word, `&room=${room}&seq=${seq}`);
      expect(withToken.results.map((hit) => hit.id)).toContain(seq);
      expect(withToken.servedBy).toBe("primary");
      const report = ReplicaReport.parse(
        await (await get("/api/admin/replicas", root.token)).json(),
      );
      expect(
        report.nodes.filter((node) => node.role === "replica").every((node) => node.paused),
      ).toBe(true);
    } finally {
      for (const url of cluster.replicaUrls) await query(url, sql`SELECT pg_wal_replay_resume()`);
    }
  });

  it("skips replicas further behind than the bound for plain reads", async () => {
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    for (const url of cluster.replicaUrls) await query(url, sql`SELECT pg_wal_replay_pause()`);
    try {
      const { seq } = await ada.api.postMessage(room, { text: "lagging behind", clientId: "l1" });
      await flushed(room, seq);
      await new Promise((resolve) => setTimeout(resolve, 1_300)); // REPLICA_MAX_LAG_MS is 1000 here
      const plain = await search(ada, "lagging");
      expect(plain.servedBy).toBe("primary");
      expect(plain.results.map((hit) => hit.room)).toContain(room);
    } finally {
      for (const url of cluster.replicaUrls) await query(url, sql`SELECT pg_wal_replay_resume()`);
    }
  });

  it("serves the directory with activity figures and each user's rooms", async () => {
    const owner = await register(`dir${Date.now() % 100000}`);
    const room = `d-${Date.now()}`;
    await owner.api.createRoom({ name: room });
    const hidden = `h-${Date.now()}`;
    await owner.api.createRoom({ name: hidden, visibility: "private" });
    const { seq } = await owner.api.postMessage(room, { text: "busy room", clientId: "d1" });
    await owner.api.postMessage(hidden, { text: "quiet room", clientId: "d2" });
    await flushed(room, seq);
    await flushed(hidden, 3);
    const directory = await waitUntil(async () => {
      const body = DirectoryList.parse(await (await get("/api/directory", owner.token)).json());
      return body.rooms.find((r) => r.name === room && r.messages === 1) ? body : undefined;
    }, "the room in the directory");
    expect(directory.rooms.find((r) => r.name === room)).toMatchObject({
      members: 1,
      messages: 1,
      lastSeq: seq,
    });
    expect(directory.rooms.map((r) => r.name)).not.toContain(hidden);
    const mine = await waitUntil(async () => {
      const body = MyRooms.parse(await (await get("/api/me/rooms", owner.token)).json());
      return body.rooms.length === 2 ? body : undefined;
    }, "both rooms in my rooms");
    expect(mine.rooms.map((r) => [r.name, r.role, r.visibility]).sort()).toEqual(
      [
        [room, "owner", "public"],
        [hidden, "owner", "private"],
      ].sort(),
    );
  });

  it("never returns a room the caller may not read", async () => {
    const owner = await register(`owner${Date.now() % 100000}`);
    const outsider = await guest(server.url, "eve");
    const word = `secret${Date.now()}`;
    const privateRoom = `p-${Date.now()}`;
    await owner.api.createRoom({ name: privateRoom, visibility: "private" });
    const { seq } = await owner.api.postMessage(privateRoom, {
      text: `the ${word} plan`,
      clientId: "p1",
    });
    const publicRoom = await freshRoom(owner as unknown as Guest);
    const pub = await owner.api.postMessage(publicRoom, {
      text: `the ${word} in public`,
      clientId: "p2",
    });
    await flushed(privateRoom, seq);
    await flushed(publicRoom, pub.seq);
    const mine = await search(owner, word, `&room=${publicRoom}&seq=${pub.seq}`);
    expect(new Set(mine.results.map((hit) => hit.room))).toEqual(
      new Set([privateRoom, publicRoom]),
    );
    const theirs = await search(outsider, word, `&room=${publicRoom}&seq=${pub.seq}`);
    expect(theirs.results.map((hit) => hit.room)).toEqual([publicRoom]);
  });

  it("reports each replica's lag to admins only", async () => {
    const report = ReplicaReport.parse(await (await get("/api/admin/replicas", root.token)).json());
    expect(report.nodes.map((node) => node.role)).toEqual(["primary", "replica", "replica"]);
    for (const node of report.nodes) {
      expect(node.healthy).toBe(true);
      expect(node.url).not.toContain("postgres:"); // no passwords
    }
    for (const node of report.nodes.slice(1)) expect(node.lagBytes).not.toBeNull();
    const ada = await guest(server.url, "ada");
    expect((await get("/api/admin/replicas", ada.token)).status).toBe(403);
  });
});
