import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Transaction } from "../support/pg-tap.ts";
import {
  connect,
  freshRoom,
  guest,
  httpPosts,
  pacedPosts,
  rawConnect,
  waitUntil,
} from "../e2e/helpers.ts";
import {
  backlogOf,
  caughtUp,
  cursor,
  DIRECTORY,
  drained,
  expectExactlyOnce,
  expectMirrorOfFrames,
  expectUnavailable,
  flushed,
  hitsOf,
  insertedSeqs,
  nodeUrl,
  query,
  read,
  replayedReceived,
  search,
  useDbSuite,
  writesEventsOf,
  type NodeName,
} from "./harness.ts";

/**
 * docs/postgres.md's failure table, row by row, on a real primary and two streaming replicas
 * that the tests stop and start, plus the lost COMMIT answer that the cursor locking is there
 * for. Which node served a read is read off the wire by the tap (harness.ts `read`), not taken
 * from the worker's own header. Last, the WebSocket endpoint itself refusing, which no node
 * failure shows. The row "no DATABASE_URL" needs no cluster: test/worker (routes.test.ts) and
 * test/browser (postgres.test.ts) cover it.
 */
const MAX_LAG_MS = 1_000;
const suite = useDbSuite({ REPLICA_MAX_LAG_MS: String(MAX_LAG_MS) });

const REPLICAS: NodeName[] = ["replica1", "replica2"];

/** Stops `nodes`, runs `during`, and starts them again (the primary first) whatever happens. */
async function withNodesDown<T>(nodes: NodeName[], during: () => Promise<T>): Promise<T> {
  const { cluster } = suite;
  try {
    for (const node of nodes) await cluster.stopNode(node);
    return await during();
  } finally {
    for (const node of ["primary", ...REPLICAS] as NodeName[]) {
      if (nodes.includes(node)) await cluster.startNode(node);
    }
  }
}

async function withReplayPaused<T>(during: () => Promise<T>): Promise<T> {
  const urls = REPLICAS.map((replica) => nodeUrl(suite.cluster, replica));
  for (const url of urls) await query(url, sql`SELECT pg_wal_replay_pause()`);
  try {
    return await during();
  } finally {
    for (const url of urls) await query(url, sql`SELECT pg_wal_replay_resume()`);
  }
}

describe("the failure table", () => {
  it("primary down: acks go on, reads come from the replicas as of the outage, the backlog drains exactly once on return", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    const watcher = await rawConnect(server.url, room, ada.token, 0);
    await httpPosts(ada, room, 20, "before");
    await drained(suite, room);
    await caughtUp(cluster);

    const during = await withNodesDown(["primary"], async () => {
      await replayedReceived(cluster);
      const seqs = await httpPosts(ada, room, 100, "during");
      const found = await search(suite, ada, "before1");
      expect(hitsOf(found, room).map((hit) => hit.text)).toEqual(["before1"]);
      expect(found.ranOn).toHaveLength(1);
      expect(found.ranOn[0]).toMatch(/^replica[12]$/);
      expect(found.header).toBe(String(found.ranOn[0]).replace("replica", "replica-"));
      // As of the outage: what was acked since is not there.
      expect(hitsOf(await search(suite, ada, "during1"), room)).toEqual([]);
      const line = await waitUntil(async () => {
        const now = await backlogOf(suite, room);
        return now.attempts >= 1 ? now : undefined;
      }, "a failed flush counted");
      expect(line.backlog).toBeGreaterThan(0);
      expect(line.lastError).not.toBeNull();
      return seqs;
    });

    const lastSeq = Math.max(...during);
    await flushed(cluster, room, lastSeq);
    await drained(suite, room);
    await expectExactlyOnce(cluster, room, lastSeq, 120);
    await waitUntil(() => watcher.of("event").length >= lastSeq, `the watcher at seq ${lastSeq}`);
    await expectMirrorOfFrames(cluster, room, watcher);
  });

  it("one replica down: the other replica serves every read, and the admin view shows the failed one's circuit open", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    const word = `otter${Date.now()}`;
    const { seq } = await ada.api.postMessage(room, { text: `an ${word} floats`, clientId: "o1" });
    await flushed(cluster, room, seq);
    await caughtUp(cluster);

    await withNodesDown(["replica1"], async () => {
      for (let i = 0; i < 3; i++) {
        const answer = await search(suite, ada, word);
        expect(hitsOf(answer, room).map((hit) => hit.id)).toEqual([seq]);
        expect(answer.ranOn).toEqual(["replica2"]);
        expect(answer.header).toBe("replica-2");
      }
      const report = await suite.root.api.admin.replicas();
      const [primary, replica1, replica2] = report.nodes;
      expect(primary).toMatchObject({ role: "primary", healthy: true });
      expect(replica1).toMatchObject({ role: "replica", healthy: false });
      expect(replica1!.error).not.toBeNull();
      expect(replica1!.openUntil).toBeGreaterThan(replica1!.checkedAt);
      expect(replica2).toMatchObject({ role: "replica", healthy: true });
    });
  });

  it("all replicas down: the primary serves, and the flush goes on", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    const word = `heron${Date.now()}`;
    const { seq } = await ada.api.postMessage(room, { text: `a ${word} waits`, clientId: "h1" });
    await flushed(cluster, room, seq);

    await withNodesDown(REPLICAS, async () => {
      const answer = await search(suite, ada, word);
      expect(hitsOf(answer, room).map((hit) => hit.id)).toEqual([seq]);
      expect(answer.ranOn).toEqual(["primary"]);
      expect(answer.header).toBe("primary");
      const directory = await read(suite, "/api/directory", ada.token, DIRECTORY);
      expect(directory.status).toBe(200);
      expect(directory.ranOn).toEqual(["primary"]);
      const later = await ada.api.postMessage(room, { text: "still flushing", clientId: "h2" });
      await flushed(cluster, room, later.seq);
      await drained(suite, room);
    });
  });

  it("replay paused: a read that carries the caller's write goes to the primary", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    await withReplayPaused(async () => {
      const word = `zebra${Date.now()}`;
      const { seq } = await ada.api.postMessage(room, {
        text: `a ${word} appears`,
        clientId: "z1",
      });
      await flushed(cluster, room, seq);
      const answer = await search(suite, ada, word, `&room=${room}&seq=${seq}`);
      expect(hitsOf(answer, room).map((hit) => hit.id)).toEqual([seq]);
      expect(answer.ranOn).toEqual(["primary"]);
      expect(answer.header).toBe("primary");
      const report = await suite.root.api.admin.replicas();
      expect(
        report.nodes.filter((node) => node.role === "replica").every((node) => node.paused),
      ).toBe(true);
    });
  });

  it("replicas lagging beyond the bound: plain reads go to the primary", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    await withReplayPaused(async () => {
      const { seq } = await ada.api.postMessage(room, { text: "lagging behind", clientId: "l1" });
      await flushed(cluster, room, seq);
      // Both replicas hold WAL they have not replayed, for longer and longer.
      await waitUntil(async () => {
        const report = await suite.root.api.admin.replicas();
        expect(report.maxLagMs).toBe(MAX_LAG_MS);
        const replicas = report.nodes.filter((node) => node.role === "replica");
        return replicas.every((node) => node.paused && (node.lagMs ?? 0) > MAX_LAG_MS);
      }, `both replicas more than ${MAX_LAG_MS} ms behind`);
      const answer = await search(suite, ada, "lagging");
      expect(hitsOf(answer, room).map((hit) => hit.id)).toEqual([seq]);
      expect(answer.ranOn).toEqual(["primary"]);
      expect(answer.header).toBe("primary");
    });
  });

  it("everything down: reads answer 503 unavailable, the chat goes on, and the backlog drains exactly once on return", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const bob = await guest(server.url, "bob");
    const room = await freshRoom(ada);
    const a = await connect(server.url, room, ada);
    const b = await connect(server.url, room, bob);
    const watcher = await rawConnect(server.url, room, ada.token, 0);
    const before = await a.conn.post("said before the outage");
    await drained(suite, room);

    const lastSeq = await withNodesDown(["primary", ...REPLICAS], async () => {
      // The chat: every post acked from the room's own storage and delivered to the other side.
      const seqs: number[] = [];
      for (let i = 0; i < 10; i++)
        seqs.push(await (i % 2 ? b : a).conn.post(`said while everything is down ${i}`));
      const last = await b.conn.edit(seqs[1]!, "edited while everything is down");
      await waitUntil(
        () => [a.conn, b.conn].every((c) => c.lastSeq >= last),
        `both clients at seq ${last}`,
      );
      expect(a.messages().map((e) => e.seq)).toEqual(expect.arrayContaining(seqs));
      expect(b.messages().map((e) => e.seq)).toEqual(expect.arrayContaining(seqs));

      // The Postgres reads: the contract's 503, from no node.
      expectUnavailable(await search(suite, ada, "said"));
      expectUnavailable(await read(suite, "/api/directory", ada.token, DIRECTORY));
      expectUnavailable(await read(suite, "/api/me/rooms", ada.token, /"members"/));

      // The backlog grows, and the room keeps count of its failed flushes.
      const line = await waitUntil(async () => {
        const now = await backlogOf(suite, room);
        return now.attempts >= 1 && now.lastSeq === last ? now : undefined;
      }, "a failed flush counted");
      expect(line).toMatchObject({ flushedSeq: before, lastSeq: last, backlog: last - before });
      expect(line.lastError).not.toBeNull();
      return last;
    });

    await flushed(cluster, room, lastSeq);
    await drained(suite, room);
    await expectExactlyOnce(cluster, room, lastSeq, 11);
    await waitUntil(() => watcher.of("event").length >= lastSeq, `the watcher at seq ${lastSeq}`);
    await expectMirrorOfFrames(cluster, room, watcher, ...a.sockets, ...b.sockets);
    // And the reads are back, with what was said during the outage.
    const back = await search(
      suite,
      ada,
      "edited while everything",
      `&room=${room}&seq=${lastSeq}`,
    );
    expect(hitsOf(back, room).map((hit) => hit.text)).toEqual(["edited while everything is down"]);
  });

  it("a lost COMMIT answer: Postgres committed, the room never heard back, and its retry writes nothing twice", async () => {
    const { server, cluster, tap } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    const a = await connect(server.url, room, ada);
    const watcher = await rawConnect(server.url, room, ada.token, 0);
    // The first flush of this room that writes messages: its COMMIT reaches Postgres, the answer
    // is dropped with the connection, and the tap refuses connections until healed.
    const cutting = tap.cutAfterCommit(writesEventsOf(room), { thenRefuse: true });
    let seqs: number[];
    let lost: Transaction;
    try {
      seqs = await pacedPosts(
        a.conn,
        Array.from({ length: 30 }, (_, i) => `lost answer ${i}`),
      );
      lost = await cutting;
      expect(lost.outcome).toBe("COMMIT");
      // Postgres holds the batch: its cursor moved to the batch's end in that transaction.
      const batch = insertedSeqs(lost, room);
      expect(batch.length).toBeGreaterThan(0);
      expect(await cursor(cluster, room)).toBe(Math.max(...batch));
      // The room, told nothing, counts the flush as failed and still starts before the batch.
      const line = await waitUntil(async () => {
        const now = await backlogOf(suite, room);
        return now.attempts >= 1 ? now : undefined;
      }, "the room counting the flush as failed");
      expect(line.flushedSeq).toBe(Math.min(...batch) - 1);
      expect(line.lastError).not.toBeNull();
    } finally {
      tap.heal();
    }

    const lastSeq = Math.max(...seqs);
    await flushed(cluster, room, lastSeq);
    await drained(suite, room);
    // The retry resent from the room's cursor; the locked cursor in Postgres made it skip the
    // batch: it committed, and inserted only events after the batch, if any.
    const all = tap.transactions();
    const retries = all
      .slice(all.indexOf(lost) + 1)
      .filter((transaction) => transaction.statements.some((s) => s.params.includes(room)));
    expect(retries.some((transaction) => transaction.outcome === "COMMIT")).toBe(true);
    const held = Math.max(...insertedSeqs(lost, room));
    for (const retry of retries) {
      for (const seq of insertedSeqs(retry, room)) expect(seq).toBeGreaterThan(held);
    }
    await expectExactlyOnce(cluster, room, lastSeq, 30);
    await waitUntil(() => watcher.of("event").length >= lastSeq, `the watcher at seq ${lastSeq}`);
    await expectMirrorOfFrames(cluster, room, watcher, ...a.sockets);
  });

  it("the database's WebSocket endpoint refusing: reads answer 503, the chat goes on, and the admin views name the cause", async () => {
    const { server, cluster, tap } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    await drained(suite, room);
    tap.refuse();
    let seq: number;
    try {
      ({ seq } = await ada.api.postMessage(room, { text: "no way through", clientId: "w1" }));
      expectUnavailable(await search(suite, ada, "through"));
      const line = await waitUntil(async () => {
        const now = await backlogOf(suite, room);
        return now.attempts >= 1 && now.lastSeq === seq ? now : undefined;
      }, "a failed flush counted");
      const report = await suite.root.api.admin.replicas();
      expect(report.nodes.map((node) => node.healthy)).toEqual([false, false, false]);
      // An operator reads these to learn why; a stringified event object says nothing.
      const causes = [
        ["backlog lastError", line.lastError],
        ...report.nodes.map((node, i) => [`replicas[${i}].error`, node.error]),
      ];
      expect(causes.filter(([, cause]) => !cause || /^\[object \w+\]$/.test(cause))).toEqual([]);
    } finally {
      tap.heal();
    }
    await flushed(cluster, room, seq);
    await drained(suite, room);
  });
});
