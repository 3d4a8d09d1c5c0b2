import {
  ApiError,
  BATCH_SUBPROTOCOL,
  BEARER_PREFIX,
  CLOSE,
  type ServerFrame,
  SUBPROTOCOL,
  type Command,
  type RoomEvent,
  type ServerFrameOf,
} from "../protocol/index.ts";
import { backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
import { Emitter } from "./emitter.ts";
import { readMessage } from "./incoming.ts";
import { EdgechatApi } from "./http.ts";
import { CommandSender } from "./command-sender.ts";
import type { ConnectionEvents, ConnectionOptions, ConnectionStatus } from "./connection-types.ts";

export type { ConnectionEvents, ConnectionOptions, ConnectionStatus } from "./connection-types.ts";

/**
 * A `received` report goes every this many events, or this often while events come. Reports
 * are frames the room must read: in a room of 1000 a report a second each was a tenth of its
 * work, and the room needs them only to see a client fall behind (thousands of events) or its
 * events arrive late under load (when 100 events pass in well under a second).
 */
const REPORT_EVERY = { events: 100, ms: 5_000 };

/** A socket that stayed open this long was a success: the next drop starts the backoff afresh. */
const STABLE_MS = 5_000;

const FATAL_CLOSES = new Set<number>([CLOSE.tokenRevoked, CLOSE.removed]);

/**
 * One live connection to a room: reconnects with backoff and jitter, resumes with `since`,
 * and resends unacknowledged commands with their original clientId.
 * @example
 * const room = new RoomConnection({ baseUrl, room: "lobby", token });
 * room.on("event", (e) => console.log(e.seq, e.type));
 * room.connect();
 * const seq = await room.post("hello");
 */
export class RoomConnection extends Emitter<ConnectionEvents> {
  /** The seq of the last event delivered; resumes start after it. */
  lastSeq: number;
  status: ConnectionStatus = "closed";
  /** Frames the server should never send; counted for tests and the benchmark. */
  readonly anomalies = { duplicates: 0, outOfOrder: 0, brokenChain: 0 };
  /** The hash of event `lastSeq`, when this client has it: the next event must link to it. */
  lastHash: string | undefined;
  readonly #options: ConnectionOptions;
  /** The outbox, and when its commands go out. */
  readonly #commands = new CommandSender(
    (command) => this.#write(command),
    () => this.#welcomed && this.#socket?.readyState === 1,
  );
  #socket: WebSocket | undefined;
  #attempt = 0;
  #welcomed = false;
  /** Whether the current socket asked for a replay with `since`. */
  #resuming = false;
  #openedAt = 0;
  /** The highest read marker asked for while not connected, sent after the next welcome. */
  #pendingRead = -1;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #lastPong = 0;
  #counter = 0;
  /** The last seq reported to the room with a `received` frame, and when. */
  #reported = { seq: 0, at: 0 };

  constructor(options: ConnectionOptions) {
    super();
    this.#options = options;
    this.lastSeq = options.since ?? 0;
    this.lastHash = options.sinceHash;
  }

  connect(): void {
    if (this.status !== "closed" && this.status !== "reconnecting") return;
    this.#setStatus(this.#attempt === 0 ? "connecting" : "reconnecting");
    const url = new URL(
      `/api/rooms/${encodeURIComponent(this.#options.room)}/ws`,
      this.#options.baseUrl,
    );
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    this.#resuming = this.lastSeq > 0;
    if (this.#resuming) url.searchParams.set("since", String(this.lastSeq));
    const Socket = this.#options.WebSocket ?? globalThis.WebSocket;
    // Batches when the server has them (one frame for a turn's acks and events), else plain v1.
    const socket = new Socket(url.toString(), [
      BATCH_SUBPROTOCOL,
      SUBPROTOCOL,
      BEARER_PREFIX + this.#token(),
    ]);
    this.#socket = socket;
    this.#welcomed = false;
    socket.addEventListener(
      "message",
      (message) => socket === this.#socket && this.#receive(message.data),
    );
    socket.addEventListener(
      "close",
      (close) => socket === this.#socket && this.#closed(close.code, close.reason),
    );
    socket.addEventListener("error", () => undefined);
  }

  /** Closes for good; pending commands are rejected. */
  close(): void {
    this.#setStatus("closed");
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#commands.stop();
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000, "bye");
    this.#commands.outbox.failAll("closed", "the connection was closed");
  }

  /**
   * Posts a message; `attachments` are ids of your complete uploads in the room (`api.upload`),
   * and with them the text may be empty.
   */
  post(
    text: string,
    options: { replyTo?: number; clientId?: string; attachments?: readonly string[] } = {},
  ): Promise<number> {
    const { replyTo, clientId = this.nextClientId(), attachments } = options;
    const withFiles = attachments !== undefined && attachments.length > 0;
    return this.send({
      type: "post",
      clientId,
      ...(text !== "" || !withFiles ? { text } : {}),
      ...(replyTo === undefined ? {} : { replyTo }),
      ...(withFiles ? { attachments: [...attachments] } : {}),
    });
  }

  edit(messageId: number, text: string): Promise<number> {
    return this.send({ type: "edit", clientId: this.nextClientId(), messageId, text });
  }

  delete(messageId: number): Promise<number> {
    return this.send({ type: "delete", clientId: this.nextClientId(), messageId });
  }

  react(messageId: number, emoji: string, on: boolean): Promise<number> {
    return this.send({ type: "react", clientId: this.nextClientId(), messageId, emoji, on });
  }

  /** Takes back your last action here (a post, edit, delete or reaction): docs/audit.md. */
  undo(): Promise<number> {
    return this.send({ type: "undo", clientId: this.nextClientId() });
  }

  /** Applies again the action you took back last, unless you acted since. */
  redo(): Promise<number> {
    return this.send({ type: "redo", clientId: this.nextClientId() });
  }

  /** Empties a message's text for good (yours, or anyone's for moderators and above). */
  redact(messageId: number, reason?: string): Promise<number> {
    const clientId = this.nextClientId();
    return this.send({ type: "redact", clientId, messageId, ...(reason ? { reason } : {}) });
  }

  setTopic(topic: string): Promise<number> {
    return this.send({ type: "topic", clientId: this.nextClientId(), topic });
  }

  /**
   * Sends a command now, or after the next welcome, or once the room's `overloaded` wait is
   * over; resolves with the seq of its event. Past MAX_PENDING_COMMANDS waiting it is refused
   * at once with `overloaded`.
   */
  send(command: Command): Promise<number> {
    const acked = this.#commands.outbox.add(command);
    this.#commands.send();
    return acked;
  }

  typing(): void {
    if (this.#welcomed) this.#write({ type: "typing" });
  }

  read(seq: number): void {
    if (this.#welcomed) return this.#write({ type: "read", seq });
    this.#pendingRead = Math.max(this.#pendingRead, seq);
  }

  get pendingCommands(): number {
    return this.#commands.outbox.size;
  }

  /** A clientId unique per user: random prefix per connection object, then a counter. */
  nextClientId(): string {
    this.#counter += 1;
    return `${this.#prefix}-${this.#counter}`;
  }

  readonly #prefix = Math.random().toString(36).slice(2, 10);

  #write(frame: object): void {
    if (this.#socket?.readyState === 1) this.#socket.send(JSON.stringify(frame));
  }

  #receive(data: unknown): void {
    for (const incoming of readMessage(data)) {
      if ("frame" in incoming) this.#handle(incoming.frame);
      else if (this.#advance(incoming.unknownEventSeq)) this.lastHash = undefined;
    }
    this.#reportReceived();
  }

  /**
   * On edgechat.v1.batch, tells the room how far this client has read (REPORT_EVERY), so that it
   * can tell a client that fell behind from one that keeps up, and see how late its events
   * arrive; the room cannot see what waits in the network for a socket.
   */
  #reportReceived(): void {
    if (this.#socket?.protocol !== BATCH_SUBPROTOCOL || this.lastSeq <= this.#reported.seq) return;
    const now = Date.now();
    const events = this.lastSeq - this.#reported.seq;
    if (events < REPORT_EVERY.events && now - this.#reported.at < REPORT_EVERY.ms) return;
    this.#reported = { seq: this.lastSeq, at: now };
    this.#write({ type: "received", seq: this.lastSeq });
  }

  #handle(frame: ServerFrame): void {
    switch (frame.type) {
      case "welcome":
        return this.#welcome(frame);
      case "event":
        return this.#event(frame.event);
      case "gap":
        this.lastSeq = Math.max(this.lastSeq, frame.before - 1);
        this.lastHash = undefined;
        return this.emit("gap", frame);
      case "ack":
        if (this.#commands.outbox.ack(frame.clientId, frame.seq)) this.#commands.send();
        return;
      case "error":
        if (frame.clientId && this.#retryLater(frame)) return;
        if (
          frame.clientId &&
          this.#commands.outbox.refuse(frame.clientId, frame.code, frame.message)
        )
          return this.#commands.send();
        return this.emit("error", frame);
      case "batch":
        for (const inner of frame.frames) this.#handle(inner);
        return;
      case "presence":
        return this.emit("presence", frame);
      case "typing":
        return this.emit("typing", frame.user);
      case "pong":
        this.#lastPong = Date.now();
        return;
      case "ephemeral":
        return this.emit("ephemeral", frame);
    }
  }

  #welcome(frame: ServerFrameOf<"welcome">): void {
    this.#welcomed = true;
    this.#openedAt = Date.now();
    // Without `since` nothing is replayed: live events start after the welcome's lastSeq, and a
    // later reconnect must resume from there, or what is posted while it is down is lost.
    if (!this.#resuming && frame.lastSeq > this.lastSeq) {
      this.lastSeq = frame.lastSeq;
      this.lastHash = undefined;
    }
    // A fresh socket: the room knows nothing of it yet, so the first report waits its turn.
    this.#reported = { seq: this.lastSeq, at: Date.now() };
    this.#lastPong = Date.now();
    this.#setStatus("open");
    this.emit("welcome", frame);
    this.#commands.outbox.unsendAll();
    this.#commands.send();
    if (this.#pendingRead >= 0) this.#write({ type: "read", seq: this.#pendingRead });
    this.#pendingRead = -1;
    this.#heartbeat();
  }

  #event(event: RoomEvent): void {
    const follows = event.seq === this.lastSeq + 1;
    if (!this.#advance(event.seq)) return;
    if (
      follows &&
      this.lastHash !== undefined &&
      event.prevHash !== undefined &&
      event.prevHash !== this.lastHash
    ) {
      this.anomalies.brokenChain += 1;
      this.emit("chainBroken", { seq: event.seq });
    }
    this.lastHash = event.hash;
    this.emit("event", event);
  }

  /** Moves the cursor to `seq`; false for a duplicate, which must not be delivered again. */
  #advance(seq: number): boolean {
    if (seq <= this.lastSeq) {
      this.anomalies.duplicates += 1;
      return false;
    }
    if (seq !== this.lastSeq + 1) this.anomalies.outOfOrder += 1;
    this.lastSeq = seq;
    return true;
  }

  /**
   * The room was too busy for this command (`overloaded`, or `rate_limited` with a wait; slow
   * mode's refusal has none and goes to the caller): every command waits until the outbox says.
   */
  #retryLater(frame: ServerFrameOf<"error">): boolean {
    const { code } = frame;
    const pushedBack = code === "overloaded" || code === "rate_limited";
    if (!pushedBack || frame.retryAfterMs === undefined) return false;
    const clientId = frame.clientId ?? "";
    const waitMs = this.#commands.hold(clientId, frame.retryAfterMs);
    if (waitMs === undefined) return false;
    this.emit("overloaded", { clientId, code, retryAfterMs: waitMs });
    return true;
  }

  #heartbeat(): void {
    const every = this.#options.heartbeatMs ?? 25_000;
    const socket = this.#socket;
    this.#later(every, () => {
      if (socket !== this.#socket || this.status !== "open") return;
      if (Date.now() - this.#lastPong > 2 * every) return socket?.close(4000, "no pong");
      this.#write({ type: "ping" });
      this.#heartbeat();
    });
  }

  #closed(code: number, reason: string): void {
    this.#socket = undefined;
    if (this.status === "closed") return;
    if (FATAL_CLOSES.has(code))
      return this.#fatal(String(code), reason || "the server ended this session");
    if (!this.#welcomed) void this.#checkRoom();
    // Reset only after a stable connection, so a server that accepts and at once closes
    // (4400, 4429, a crash loop) meets a growing backoff rather than a tight reconnect loop.
    if (this.#welcomed && Date.now() - this.#openedAt >= STABLE_MS) this.#attempt = 0;
    const delay = backoffDelay(this.#attempt, this.#options.backoff ?? DEFAULT_BACKOFF);
    this.#attempt += 1;
    this.#setStatus("reconnecting");
    this.#later(delay, () => this.status === "reconnecting" && this.connect());
  }

  /** A browser cannot read why an upgrade was refused; ask over HTTP and stop on 401 or 404. */
  async #checkRoom(): Promise<void> {
    try {
      await new EdgechatApi(this.#options.baseUrl, this.#token()).getRoom(this.#options.room);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
        this.#fatal(error.code, error.message);
      }
    }
  }

  #token(): string {
    const { token } = this.#options;
    return typeof token === "function" ? token() : token;
  }

  #fatal(code: string, message: string): void {
    this.close();
    this.emit("fatal", { code, message });
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  #setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", status);
  }
}
