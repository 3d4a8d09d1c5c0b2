import { createHash, randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgechatApi, LIMITS_ATTACHMENTS } from "../../src/client/index.ts";
import { freePort } from "../support/server.ts";
import { freshRoom, guest, startServer, type TestServer } from "./helpers.ts";

/**
 * "Uploads resume after a dropped connection" (docs/attachments.md, "The SDK"), for real: the
 * SDK uploads a 12 MiB file (parts of 5, 5 and 2 MiB) to the real worker through an HTTP relay
 * that drops one connection on purpose, and must finish without sending again a part the server
 * already has; the bytes read back equal the bytes sent.
 */

type Drop =
  /** The connection dies while the part's body is on its way: the server never stores it. */
  | { part: number; kind: "mid-body"; afterBytes: number }
  /** The server stores the part, and its answer is lost with the connection. */
  | { part: number; kind: "lost-reply" };

type Relay = {
  url: string;
  /** Every part PUT that reached the relay, in order, and whether the client heard its answer. */
  puts: { part: number; answered: boolean }[];
  statusCalls: number;
  dropNext(drop: Drop): void;
  close(): Promise<void>;
};

const PART = /\/uploads\/[^/]+\/parts\/(\d+)$/;
const STATUS = /\/uploads\/[^/]+$/;

/** An HTTP relay to `target` that can drop one chosen part's connection. */
async function relay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target);
  const puts: Relay["puts"] = [];
  let armed: Drop | undefined;
  const state = { statusCalls: 0 };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    const part = req.method === "PUT" ? Number(PART.exec(path)?.[1] ?? 0) : 0;
    if (req.method === "GET" && STATUS.test(path)) state.statusCalls += 1;
    const drop = part && armed?.part === part ? armed : undefined;
    if (drop) armed = undefined;
    const entry = part ? { part, answered: false } : undefined;
    if (entry) puts.push(entry);
    const upstream = request(
      { host: hostname, port: Number(port), method: req.method, path, headers: req.headers },
      (answer) => {
        if (drop?.kind === "lost-reply") {
          // Let the server finish, then cut the client off before it hears a byte.
          answer.resume();
          answer.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("end", () => entry && (entry.answered = true));
      },
    );
    upstream.on("error", () => req.socket.destroy());
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (drop?.kind === "mid-body" && bytes >= drop.afterBytes) {
        // RST both ways: the worker sees a broken request, the SDK a failed fetch.
        upstream.destroy();
        req.socket.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    req.on("end", () => upstream.end());
  });
  const listenPort = await freePort();
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${listenPort}`,
    puts,
    get statusCalls() {
      return state.statusCalls;
    },
    dropNext: (drop) => void (armed = drop),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** Short waits between tries: the test is about what is sent, not how long it waits. */
const FAST = { baseMs: 20, maxMs: 100 };

describe("uploads resume after a dropped connection", () => {
  let server: TestServer;
  let network: Relay;

  beforeAll(async () => {
    server = await startServer();
    network = await relay(server.url);
  });
  afterAll(async () => {
    await network?.close();
    await server?.dispose();
  });

  async function uploadThroughDrop(drop: Drop) {
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada, "files");
    const api = new EdgechatApi(network.url, ada.token);
    const bytes = new Uint8Array(randomBytes(12 * MiB));
    network.puts.length = 0;
    const statusBefore = network.statusCalls;
    network.dropNext(drop);
    const progress: number[] = [];
    const attachment = await api.upload(room, new Blob([bytes]), {
      kind: "file",
      name: "big.bin",
      backoff: FAST,
      onProgress: ({ sent }) => progress.push(sent),
    });
    const back = new Uint8Array(await (await api.uploads(room).fetch(attachment.id)).arrayBuffer());
    return {
      bytes,
      back,
      attachment,
      progress,
      puts: [...network.puts],
      statusCalls: network.statusCalls - statusBefore,
      room,
      ada,
    };
  }

  it("a connection dropped mid-part: that part goes again, part 1 does not", async () => {
    const run = await uploadThroughDrop({ part: 2, kind: "mid-body", afterBytes: 1 * MiB });
    expect(LIMITS_ATTACHMENTS.partBytes).toBe(5 * MiB);
    expect(run.puts.map((p) => p.part)).toEqual([1, 2, 2, 3]);
    expect(run.puts.filter((p) => p.part === 1)).toHaveLength(1);
    // After the failure the SDK asked the server what it has before sending again.
    expect(run.statusCalls).toBeGreaterThanOrEqual(1);
    expect(run.attachment).toMatchObject({ kind: "file", name: "big.bin", size: 12 * MiB });
    expect(run.back.length).toBe(run.bytes.length);
    expect(sha256(run.back)).toBe(sha256(run.bytes));
    expect(run.progress.at(-1)).toBe(12 * MiB);
  });

  it("an answer lost after the server stored the part: only the parts it lacks go", async () => {
    const run = await uploadThroughDrop({ part: 2, kind: "lost-reply" });
    // Part 2 reached the server once; its answer never came; the status said so; part 3 followed.
    expect(run.puts.map((p) => p.part)).toEqual([1, 2, 3]);
    expect(run.puts[1]!.answered).toBe(false);
    expect(run.statusCalls).toBeGreaterThanOrEqual(1);
    expect(sha256(run.back)).toBe(sha256(run.bytes));
  });

  it("posts the attachment, and a second reader gets the same bytes", async () => {
    const run = await uploadThroughDrop({ part: 3, kind: "mid-body", afterBytes: 64 * 1024 });
    expect(run.puts.map((p) => p.part)).toEqual([1, 2, 3, 3]);
    const { seq } = await run.ada.api.command(run.room, {
      type: "post",
      clientId: "with-file",
      attachments: [run.attachment.id],
    });
    const bob = await guest(server.url, "bob");
    const page = await bob.api.messages(run.room);
    const posted = page.messages.find((m) => m.id === seq);
    expect(posted?.attachments?.map((a) => a.id)).toEqual([run.attachment.id]);
    const read = await bob.api.uploads(run.room).fetch(run.attachment.id);
    expect(sha256(new Uint8Array(await read.arrayBuffer()))).toBe(sha256(run.bytes));
  });
});
