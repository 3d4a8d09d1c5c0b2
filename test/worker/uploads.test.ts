/**
 * Uploads and serving inside workerd with miniflare's real R2 (docs/attachments.md): open →
 * parts → complete → post → the bytes served back equal; a 12 MiB file in three parts with a
 * dropped part sent later and a part sent twice; ranges and 304; a deleted message's files kept
 * for their undo, then deleted by the room's clock; a redacted message's at once; an upload not
 * posted, expired; an upload given up, its parts aborted.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  Attachment,
  LIMITS_ATTACHMENTS,
  Upload,
  type NewUpload,
} from "../../src/protocol/attachments.ts";
import type { Session } from "../../src/protocol/index.ts";
import { objectKey } from "../../src/media/keys.ts";
import type { Room } from "../../src/room/room.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";

const MiB = 1024 * 1024;
const P = LIMITS_ATTACHMENTS.partBytes;
let n = 0;
const clientId = () => `up-${++n}`;

/** A WebM's EBML header (DocType "webm"), as MediaRecorder starts a recording, then `size` bytes in all. */
function webm(size: number): Uint8Array {
  const header = [
    0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2, 0x81,
    0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d, 0x42, 0x87, 0x81, 0x04,
    0x42, 0x85, 0x81, 0x02,
  ];
  const bytes = patterned(size, 7);
  bytes.set(header, 0);
  return bytes;
}

/** `size` bytes that differ from part to part and from file to file. */
function patterned(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  bytes[0] = 0; // not markup
  return bytes;
}

type Who = Session;

async function roomWith() {
  const ada = await guest("ada");
  const bob = await guest("bob");
  const room = await newRoom(ada, "uploads");
  // Bob joins by posting: only members upload.
  await post(room, bob, { text: "hi" });
  return { ada, bob, room };
}

async function post(room: string, who: Who, body: Record<string, unknown>) {
  const res = await call(`/api/rooms/${room}/commands`, {
    method: "POST",
    token: who.token,
    json: { type: "post", clientId: clientId(), ...body },
  });
  const answer = (await res.json()) as { seq: number };
  if (res.status !== 201) throw new Error(`post: ${res.status} ${JSON.stringify(answer)}`);
  return answer.seq;
}

async function command(room: string, who: Who, body: Record<string, unknown>) {
  const res = await call(`/api/rooms/${room}/commands`, {
    method: "POST",
    token: who.token,
    json: { clientId: clientId(), ...body },
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function open(room: string, who: Who, input: NewUpload): Promise<Upload> {
  const res = await call(`/api/rooms/${room}/uploads`, {
    method: "POST",
    token: who.token,
    json: input,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return Upload.parse(await res.json());
}

const sendPart = (room: string, who: Who, id: string, part: number, bytes: Uint8Array) =>
  call(`/api/rooms/${room}/uploads/${id}/parts/${part}`, {
    method: "PUT",
    token: who.token,
    headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) },
    body: bytes as Uint8Array<ArrayBuffer>,
  });

async function complete(room: string, who: Who, id: string): Promise<Attachment> {
  const res = await call(`/api/rooms/${room}/uploads/${id}/complete`, {
    method: "POST",
    token: who.token,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return Attachment.parse(await res.json());
}

/** Opens, sends every part in order and completes: the attachment to post. */
async function uploaded(room: string, who: Who, input: NewUpload, bytes: Uint8Array) {
  const upload = await open(room, who, input);
  for (let part = 1; part <= upload.parts; part++) {
    const res = await sendPart(
      room,
      who,
      upload.id,
      part,
      bytes.subarray((part - 1) * P, part * P),
    );
    expect(res.status, await res.clone().text()).toBe(200);
  }
  return complete(room, who, upload.id);
}

const fetchFile = (room: string, who: Who, id: string, headers: Record<string, string> = {}) =>
  call(`/api/rooms/${room}/attachments/${id}`, { token: who.token, headers });

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** Makes every file deletion due now, with the clock's task and the runtime's alarm, and runs it. */
async function runDeletions(room: string): Promise<void> {
  const stub = roomStub(room);
  await runInDurableObject(stub, async (_room: Room, state) => {
    const due = Date.now() - 1;
    state.storage.sql.exec("UPDATE file_deletions SET due_at = ?", due);
    state.storage.sql.exec("INSERT OR REPLACE INTO schedule (task, due) VALUES ('clock', ?)", due);
    await state.storage.setAlarm(due);
  });
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

/** R2's multipart upload id the room keeps for upload `id`. */
const multipartOf = (room: string, id: string) =>
  runInDurableObject(roomStub(room), (_room: Room, state) =>
    state.storage.sql
      .exec<{ multipart: string }>("SELECT multipart FROM uploads WHERE id = ?", id)
      .one(),
  ).then((row) => row.multipart);

/** Waits for `done` to hold, 5 s at most (an alarm the runtime may be running at that moment). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await done()).toBe(true);
}

const deletionsOf = (room: string) =>
  runInDurableObject(roomStub(room), (_room: Room, state) =>
    state.storage.sql
      .exec<{ attachment_id: string; reason: string; due_at: number }>(
        "SELECT attachment_id, reason, due_at FROM file_deletions ORDER BY attachment_id",
      )
      .toArray(),
  );

describe("a voice message", () => {
  it("is uploaded, posted, and served back byte for byte to whoever reads the room", async () => {
    const { ada, bob, room } = await roomWith();
    const bytes = webm(9000);
    const upload = await open(room, bob, {
      kind: "voice",
      name: "memo.webm",
      size: bytes.length,
      durationMs: 3600,
      waveform: [0, 40, 255, 12],
      clientId: "voice-1",
    });
    expect(upload).toMatchObject({ parts: 1, partBytes: P, received: [], state: "open" });
    // The same clientId answers the same upload.
    const again = await open(room, bob, {
      kind: "voice",
      name: "memo.webm",
      size: bytes.length,
      durationMs: 3600,
      clientId: "voice-1",
    });
    expect(again.id).toBe(upload.id);

    const receipt = await sendPart(room, bob, upload.id, 1, bytes);
    expect(await receipt.json()).toEqual({ part: 1, bytes: 9000 });
    const attachment = await complete(room, bob, upload.id);
    expect(attachment).toEqual({
      id: upload.id,
      kind: "voice",
      name: "memo.webm",
      type: "audio/webm",
      size: 9000,
      durationMs: 3600,
      waveform: [0, 40, 255, 12],
    });
    // Completing again answers the same attachment.
    expect(await complete(room, bob, upload.id)).toEqual(attachment);

    // Before it is posted, only its uploader reads it.
    expect((await fetchFile(room, bob, upload.id)).status).toBe(200);
    expect((await fetchFile(room, ada, upload.id)).status).toBe(404);

    const seq = await post(room, bob, { attachments: [upload.id] });
    const messages = (await (
      await call(`/api/rooms/${room}/messages`, { token: ada.token })
    ).json()) as { messages: { id: number; text: string; attachments?: unknown[] }[] };
    expect(messages.messages.find((m) => m.id === seq)).toMatchObject({
      text: "",
      attachments: [attachment],
    });
    // Posted once: a second post naming it is refused.
    const twice = await call(`/api/rooms/${room}/commands`, {
      method: "POST",
      token: bob.token,
      json: { type: "post", clientId: clientId(), attachments: [upload.id] },
    });
    expect(twice.status).toBe(404);
    // POST /messages, the REST twin of the frame, carries files too: with text, and without.
    const second = await uploaded(
      room,
      bob,
      { kind: "file", name: "notes.bin", size: 300 },
      patterned(300, 7),
    );
    const viaRest = await call(`/api/rooms/${room}/messages`, {
      method: "POST",
      token: bob.token,
      json: { clientId: clientId(), text: "the notes", attachments: [second.id] },
    });
    expect(viaRest.status, await viaRest.clone().text()).toBe(201);
    const empty = await call(`/api/rooms/${room}/messages`, {
      method: "POST",
      token: bob.token,
      json: { clientId: clientId() },
    });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({
      error: { code: "bad_request", message: expect.stringContaining("text, attachments or both") },
    });

    const served = await fetchFile(room, ada, upload.id);
    expect(served.status).toBe(200);
    expect(await bytesOf(served)).toEqual(bytes);
    expect(Object.fromEntries(served.headers)).toMatchObject({
      "content-type": "audio/webm",
      "content-length": "9000",
      "content-disposition": `inline; filename="memo.webm"; filename*=UTF-8''memo.webm`,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; sandbox",
      "cross-origin-resource-policy": "same-origin",
      "cache-control": "private, max-age=31536000, immutable",
      "accept-ranges": "bytes",
      etag: `"${upload.id}"`,
    });
  });

  it("answers a Range with 206, past the end with 416, and a matching ETag with 304", async () => {
    const { ada, bob, room } = await roomWith();
    const bytes = webm(4000);
    const input = { kind: "voice", name: "r.webm", size: 4000, durationMs: 1000 } as const;
    const attachment = await uploaded(room, bob, input, bytes);
    await post(room, bob, { text: "listen", attachments: [attachment.id] });

    const first = await fetchFile(room, ada, attachment.id, { range: "bytes=0-" });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe("bytes 0-3999/4000");
    expect(await bytesOf(first)).toEqual(bytes);

    const middle = await fetchFile(room, ada, attachment.id, { range: "bytes=100-199" });
    expect(middle.status).toBe(206);
    expect(middle.headers.get("content-range")).toBe("bytes 100-199/4000");
    expect(middle.headers.get("content-length")).toBe("100");
    expect(await bytesOf(middle)).toEqual(bytes.subarray(100, 200));

    const tail = await fetchFile(room, ada, attachment.id, { range: "bytes=-6" });
    expect(await bytesOf(tail)).toEqual(bytes.subarray(3994));

    const past = await fetchFile(room, ada, attachment.id, { range: "bytes=4000-" });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe("bytes */4000");
    await past.body?.cancel();

    const etag = first.headers.get("etag")!;
    const cached = await fetchFile(room, ada, attachment.id, { "if-none-match": etag });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);
    expect(cached.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    const stale = await fetchFile(room, ada, attachment.id, { "if-none-match": '"other"' });
    expect(stale.status).toBe(200);
    await stale.body?.cancel();
  });
});

describe("a 12 MiB file in three parts", () => {
  it("resumes: a dropped part is sent after, a part sent twice replaces itself", async () => {
    const { ada, bob, room } = await roomWith();
    const size = 12 * MiB;
    const bytes = patterned(size, 3);
    const upload = await open(room, bob, { kind: "file", name: "big.bin", size });
    expect(upload.parts).toBe(3);
    const part = (k: number) => bytes.subarray((k - 1) * P, k * P);

    expect((await sendPart(room, bob, upload.id, 1, part(1))).status).toBe(200);
    // Part 2 is "dropped": the client never got its receipt, and moves on to part 3.
    expect((await sendPart(room, bob, upload.id, 3, part(3))).status).toBe(200);
    const early = await complete_(room, bob, upload.id);
    expect(early.status).toBe(400);
    expect(await early.text()).toMatch(/lacks parts 2/);

    // Back after the drop: the upload says what to send again.
    const seen = Upload.parse(
      await (await call(`/api/rooms/${room}/uploads/${upload.id}`, { token: bob.token })).json(),
    );
    expect(seen.received).toEqual([1, 3]);
    // Part 2 sent with wrong bytes first, then again right: the second replaces the first.
    expect((await sendPart(room, bob, upload.id, 2, patterned(P, 99))).status).toBe(200);
    expect((await sendPart(room, bob, upload.id, 2, part(2))).status).toBe(200);

    const attachment = await complete(room, bob, upload.id);
    expect(attachment).toMatchObject({ kind: "file", size, type: "application/octet-stream" });
    await post(room, bob, { text: "the dump", attachments: [attachment.id] });

    const served = await fetchFile(room, ada, attachment.id);
    expect(served.headers.get("content-disposition")).toMatch(/^attachment; /);
    const got = await bytesOf(served);
    expect(got.length).toBe(size);
    // Byte for byte, by digest: a deep equality of 12 MiB takes vitest longer than the upload.
    expect(await sha256(got)).toBe(await sha256(bytes));
    // A range across the boundary of parts 1 and 2.
    const across = await fetchFile(room, ada, attachment.id, {
      range: `bytes=${P - 10}-${P + 9}`,
    });
    expect(await bytesOf(across)).toEqual(bytes.subarray(P - 10, P + 10));
  }, 60_000);
});

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const complete_ = (room: string, who: Who, id: string) =>
  call(`/api/rooms/${room}/uploads/${id}/complete`, { method: "POST", token: who.token });

describe("deleting files", () => {
  it("keeps a deleted message's files for its undo, then deletes them on the clock", async () => {
    const { ada, bob, room } = await roomWith();
    const input = { kind: "image", name: "cat.png", size: 100 } as const;
    const png = patterned(100, 1);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    const attachment = await uploaded(room, bob, input, png);
    const seq = await post(room, bob, { attachments: [attachment.id] });
    const key = objectKey(room, attachment.id);

    await command(room, bob, { type: "delete", messageId: seq });
    expect((await fetchFile(room, ada, attachment.id)).status).toBe(404);
    const [kept] = await deletionsOf(room);
    expect(kept).toMatchObject({ attachment_id: attachment.id, reason: "deleted" });
    expect(kept!.due_at - Date.now()).toBeGreaterThan(LIMITS_ATTACHMENTS.keepDeletedMs - 60_000);
    expect(await env.FILES.head(key)).not.toBeNull();

    // Undone, the message is back with its file, and nothing is due.
    await command(room, bob, { type: "undo" });
    expect(await deletionsOf(room)).toEqual([]);
    const back = await fetchFile(room, ada, attachment.id);
    expect(back.status).toBe(200);
    expect(await bytesOf(back)).toEqual(png);

    await command(room, bob, { type: "delete", messageId: seq });
    await runDeletions(room);
    expect(await env.FILES.head(key)).toBeNull();
    expect(await deletionsOf(room)).toEqual([]);
    // Undone after the keep time: the message is back, its file is not.
    await command(room, bob, { type: "undo" });
    expect((await fetchFile(room, ada, attachment.id)).status).toBe(404);
  });

  it("deletes a redacted message's files at once", async () => {
    const { ada, bob, room } = await roomWith();
    const bytes = webm(2000);
    const attachment = await uploaded(
      room,
      bob,
      { kind: "voice", name: "oops.webm", size: 2000, durationMs: 500 },
      bytes,
    );
    const seq = await post(room, bob, { attachments: [attachment.id] });
    await command(room, ada, { type: "redact", messageId: seq, reason: "leak" });
    const [due] = await deletionsOf(room);
    expect(due).toMatchObject({ attachment_id: attachment.id, reason: "redacted" });
    expect(due!.due_at).toBeLessThanOrEqual(Date.now());
    expect((await fetchFile(room, ada, attachment.id)).status).toBe(404);
    // The redaction's own commit set the clock at now: its alarm deletes the object (run here
    // unless the runtime ran it first).
    await runDurableObjectAlarm(roomStub(room));
    await until(async () => (await env.FILES.head(objectKey(room, attachment.id))) === null);
    expect(await deletionsOf(room)).toEqual([]);
  });

  it("expires an upload never posted, complete or not: object, parts and row", async () => {
    const { bob, room } = await roomWith();
    const done = await uploaded(
      room,
      bob,
      { kind: "file", name: "done.bin", size: 500 },
      patterned(500, 5),
    );
    const half = await open(room, bob, { kind: "file", name: "half.bin", size: P + 10 });
    expect((await sendPart(room, bob, half.id, 1, patterned(P, 6))).status).toBe(200);
    expect((await deletionsOf(room)).map((d) => d.reason)).toEqual(["expired", "expired"]);
    expect(await env.FILES.head(objectKey(room, done.id))).not.toBeNull();
    const multipart = await multipartOf(room, half.id);

    await runDeletions(room);
    expect(await env.FILES.head(objectKey(room, done.id))).toBeNull();
    expect(await deletionsOf(room)).toEqual([]);
    for (const id of [done.id, half.id]) {
      const gone = await call(`/api/rooms/${room}/uploads/${id}`, { token: bob.token });
      expect(gone.status).toBe(404);
    }
    // Its multipart upload was aborted: a part sent to it now fails in R2 itself.
    const resumed = env.FILES.resumeMultipartUpload(objectKey(room, half.id), multipart);
    await expect(resumed.uploadPart(2, "x")).rejects.toThrow(/10024|does not exist/);
  });

  it("gives an upload up at once; its parts are aborted on the clock", async () => {
    const { bob, room } = await roomWith();
    const upload = await open(room, bob, { kind: "file", name: "gone.bin", size: 300 });
    expect((await sendPart(room, bob, upload.id, 1, patterned(300, 8))).status).toBe(200);
    const multipart = await multipartOf(room, upload.id);
    const gave = await call(`/api/rooms/${room}/uploads/${upload.id}`, {
      method: "DELETE",
      token: bob.token,
    });
    expect(gave.status).toBe(204);
    expect(
      (await call(`/api/rooms/${room}/uploads/${upload.id}`, { token: bob.token })).status,
    ).toBe(404);
    expect(await deletionsOf(room)).toMatchObject([{ reason: "aborted" }]);
    await runDeletions(room);
    expect(await deletionsOf(room)).toEqual([]);
    const resumed = env.FILES.resumeMultipartUpload(objectKey(room, upload.id), multipart);
    await expect(resumed.uploadPart(1, "x")).rejects.toThrow(/10024|does not exist/);
  });
});
