/**
 * Voice messages in Postgres (docs/attachments.md, "Through the other APIs"): migration 0004 on a
 * database that already holds messages, the flush of a voice message and its transcript, search
 * by a word said aloud (REST and GraphQL), and redaction taking it out of search.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { neonConfig } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { migrate } from "drizzle-orm/neon-serverless/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { applyMigrations } from "../../scripts/db-migrate.ts";
import { useLocalProxy, withDb } from "../../src/db/connect.ts";
import { flushEvents } from "../../src/db/flush.ts";
import { searchMessages } from "../../src/db/reads.ts";
import {
  SearchResults,
  type Attachment,
  type NewEvent,
  type RoomEvent,
  type SearchHit,
  type UserRef,
} from "../../src/protocol/index.ts";
import { databaseVars, startTestCluster, type TestCluster } from "../support/cluster.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { caughtUp, get, query, register } from "./harness.ts";
import type { Guest } from "../e2e/helpers.ts";

const MIGRATIONS = join(process.cwd(), "migrations");

let cluster: TestCluster;
let server: TestServer;
let reader: Guest;

/**
 * Migrations up to 0003 into a copy of the folder with the later ones left out of the journal,
 * as a database deployed before issue 17 was.
 */
async function migrateTo0003(url: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "edgechat-migrations-"));
  try {
    cpSync(MIGRATIONS, dir, { recursive: true });
    const journalPath = join(dir, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((entry) => entry.tag < "0004");
    expect(journal.entries.map((entry) => entry.tag).at(-1)).toBe("0003_instance_audit");
    writeFileSync(journalPath, JSON.stringify(journal));
    await withDb(url, (db) => migrate(db, { migrationsFolder: dir }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  cluster = await startTestCluster();
  neonConfig.webSocketConstructor ??=
    WebSocket as unknown as typeof neonConfig.webSocketConstructor;
  useLocalProxy(cluster.proxyAddress);
  await migrateTo0003(cluster.primaryUrl);
  // What an instance had before the upgrade: a public room with a message in it.
  await query(
    cluster.primaryUrl,
    sql`INSERT INTO rooms (name, visibility, owner_id, created_at) VALUES ('before-0004', 'public', 'u_old', 1)`,
  );
  await query(
    cluster.primaryUrl,
    sql`INSERT INTO messages (room, id, author_id, author_name, text, at)
      VALUES ('before-0004', 3, 'u_old', 'old', 'the old harbour song', 2)`,
  );
  await applyMigrations(cluster.primaryUrl, cluster.proxyAddress);
  server = await startServer({ vars: databaseVars(cluster) });
  reader = await register(server, `reader${Date.now() % 100000}`);
}, 180_000);

afterAll(async () => {
  await server?.dispose();
  await cluster?.stop();
}, 60_000);

const ADA: UserRef = { id: "u_ada", name: "ada" };
const BOT: UserRef = { id: "svc_transcriber", name: "Transcriber" };
const VOICE: Attachment = {
  id: "vvvvvvvvvvvvvvvvvvvvvv",
  kind: "voice",
  name: "voice message.webm",
  type: "audio/webm",
  size: 48_213,
  durationMs: 4_200,
  waveform: [0, 200, 31],
};

let seqs = 0;
/** The next event of a room's log, as the room would send it to the flush (event ids are unique in Postgres). */
function logged(event: NewEvent, actor: UserRef = ADA): RoomEvent {
  seqs += 1;
  return {
    ...event,
    seq: seqs,
    id: crypto.randomUUID(),
    at: 1_800_000_000_000 + seqs,
    actor,
  } as RoomEvent;
}

/** A public room flushed to the primary with `events` after its creation; its name. */
async function flushRoom(name: string, events: () => RoomEvent[]): Promise<void> {
  seqs = 0;
  const batch = [
    logged({ type: "room.created", data: { name, topic: "", visibility: "public" } }),
    logged({ type: "member.joined", data: {} }),
    ...events(),
  ];
  const cursor = await withDb(cluster.primaryUrl, (db) => flushEvents(db, name, batch));
  expect(cursor).toBe(batch.at(-1)!.seq);
}

async function searchRest(q: string): Promise<SearchHit[]> {
  await caughtUp(cluster);
  const res = await get(server, `/api/search?q=${encodeURIComponent(q)}`, reader.token);
  expect(res.status).toBe(200);
  return SearchResults.parse(await res.json()).results;
}

const matches = (pieces: SearchHit["highlight"] | undefined) =>
  (pieces ?? []).filter((piece) => piece.match).map((piece) => piece.text);

describe("migration 0004 (transcripts)", () => {
  it("applies on a database at 0003 with messages in it, which keep their search", async () => {
    const [row] = await query<{ transcript: string; found: boolean }>(
      cluster.primaryUrl,
      sql`SELECT transcript, search @@ to_tsquery('simple', 'harbour') AS found
        FROM messages WHERE room = 'before-0004' AND id = 3`,
    );
    expect(row).toEqual({ transcript: "", found: true });
    const hits = (await searchRest("harbour song")).filter((hit) => hit.room === "before-0004");
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ id: 3, text: "the old harbour song" });
    expect(hits[0]!.transcript).toBeUndefined();
    expect(matches(hits[0]!.highlight)).toEqual(["harbour", "song"]);
    const [index] = await query<{ indexdef: string }>(
      cluster.primaryUrl,
      sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_search'`,
    );
    expect(index?.indexdef).toContain("USING gin (search)");
  });
});

describe("a voice message in Postgres", () => {
  const room = "voice-pg";
  const said = "meet me at the lighthouse after the storm";

  beforeAll(async () => {
    await flushRoom(room, () => [
      logged({ type: "message.posted", data: { text: "", attachments: [VOICE] } }),
      logged({ type: "message.posted", data: { text: "a lighthouse postcard" } }),
      logged(
        {
          type: "message.transcribed",
          data: {
            messageId: 3,
            attachmentId: VOICE.id,
            text: said,
            segments: [{ start: 0, end: 4.1, text: said }],
            engine: "pocketsphinx",
          },
        },
        BOT,
      ),
    ]);
  });

  it("is found by a word said aloud: the hit shows the transcript around it; a text hit has none", async () => {
    const hits = (await searchRest("lighthouse")).filter((hit) => hit.room === room);
    expect(hits.map((hit) => hit.id).toSorted()).toEqual([3, 4]);
    const voice = hits.find((hit) => hit.id === 3)!;
    expect(voice).toMatchObject({ text: "", highlight: [], author: ADA });
    expect(voice.transcript!.map((piece) => piece.text).join("")).toBe(said);
    expect(matches(voice.transcript)).toEqual(["lighthouse"]);
    const text = hits.find((hit) => hit.id === 4)!;
    expect(matches(text.highlight)).toEqual(["lighthouse"]);
    expect(text.transcript).toBeUndefined();

    // Only the transcript holds "storm".
    const storm = (await searchRest("storm")).filter((hit) => hit.room === room);
    expect(storm.map((hit) => hit.id)).toEqual([3]);
  });

  it("is found through GraphQL's search too, with the transcript's pieces", async () => {
    await caughtUp(cluster);
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${reader.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        query: `{ search(q: "storm") { results { room id text transcript { text match } } } }`,
      }),
    });
    const body = (await res.json()) as { data: { search: { results: SearchHit[] } } };
    const [hit] = body.data.search.results.filter((h) => h.room === room);
    expect(hit).toMatchObject({ id: 3, text: "" });
    expect(matches(hit!.transcript)).toEqual(["storm"]);
  });

  it("searches the transcripts of two voice attachments of one message", async () => {
    const second = { ...VOICE, id: "wwwwwwwwwwwwwwwwwwwwww" };
    await flushRoom("voice-pg-two", () => [
      logged({ type: "message.posted", data: { text: "two takes", attachments: [VOICE, second] } }),
      logged(
        {
          type: "message.transcribed",
          data: { messageId: 3, attachmentId: VOICE.id, text: "first take", engine: "e" },
        },
        BOT,
      ),
      logged(
        {
          type: "message.transcribed",
          data: { messageId: 3, attachmentId: second.id, text: "second orchard", engine: "e" },
        },
        BOT,
      ),
    ]);
    const hits = (await searchRest("orchard")).filter((hit) => hit.room === "voice-pg-two");
    expect(hits).toHaveLength(1);
    expect(hits[0]!.transcript!.map((piece) => piece.text).join("")).toBe(
      "first take second orchard",
    );
  });

  it("is taken out of search by its redaction, transcript and segments too", async () => {
    const redacting = "voice-pg-redacted";
    await flushRoom(redacting, () => [
      logged({ type: "message.posted", data: { text: "", attachments: [VOICE] } }),
      logged(
        {
          type: "message.transcribed",
          data: {
            messageId: 3,
            attachmentId: VOICE.id,
            text: "the vault code is quincunx",
            segments: [{ start: 0, end: 2, text: "the vault code is quincunx" }],
            engine: "pocketsphinx",
          },
        },
        BOT,
      ),
    ]);
    expect((await searchRest("quincunx")).filter((h) => h.room === redacting)).toHaveLength(1);

    const redaction = logged({ type: "message.redacted", data: { messageId: 3 } });
    await withDb(cluster.primaryUrl, (db) => flushEvents(db, redacting, [redaction]));
    expect((await searchRest("quincunx")).filter((h) => h.room === redacting)).toEqual([]);
    const rows = await query<{ type: string; data: Record<string, unknown> }>(
      cluster.primaryUrl,
      sql`SELECT type, data FROM events WHERE room = ${redacting} ORDER BY seq`,
    );
    expect(JSON.stringify(rows)).not.toContain("quincunx");
    const transcribed = rows.find((row) => row.type === "message.transcribed")!;
    expect(transcribed.data).toEqual({
      messageId: 3,
      attachmentId: VOICE.id,
      text: "",
      engine: "pocketsphinx",
    });
    const posted = rows.find((row) => row.type === "message.posted")!;
    expect(posted.data).toEqual({ text: "" });
    const [message] = await query<{ text: string; transcript: string; redacted: boolean }>(
      cluster.primaryUrl,
      sql`SELECT text, transcript, redacted FROM messages WHERE room = ${redacting} AND id = 3`,
    );
    expect(message).toEqual({ text: "", transcript: "", redacted: true });
    // searchMessages itself, as the replicas' reader calls it, agrees.
    const direct = await withDb(cluster.primaryUrl, (db) =>
      searchMessages(db, { ...ADA, kind: "user", admin: true }, "quincunx", 10, 0),
    );
    expect(direct).toEqual([]);
  });
});
