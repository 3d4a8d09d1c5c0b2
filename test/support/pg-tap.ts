import { createServer, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer, type RawData } from "ws";

/**
 * A WebSocket relay between the worker and the WebSocket-to-TCP proxy (scripts/pg/ws-proxy.ts)
 * that reads the Postgres wire protocol flowing through it. Point the worker's `PG_WS_PROXY` at
 * the tap and the tap at the real proxy; bytes and closes pass unchanged. It gives tests what
 * the database alone cannot:
 *
 * - **Which node ran a statement.** Every statement the worker sends is recorded with the node
 *   it went to (the `address` of the tunnel), before any answer comes back; a read's HTTP answer
 *   therefore arrives after its statement is on record.
 * - **A lost COMMIT acknowledgement.** `cutAfterCommit` lets one matching transaction's COMMIT
 *   reach Postgres, waits for Postgres's answer, then drops the worker's side of the connection
 *   without forwarding a byte of that answer: the transaction is committed and the client has no
 *   way to know.
 * - **The endpoint itself down.** `refuse` answers every new upgrade with a 503, as an
 *   unreachable proxy would, while Postgres stays up behind it.
 */
export type Statement = {
  /** The node's "host:port", from the tunnel's `?address=`. */
  readonly node: string;
  /** Which tunnel (connection) of the tap it came on, counted from 1. */
  readonly connection: number;
  /** The SQL text (simple Query, or Parse of the extended protocol). */
  readonly text: string;
  /** Bound parameters in text form (null for NULL or binary ones); empty for a simple Query. */
  params: (string | null)[];
};

export type Transaction = {
  readonly node: string;
  readonly connection: number;
  /** From BEGIN to COMMIT/ROLLBACK, both included. */
  readonly statements: Statement[];
  /** What Postgres answered to the COMMIT: "COMMIT", or "ROLLBACK" for an aborted one. */
  outcome?: string;
  /** Postgres's answer was withheld and the worker's connection dropped. */
  cut: boolean;
};

export type PgTap = {
  /** "127.0.0.1:<port>", what the worker's PG_WS_PROXY takes. */
  readonly address: string;
  /** Every statement so far, in the order they reached the tap. */
  statements(): readonly Statement[];
  /** Every transaction that sent its COMMIT (or ROLLBACK), in that order. */
  transactions(): readonly Transaction[];
  /**
   * Arms a cut for the next transaction for which `match` holds when its COMMIT arrives; resolves
   * with that transaction once Postgres has answered the COMMIT and the worker's side of the
   * connection is gone. One cut per call; other transactions pass untouched. Rejects when no
   * transaction matched within `timeoutMs` (default 60 s). With `thenRefuse`, the tap refuses
   * every new connection from the moment of the cut until `heal()`: the network stays down, so
   * that what the client did about the lost answer can be looked at before it retries.
   */
  cutAfterCommit(
    match: (transaction: Transaction) => boolean,
    options?: { timeoutMs?: number; thenRefuse?: boolean },
  ): Promise<Transaction>;
  /** Refuses every new connection (the upgrade gets a 503) until `heal()`: the endpoint is down. */
  refuse(): void;
  /** Accepts connections again after `refuse()` or a `thenRefuse` cut. */
  heal(): void;
  close(): Promise<void>;
};

/** Protocol codes of the untyped first message of a frontend stream. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Close codes that may travel in a close frame (1005, 1006 and 1015 only report a local state). */
const SENDABLE_CLOSE = (code: number) =>
  (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code < 5000);

const begins = (text: string) => /^\s*(begin|start\s+transaction)\b/i.test(text);
const ends = (text: string) => /^\s*(commit|end|rollback|abort)\b/i.test(text);
const commits = (text: string) => /^\s*(commit|end)\b/i.test(text);

/**
 * Splits a byte stream into Postgres messages (type byte + int32 length including itself);
 * `untyped` messages (the startup family) have no type byte.
 */
class MessageReader {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
  }

  /** Takes `n` raw bytes (the server's one-byte answer to SSLRequest), or undefined if short. */
  takeBytes(n: number): Buffer | undefined {
    if (this.#buffer.length < n) return undefined;
    const bytes = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return bytes;
  }

  next(untyped: boolean): { type: string; body: Buffer } | undefined {
    const header = untyped ? 4 : 5;
    if (this.#buffer.length < header) return undefined;
    const length = this.#buffer.readInt32BE(untyped ? 0 : 1);
    const total = (untyped ? 0 : 1) + length;
    if (this.#buffer.length < total) return undefined;
    const type = untyped ? "" : String.fromCharCode(this.#buffer[0]!);
    const body = this.#buffer.subarray(header, total);
    this.#buffer = this.#buffer.subarray(total);
    return { type, body };
  }
}

function cString(body: Buffer, offset: number): [string, number] {
  const end = body.indexOf(0, offset);
  const stop = end < 0 ? body.length : end;
  return [body.toString("utf8", offset, stop), stop + 1];
}

/** A Bind message's parameters, text-formatted ones decoded. */
function bindParams(body: Buffer): { statement: string; params: (string | null)[] } {
  let offset = cString(body, 0)[1]; // portal
  const [statement, afterName] = cString(body, offset);
  offset = afterName;
  const formatCount = body.readInt16BE(offset);
  offset += 2;
  const formats: number[] = [];
  for (let i = 0; i < formatCount; i++, offset += 2) formats.push(body.readInt16BE(offset));
  const count = body.readInt16BE(offset);
  offset += 2;
  const params: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    const length = body.readInt32BE(offset);
    offset += 4;
    const format = formatCount === 0 ? 0 : formatCount === 1 ? formats[0]! : formats[i]!;
    if (length < 0) params.push(null);
    else params.push(format === 0 ? body.toString("utf8", offset, offset + length) : null);
    offset += Math.max(0, length);
  }
  return { statement, params };
}

/**
 * Starts the tap in front of the WebSocket proxy at `upstream` ("127.0.0.1:<port>").
 * @example
 * const tap = await startPgTap(cluster.proxyAddress);
 * const server = await startServer({ vars: databaseVars({ ...cluster, proxyAddress: tap.address }) });
 * const lost = await tap.cutAfterCommit((tx) => mentions(tx, room));
 */
export async function startPgTap(upstream: string): Promise<PgTap> {
  const statements: Statement[] = [];
  const transactions: Transaction[] = [];
  type Cut = {
    match: (transaction: Transaction) => boolean;
    thenRefuse: boolean;
    done: (transaction: Transaction) => void;
  };
  const cuts: Cut[] = [];
  let refusing = false;
  const tunnels = new Set<{ client: WebSocket; server: WebSocket }>();
  let connections = 0;

  const http = createServer((_request, response) => response.writeHead(426).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://tap.local");
    const node = url.searchParams.get("address") ?? "?";
    if (refusing) {
      socket.end(
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (client) => {
      const connection = ++connections;
      const server = new WebSocket(`ws://${upstream}${url.pathname}${url.search}`, {
        perMessageDeflate: false,
      });
      const tunnel = { client, server };
      tunnels.add(tunnel);
      const pending: { data: Buffer; binary: boolean }[] = [];

      const fromClient = new MessageReader();
      let started = false; // the startup message has gone by
      let sslAnswers = 0; // one-byte answers owed by the server to SSL/GSS requests
      const prepared = new Map<string, string>(); // statement name → text
      let lastParse: Statement | undefined;
      let open: Transaction | undefined;

      const fromServer = new MessageReader();
      /** The transaction whose COMMIT was sent and is waiting for Postgres's answer. */
      let committing: Transaction | undefined;
      let cutting: { transaction: Transaction; cut: Cut } | undefined;

      /** Drops both sides at once, with no close frame: a broken connection. */
      const closeBoth = () => {
        tunnels.delete(tunnel);
        if (client.readyState !== WebSocket.CLOSED) client.terminate();
        if (server.readyState !== WebSocket.CLOSED) server.terminate();
      };
      /** Passes one side's close on to the other, so that the tap changes nothing but cuts. */
      const relayClose = (to: WebSocket, code: number, reason: Buffer) => {
        tunnels.delete(tunnel);
        if (to.readyState !== WebSocket.OPEN) {
          if (to.readyState !== WebSocket.CLOSED) to.terminate();
          return;
        }
        to.close(SENDABLE_CLOSE(code) ? code : 1011, reason.subarray(0, 123));
        setTimeout(() => to.terminate(), 1_000).unref();
      };

      const record = (text: string, params: (string | null)[] = []): Statement => {
        const statement: Statement = { node, connection, text, params };
        statements.push(statement);
        if (!open && begins(text)) open = { node, connection, statements: [], cut: false };
        open?.statements.push(statement);
        return statement;
      };

      /** Called once a statement's text and parameters are complete: at Query, or at Bind. */
      const settle = (statement: Statement) => {
        if (!open || !ends(statement.text)) return;
        const transaction = open;
        open = undefined;
        transactions.push(transaction);
        committing = transaction;
        const armed = commits(statement.text)
          ? cuts.findIndex((cut) => cut.match(transaction))
          : -1;
        if (armed >= 0) {
          const [cut] = cuts.splice(armed, 1);
          transaction.cut = true;
          cutting = { transaction, cut: cut! };
        }
      };

      const readClient = (chunk: Buffer) => {
        fromClient.push(chunk);
        for (;;) {
          const message = fromClient.next(!started);
          if (!message) return;
          if (!started) {
            const code = message.body.length >= 4 ? message.body.readInt32BE(0) : 0;
            if (code === SSL_REQUEST || code === GSSENC_REQUEST) sslAnswers += 1;
            else started = true;
            continue;
          }
          if (message.type === "Q") {
            settle(record(cString(message.body, 0)[0]));
          } else if (message.type === "P") {
            const [name, offset] = cString(message.body, 0);
            const [text] = cString(message.body, offset);
            prepared.set(name, text);
            lastParse = record(text);
          } else if (message.type === "B") {
            const { statement, params } = bindParams(message.body);
            const parsed =
              statement === "" && lastParse
                ? lastParse
                : record(prepared.get(statement) ?? `(prepared ${statement})`);
            parsed.params = params;
            lastParse = undefined;
            settle(parsed);
          }
        }
      };

      const readServer = (chunk: Buffer) => {
        fromServer.push(chunk);
        while (sslAnswers > 0 && fromServer.takeBytes(1)) sslAnswers -= 1;
        for (;;) {
          const message = fromServer.next(false);
          if (!message) return;
          if (message.type === "C" && committing) {
            committing.outcome = cString(message.body, 0)[0];
            committing = undefined;
          } else if (message.type === "E" && committing) {
            committing.outcome = "ERROR";
            committing = undefined;
          } else if (message.type === "Z" && cutting && cutting.transaction.outcome) {
            const { transaction, cut } = cutting;
            cutting = undefined;
            if (cut.thenRefuse) refusing = true;
            closeBoth();
            cut.done(transaction);
            return;
          }
        }
      };

      client.on("message", (data: RawData, binary: boolean) => {
        const bytes = toBuffer(data);
        readClient(bytes);
        if (server.readyState === WebSocket.OPEN) server.send(bytes, { binary });
        else pending.push({ data: bytes, binary });
      });
      server.on("open", () => {
        for (const { data, binary } of pending.splice(0)) server.send(data, { binary });
      });
      server.on("message", (data: RawData, binary: boolean) => {
        const bytes = toBuffer(data);
        // Once a cut's COMMIT has left, nothing more reaches the worker on this connection.
        const withheld = cutting !== undefined;
        readServer(bytes);
        if (!withheld && client.readyState === WebSocket.OPEN) client.send(bytes, { binary });
      });
      client.on("close", (code, reason) => relayClose(server, code, reason));
      server.on("close", (code, reason) => relayClose(client, code, reason));
      client.on("error", closeBoth);
      server.on("error", closeBoth);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => resolve());
  });
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;

  let closing: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    statements: () => statements,
    transactions: () => transactions,
    cutAfterCommit(match, { timeoutMs = 60_000, thenRefuse = false } = {}) {
      return new Promise((resolve, reject) => {
        const cut: Cut = {
          match,
          thenRefuse,
          done: (transaction) => {
            clearTimeout(timer);
            resolve(transaction);
          },
        };
        const timer = setTimeout(() => {
          const waiting = cuts.indexOf(cut);
          if (waiting >= 0) cuts.splice(waiting, 1);
          reject(
            new Error(
              waiting >= 0
                ? `no matching transaction sent its COMMIT within ${timeoutMs} ms`
                : `Postgres did not answer the matching COMMIT within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        cuts.push(cut);
      });
    },
    refuse() {
      refusing = true;
    },
    heal() {
      refusing = false;
    },
    close() {
      closing ??= (async () => {
        for (const { client, server } of tunnels) {
          client.terminate();
          server.terminate();
        }
        tunnels.clear();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return closing;
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
