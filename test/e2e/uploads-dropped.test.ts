/**
 * A client that drops its connection in the middle of a part (docs/attachments.md, "Resuming"):
 * a phone losing its network, a tab closed. That is the client's doing, and the SDK sends the
 * part again, so the worker logs a warning and nothing at error level: no "unhandled error", no
 * 500. And an upload given up while one of its parts is on its way: R2 refuses the part (its
 * multipart upload is aborted), and the answer is the `not_found` of any upload that is gone.
 * Run against the real worker (wrangler dev), its console read as an operator reads it.
 */
import { connect as tcp } from "node:net";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { Upload } from "../../src/protocol/attachments.ts";
import {
  freshRoom,
  guest,
  startServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
const printed: string[] = [];

beforeAll(async () => {
  server = await startServer({ logLevel: "log" });
  for (const method of ["log", "info", "warn", "error", "debug"] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(" "));
    });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await server?.dispose();
});

/**
 * The worker's own lines (one JSON object each), out of wrangler's decoration of warnings and
 * errors (`▲ [WARNING] {…}`); wrangler's own lines aside.
 */
const workerLogs = () =>
  printed
    .flatMap((chunk) => chunk.split("\n"))
    .map((line) => /\{"level".*\}/.exec(line)?.[0])
    .filter((json) => json !== undefined)
    .map((json) => JSON.parse(json) as Record<string, unknown>);

/**
 * Sends a part's head, declaring `declared` bytes, and `sent` of them, then drops the connection:
 * `end` closes it cleanly after the bytes (FIN), `reset` tears it down (RST).
 */
function dropMidPart(
  path: string,
  token: string,
  declared: number,
  sent: number,
  how: "end" | "reset",
) {
  const url = new URL(server.url);
  return new Promise<void>((resolve, reject) => {
    const socket = tcp(Number(url.port), url.hostname, () => {
      socket.write(
        [
          `PUT ${path} HTTP/1.1`,
          `host: ${url.host}`,
          `authorization: Bearer ${token}`,
          "content-type: application/octet-stream",
          `content-length: ${declared}`,
          "connection: close",
          "",
          "",
        ].join("\r\n"),
      );
      socket.write(Buffer.alloc(sent, 7), () => {
        // Give the worker time to start reading the body before the connection goes.
        setTimeout(() => (how === "end" ? socket.end() : socket.resetAndDestroy()), 300);
      });
    });
    // wrangler's dev proxy may keep a half-closed connection open: the answer is not the point.
    socket.setTimeout(2000, () => socket.destroy());
    socket.on("close", () => resolve());
    socket.on("error", (error) => (how === "reset" ? resolve() : reject(error)));
  });
}

async function openUpload(ada: Guest, room: string, size: number): Promise<Upload> {
  const answer = await fetch(`${server.url}/api/rooms/${room}/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${ada.token}`, "content-type": "application/json" },
    body: JSON.stringify({ kind: "file", name: "big.bin", size }),
  });
  expect(answer.status).toBe(201);
  return Upload.parse(await answer.json());
}

it("a part whose connection drops is a warning, stores nothing, and can be sent again", async () => {
  const ada = await guest(server.url, "ada");
  const room = await freshRoom(ada, "drop");
  const size = 1024 * 1024;
  const upload = await openUpload(ada, room, size);
  const path = `/api/rooms/${room}/uploads/${upload.id}/parts/1`;

  await dropMidPart(path, ada.token, size, 64 * 1024, "end");
  await dropMidPart(path, ada.token, size, 128 * 1024, "reset");

  const dropped = await waitUntil(() => {
    const found = workerLogs().filter((l) => l.msg === "upload part dropped" && l.id === upload.id);
    return found.length >= 2 ? found : undefined;
  });
  expect(dropped[0]).toMatchObject({ level: "warn", room, part: 1, bytes: size });
  // Nothing at error level: no "unhandled error", no request logged as a 500.
  const errors = workerLogs().filter((l) => l.level === "error");
  expect(errors, JSON.stringify(errors)).toEqual([]);
  expect(workerLogs().some((l) => l.status === 500)).toBe(false);

  const status = await ada.api.uploads(room).status(upload.id);
  expect(status.received).toEqual([]);
  // The part sent whole afterwards is taken, and the upload completes.
  const bytes = new Uint8Array(size).fill(7);
  await ada.api.uploads(room).sendPart(upload.id, 1, new Blob([bytes]));
  const attachment = await ada.api.uploads(room).complete(upload.id);
  expect(attachment).toMatchObject({ id: upload.id, size });
});

it("a part still arriving when its upload is given up is not_found, and no error is logged", async () => {
  const ada = await guest(server.url, "ada");
  const room = await freshRoom(ada, "gone");
  const size = 1024 * 1024;
  const upload = await openUpload(ada, room, size);
  const url = new URL(server.url);
  const socket = tcp(Number(url.port), url.hostname);
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
  const closed = new Promise((resolve) => socket.on("close", resolve));
  socket.write(
    [
      `PUT /api/rooms/${room}/uploads/${upload.id}/parts/1 HTTP/1.1`,
      `host: ${url.host}`,
      `authorization: Bearer ${ada.token}`,
      "content-type: application/octet-stream",
      `content-length: ${size}`,
      "connection: close",
      "",
      "",
    ].join("\r\n"),
  );
  socket.write(Buffer.alloc(size / 2, 7));
  // The room has checked the part and the worker is reading it: give the upload up now. The room
  // aborts its multipart upload on the clock at once.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await ada.api.uploads(room).abort(upload.id);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  socket.end(Buffer.alloc(size / 2, 7));
  await closed;

  expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 404 Not Found");
  expect(answer).toContain(`"code":"not_found"`);
  const errors = workerLogs().filter((l) => l.level === "error");
  expect(errors, JSON.stringify(errors)).toEqual([]);
});
