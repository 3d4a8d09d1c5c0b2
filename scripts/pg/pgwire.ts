/**
 * A tiny PostgreSQL wire-protocol client (simple query protocol only) used by the cluster tooling
 * for admin statements: CREATE DATABASE, replication checks, status. It exists so the tooling
 * needs no driver beyond what node ships with; it talks to a node over its unix socket, where
 * pg_hba.conf says `trust`, and also understands cleartext and md5 passwords (no SCRAM).
 * Every value comes back as text (or null), exactly as the server sends it.
 */
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";

export type Row = Record<string, string | null>;

export type WireTarget =
  | { socketPath: string; host?: undefined; port?: undefined }
  | { socketPath?: undefined; host: string; port: number };

export type QueryOptions = {
  database?: string;
  user?: string;
  password?: string;
  /** Gives up (and destroys the socket) after this long; default 10 s. */
  timeoutMs?: number;
};

export class PgWireError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = "PgWireError";
    this.code = code;
  }
}

function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, "utf8"), Buffer.from([0])]);
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function startupMessage(user: string, database: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 3, 0, 0]), // protocol 3.0
    cstring("user"),
    cstring(user),
    cstring("database"),
    cstring(database),
    cstring("application_name"),
    cstring("edgechat-pg-tools"),
    Buffer.from([0]),
  ]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([length, body]);
}

function readCString(buffer: Buffer, offset: number): [string, number] {
  const end = buffer.indexOf(0, offset);
  return [buffer.toString("utf8", offset, end), end + 1];
}

function parseError(body: Buffer): PgWireError {
  const fields: Record<string, string> = {};
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const field = String.fromCharCode(body[offset]!);
    const [value, next] = readCString(body, offset + 1);
    fields[field] = value;
    offset = next;
  }
  return new PgWireError(`${fields.S ?? "ERROR"}: ${fields.M ?? "unknown error"}`, fields.C);
}

/**
 * Runs `sql` (one or more statements) and resolves with the rows of the last statement that
 * returned rows. Rejects with the server's error, a connection error, or a timeout.
 * @example
 * const [row] = await query({ socketPath: "/data/primary/.s.PGSQL.5433" }, "SELECT pg_is_in_recovery() AS r");
 */
export function query(target: WireTarget, sql: string, options: QueryOptions = {}): Promise<Row[]> {
  const user = options.user ?? "postgres";
  const database = options.database ?? "postgres";
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise<Row[]>((resolve, reject) => {
    const socket: Socket =
      target.socketPath !== undefined
        ? connect({ path: target.socketPath })
        : connect({ host: target.host, port: target.port });
    let pending = Buffer.alloc(0);
    let phase: "startup" | "query" | "done" = "startup";
    let columns: string[] = [];
    let rows: Row[] = [];
    let lastRows: Row[] = [];
    let failure: Error | undefined;
    const timer = setTimeout(
      () => finish(new Error(`query timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );

    const finish = (error?: Error, result?: Row[]) => {
      if (phase === "done") return;
      phase = "done";
      clearTimeout(timer);
      if (!socket.destroyed) {
        if (!error) socket.end(message("X", Buffer.alloc(0)));
        else socket.destroy();
      }
      if (error) reject(error);
      else resolve(result ?? []);
    };

    const handle = (type: string, body: Buffer) => {
      switch (type) {
        case "R": {
          const code = body.readInt32BE(0);
          if (code === 0) return;
          if (code === 3) {
            socket.write(message("p", cstring(options.password ?? "")));
            return;
          }
          if (code === 5) {
            const salt = body.subarray(4, 8);
            const inner = createHash("md5")
              .update((options.password ?? "") + user)
              .digest("hex");
            const outer = createHash("md5")
              .update(Buffer.concat([Buffer.from(inner), salt]))
              .digest("hex");
            socket.write(message("p", cstring(`md5${outer}`)));
            return;
          }
          finish(
            new Error(
              `unsupported authentication request ${code} (use the unix socket, where auth is trust)`,
            ),
          );
          return;
        }
        case "E":
          failure ??= parseError(body);
          if (phase === "startup") finish(failure);
          return;
        case "T": {
          const count = body.readInt16BE(0);
          let offset = 2;
          columns = [];
          for (let i = 0; i < count; i++) {
            const [name, next] = readCString(body, offset);
            columns.push(name);
            offset = next + 18;
          }
          rows = [];
          return;
        }
        case "D": {
          const count = body.readInt16BE(0);
          let offset = 2;
          const row: Row = {};
          for (let i = 0; i < count; i++) {
            const length = body.readInt32BE(offset);
            offset += 4;
            if (length < 0) row[columns[i] ?? `col${i}`] = null;
            else {
              row[columns[i] ?? `col${i}`] = body.toString("utf8", offset, offset + length);
              offset += length;
            }
          }
          rows.push(row);
          return;
        }
        case "C":
          if (columns.length > 0) lastRows = rows;
          columns = [];
          rows = [];
          return;
        case "Z":
          if (phase === "startup") {
            phase = "query";
            socket.write(message("Q", cstring(sql)));
            return;
          }
          if (failure) finish(failure);
          else finish(undefined, lastRows);
          return;
        default:
          return; // S (parameter status), K (backend key), N (notice), I (empty query), ...
      }
    };

    socket.on("connect", () => socket.write(startupMessage(user, database)));
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const length = pending.readInt32BE(1);
        if (pending.length < length + 1) break;
        const type = String.fromCharCode(pending[0]!);
        const body = pending.subarray(5, length + 1);
        pending = pending.subarray(length + 1);
        handle(type, body);
        if (phase === "done") return;
      }
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(new Error("connection closed before the query finished")));
  });
}
