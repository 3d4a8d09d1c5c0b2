/**
 * An HTTP/1.1 client that counts what each request costs on the wire: the bytes written to and
 * read from its TCP socket (request line, headers, body, chunk framing), read off the socket's
 * own counters. A client keeps its connections alive and opens at most `maxSockets` per host,
 * as a browser does (six over HTTP/1.1), so a request in flight has its socket to itself and
 * the counters' difference over it is exactly that request's.
 */
import { Agent, request } from "node:http";
import type { Socket } from "node:net";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { now } from "../util.ts";

export type Exchange = {
  status: number;
  /** Response headers, lower-cased names. */
  headers: Record<string, string>;
  /** The body as the server sent it, decoded if it came compressed. */
  body: Buffer;
  /** Bytes of the body as it crossed the wire (compressed, if the server compressed it). */
  wireBodyBytes: number;
  /** Bytes this request wrote to its socket: request line, headers, body. */
  bytesOut: number;
  /** Bytes read for the answer: status line, headers, body with any chunk framing. */
  bytesIn: number;
  /** From the call to the last byte of the body. */
  ms: number;
};

export type WireOptions = {
  /** Connections a client may hold to the server at once (a browser: 6 over HTTP/1.1). */
  maxSockets?: number;
  /** Per request. */
  timeoutMs?: number;
  /**
   * Response headers that exist only because the bench asked for them (a counter the server
   * adds under a test flag): their bytes are taken off `bytesIn`, exactly as HTTP/1.1 writes
   * them ("name: value\r\n"), so that the count is what a user's client would read.
   */
  uncountedHeaders?: readonly string[];
};

export class WireClient {
  readonly #agent: Agent;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #uncounted: Set<string>;

  constructor(baseUrl: string, options: WireOptions = {}) {
    this.#base = new URL(baseUrl);
    if (this.#base.hostname !== "127.0.0.1")
      throw new Error(`the bench talks to 127.0.0.1 only, not ${this.#base.hostname}`);
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 6 });
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#uncounted = new Set(options.uncountedHeaders?.map((h) => h.toLowerCase()));
  }

  /** Sends one request and reads the whole answer; rejects on a network error or a timeout. */
  send(
    method: "GET" | "POST",
    path: string,
    headers: Record<string, string>,
    body?: string | Uint8Array,
  ): Promise<Exchange> {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const started = now();
    return new Promise<Exchange>((resolve, reject) => {
      let socket: Socket | undefined;
      let readAtStart = 0;
      let writtenAtStart = 0;
      const req = request(
        {
          host: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          agent: this.#agent,
          headers: payload ? { ...headers, "content-length": String(payload.length) } : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          // The socket goes back to the pool before "end" (res.socket is null by then); a request
          // waiting for it writes only on a later tick, so its counters are still this one's.
          res.on("end", () => {
            const wire = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: lowerCased(res.rawHeaders),
              body: decoded(wire, res.headers["content-encoding"]),
              wireBodyBytes: wire.length,
              bytesOut: socket!.bytesWritten - writtenAtStart,
              bytesIn: socket!.bytesRead - readAtStart - this.#uncountedBytes(res.rawHeaders),
              ms: now() - started,
            });
          });
        },
      );
      // Assigned (a new socket, or one reused from the pool) before anything of this request
      // is written: what the socket carried before belongs to earlier requests.
      req.on("socket", (assigned) => {
        socket = assigned;
        readAtStart = assigned.bytesRead;
        writtenAtStart = assigned.bytesWritten;
      });
      req.setTimeout(this.#timeoutMs, () =>
        req.destroy(new Error(`${method} ${path}: no answer within ${this.#timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  #uncountedBytes(raw: string[]): number {
    let bytes = 0;
    for (let i = 0; i < raw.length; i += 2)
      if (this.#uncounted.has(raw[i]!.toLowerCase()))
        bytes += Buffer.byteLength(`${raw[i]}: ${raw[i + 1]}\r\n`);
    return bytes;
  }

  close(): void {
    this.#agent.destroy();
  }
}

function lowerCased(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) out[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return out;
}

function decoded(body: Buffer, encoding: string | undefined): Buffer {
  if (!encoding || encoding === "identity") return body;
  if (encoding === "gzip") return gunzipSync(body);
  if (encoding === "br") return brotliDecompressSync(body);
  throw new Error(`content-encoding ${encoding}: not decoded by the bench`);
}
