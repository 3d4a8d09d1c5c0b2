import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { DirectoryList, MyRooms } from "../../src/protocol/index.ts";
import { connect, freshRoom, guest, rawConnect, waitUntil } from "../e2e/helpers.ts";
import {
  caughtUp,
  drained,
  expectMirrorOfFrames,
  flushed,
  get,
  hitsOf,
  query,
  register,
  search,
  useDbSuite,
} from "./harness.ts";

/**
 * The flush and the reads on a real primary and two streaming replicas. What happens when nodes
 * fail, row by row of docs/postgres.md's failure table, is failures.test.ts.
 */
const suite = useDbSuite();

describe("the flush", () => {
  it("puts every event clients received over WebSocket into Postgres, identical in seq, id, type, time, actor and data", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const bob = await guest(server.url, "bob");
    const room = await freshRoom(ada);
    const a = await connect(server.url, room, ada);
    const b = await connect(server.url, room, bob);
    // Replays the log from seq 1, then follows it live: together with a and b, every event.
    const watcher = await rawConnect(server.url, room, ada.token, 0);
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) seqs.push(await (i % 2 ? b : a).conn.post(`hello postgres ${i}`));
    await a.conn.edit(seqs[0]!, "edited in place");
    await b.conn.react(seqs[2]!, "👍", true);
    const last = await b.conn.delete(seqs[1]!);
    await waitUntil(
      () => [a.conn, b.conn].every((c) => c.lastSeq >= last) && watcher.of("event").length >= last,
      `every socket at seq ${last}`,
    );
    await flushed(cluster, room, last);
    await drained(suite, room);

    const received = await expectMirrorOfFrames(cluster, room, watcher, ...a.sockets, ...b.sockets);
    expect(received.at(-1)!.seq).toBe(last);
    // The projections follow the events.
    const [edited] = await query<{ text: string; deleted: boolean; edited_at: string | null }>(
      cluster.primaryUrl,
      sql`SELECT text, deleted, edited_at FROM messages WHERE room = ${room} AND id = ${seqs[0]}`,
    );
    const editEvent = received.find((event) => event.type === "message.edited")!;
    expect(edited).toEqual({
      text: "edited in place",
      deleted: false,
      edited_at: String(editEvent.at),
    });
    const [gone] = await query<{ text: string; deleted: boolean }>(
      cluster.primaryUrl,
      sql`SELECT text, deleted FROM messages WHERE room = ${room} AND id = ${seqs[1]}`,
    );
    expect(gone).toEqual({ text: "", deleted: true });
    const reactions = await query<{ message_id: string; emoji: string; user_id: string }>(
      cluster.primaryUrl,
      sql`SELECT message_id, emoji, user_id FROM reactions WHERE room = ${room}`,
    );
    expect(reactions).toEqual([{ message_id: String(seqs[2]), emoji: "👍", user_id: bob.user.id }]);
  });
});

describe("rules in the log, in Postgres", () => {
  it("mirrors rule events as the sockets got them, with no projection of their own", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    const watcher = await rawConnect(server.url, room, ada.token, 0);
    const rules = ada.api.rules(room);
    const { rule } = await rules.create({
      name: "Incident",
      trigger: { on: "message", match: { keywords: ["incident"] } },
      actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
    });
    await rules.save(rule.id, { ...rule, enabled: false });
    const { seq: last } = await rules.delete(rule.id);
    await waitUntil(() => watcher.of("event").length >= last, `the socket at seq ${last}`);
    await flushed(cluster, room, last);

    const received = await expectMirrorOfFrames(cluster, room, watcher);
    expect(received.filter((e) => e.type.startsWith("rule.")).map((e) => e.type)).toEqual([
      "rule.saved",
      "rule.saved",
      "rule.deleted",
    ]);
  });
});

describe("undo and redaction in Postgres", () => {
  it("restores an undone delete and empties a redacted message's text from every mirrored row", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    const a = await connect(server.url, room, ada);
    const secret = `redact-me-${Date.now()}`;
    const kept = await a.conn.post("stays as it is");
    await a.conn.react(kept, "🎉", true);
    await a.conn.delete(kept);
    await a.conn.undo(); // restored, with its reaction
    const gone = await a.conn.post(secret);
    await a.conn.edit(gone, `${secret} (edited)`);
    // Flushed before the redaction, so that it must reach rows already in Postgres.
    await flushed(cluster, room, await a.conn.react(gone, "👍", true));
    const last = await a.conn.redact(gone, "asked by its author");
    await flushed(cluster, room, last);

    const rows = await query<{ id: string; text: string; deleted: boolean; redacted: boolean }>(
      cluster.primaryUrl,
      sql`SELECT id, text, deleted, redacted FROM messages WHERE room = ${room} ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: String(kept), text: "stays as it is", deleted: false, redacted: false },
      { id: String(gone), text: "", deleted: false, redacted: true },
    ]);
    const reactions = await query<{ message_id: string; emoji: string }>(
      cluster.primaryUrl,
      sql`SELECT message_id, emoji FROM reactions WHERE room = ${room} ORDER BY message_id`,
    );
    expect(reactions).toEqual([
      { message_id: String(kept), emoji: "🎉" },
      { message_id: String(gone), emoji: "👍" },
    ]);
    const carried = await query<{ seq: string; data: { text: string }; redacted_by: string }>(
      cluster.primaryUrl,
      sql`SELECT seq, data, redacted_by FROM events WHERE room = ${room} AND message_id = ${gone} AND type IN ('message.posted', 'message.edited') ORDER BY seq`,
    );
    expect(carried.map((e) => [e.data.text, e.redacted_by])).toEqual([
      ["", String(last)],
      ["", String(last)],
    ]);
    const anywhere = await query<{ n: string }>(
      cluster.primaryUrl,
      sql`SELECT count(*) AS n FROM events WHERE room = ${room} AND data::text LIKE ${`%${secret}%`}`,
    );
    expect(anywhere).toEqual([{ n: "0" }]);
  });
});

describe("reads from replicas", () => {
  it("searches with ranking and highlights, served by a replica", async () => {
    const ada = await guest(suite.server.url, "ada");
    const room = await freshRoom(ada);
    await ada.api.postMessage(room, { text: "the quick brown fox jumps", clientId: "s1" });
    const { seq } = await ada.api.postMessage(room, {
      text: "fox fox fox everywhere",
      clientId: "s2",
    });
    await flushed(suite.cluster, room, seq);
    await caughtUp(suite.cluster);
    const found = await search(suite, ada, "fox");
    const hits = hitsOf(found, room);
    expect(hits.map((hit) => hit.text)).toEqual([
      "fox fox fox everywhere",
      "the quick brown fox jumps",
    ]);
    expect(hits[0]!.highlight.filter((piece) => piece.match).map((piece) => piece.text)).toContain(
      "fox",
    );
    // The statement went to one replica only, and the header names that replica.
    expect(found.ranOn).toHaveLength(1);
    expect(found.ranOn[0]).toMatch(/^replica[12]$/);
    expect(found.header).toBe(String(found.ranOn[0]).replace("replica", "replica-"));
  });

  it("serves the directory with activity figures and each user's rooms", async () => {
    const owner = await register(suite.server, `dir${Date.now() % 100000}`);
    const room = `d-${Date.now()}`;
    await owner.api.createRoom({ name: room });
    const hidden = `h-${Date.now()}`;
    await owner.api.createRoom({ name: hidden, visibility: "private" });
    const { seq } = await owner.api.postMessage(room, { text: "busy room", clientId: "d1" });
    await owner.api.postMessage(hidden, { text: "quiet room", clientId: "d2" });
    await flushed(suite.cluster, room, seq);
    await flushed(suite.cluster, hidden, 3);
    const directory = await waitUntil(async () => {
      const res = await get(suite.server, "/api/directory", owner.token);
      const body = DirectoryList.parse(await res.json());
      return body.rooms.find((r) => r.name === room && r.messages === 1) ? body : undefined;
    }, "the room in the directory");
    expect(directory.rooms.find((r) => r.name === room)).toMatchObject({
      members: 1,
      messages: 1,
      lastSeq: seq,
    });
    expect(directory.rooms.map((r) => r.name)).not.toContain(hidden);
    const mine = await waitUntil(async () => {
      const res = await get(suite.server, "/api/me/rooms", owner.token);
      const body = MyRooms.parse(await res.json());
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
    const owner = await register(suite.server, `owner${Date.now() % 100000}`);
    const outsider = await guest(suite.server.url, "eve");
    const word = `secret${Date.now()}`;
    const privateRoom = `p-${Date.now()}`;
    await owner.api.createRoom({ name: privateRoom, visibility: "private" });
    const { seq } = await owner.api.postMessage(privateRoom, {
      text: `the ${word} plan`,
      clientId: "p1",
    });
    const publicRoom = await freshRoom(owner);
    const pub = await owner.api.postMessage(publicRoom, {
      text: `the ${word} in public`,
      clientId: "p2",
    });
    await flushed(suite.cluster, privateRoom, seq);
    await flushed(suite.cluster, publicRoom, pub.seq);
    const mine = hitsOf(await search(suite, owner, word, `&room=${publicRoom}&seq=${pub.seq}`));
    expect(new Set(mine.map((hit) => hit.room))).toEqual(new Set([privateRoom, publicRoom]));
    const theirs = hitsOf(
      await search(suite, outsider, word, `&room=${publicRoom}&seq=${pub.seq}`),
    );
    expect(theirs.map((hit) => hit.room)).toEqual([publicRoom]);
  });

  it("reports each replica's lag to admins only", async () => {
    const report = await suite.root.api.admin.replicas();
    expect(report.nodes.map((node) => node.role)).toEqual(["primary", "replica", "replica"]);
    for (const node of report.nodes) {
      expect(node.healthy).toBe(true);
      expect(node.url).not.toContain("postgres:"); // no passwords
    }
    for (const node of report.nodes.slice(1)) expect(node.lagBytes).not.toBeNull();
    const ada = await guest(suite.server.url, "ada");
    expect((await get(suite.server, "/api/admin/replicas", ada.token)).status).toBe(403);
  });
});
