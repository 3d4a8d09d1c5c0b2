import {
  BATCH_SUBPROTOCOL,
  chooseSubprotocol,
  CLOSE,
  type ServerFrame,
  type UserRef,
} from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import { decideJoin, NO_SUCH_ROOM } from "./decide.ts";
import { FrameGate } from "./frame-gate.ts";
import { greetingFrames } from "./greeting.ts";
import type { RoomParts } from "./parts.ts";
import { shardOf } from "./shard-index.ts";
import { attachmentOf, close, refusedUpgrade, send, type Attachment } from "./sockets.ts";
import { errorFields, log } from "../telemetry/log.ts";
import { REQUEST_ID_HEADER } from "../telemetry/middleware.ts";

const PONG = JSON.stringify({ type: "pong" });

/**
 * What happens on a room's chat sockets (docs/protocol.md): the upgrade (joined, counted, then
 * kept here or handed to a fan-out shard), the greeting, every frame, and leaving.
 */
export class ChatSockets {
  readonly #p: RoomParts;
  // Memory only: lost on hibernation, which merely refills the buckets.
  readonly #gate = new FrameGate();

  constructor(parts: RoomParts) {
    this.#p = parts;
  }

  /** A chat socket for `user`, whom the worker authenticated. */
  async upgrade(request: Request, user: Actor): Promise<Response> {
    const view = this.#p.read.view();
    const joined = view ? decideJoin(view, user) : undefined;
    if (!joined?.ok) return refusedUpgrade(joined?.error ?? NO_SUCH_ROOM);
    const room = this.#p.read.room()!;
    // A sharded room's sockets are counted by their shard.
    if (room.shards === 0) {
      const over = await this.#p.quotas.admit(
        room.name,
        user.id,
        this.#p.sockets.of(user.id).length,
      );
      if (over) {
        this.#p.metrics.count("refusals_total", { reason: "quota" });
        return refusedUpgrade(over);
      }
    }
    this.#p.commands.commit(joined.events, user);
    if (room.shards > 0) {
      const index = shardOf(user.id, room.shards);
      return this.#p.fanout.handOver(request, user, { room: room.name, index });
    }
    return this.#accept(request, user);
  }

  /** What a socket starts with: the welcome, then what it missed since `since`. */
  greeting(you: UserRef, since: number): ServerFrame[] {
    return greetingFrames({
      room: this.#p.read.room()!.name,
      you,
      lastSeq: this.#p.log.lastSeq,
      online: this.#p.audience.online(),
      readSeq: this.#p.read.readSeq(you.id),
      since,
      range: (after, limit) => this.#p.log.range(after, limit),
    });
  }

  receive(ws: WebSocket, data: string | ArrayBuffer): void {
    const attachment = attachmentOf(ws);
    if (!attachment) return close(ws, CLOSE.protocolAbuse, "unknown connection");
    try {
      this.#receive(ws, attachment, data);
    } catch (error) {
      log.error("room frame failed", { error: errorFields(error) });
      send(ws, { type: "error", code: "internal", message: "something went wrong on our side" });
    }
  }

  /** A chat socket closed: one fewer open for its user, and they left if it was their last. */
  left(ws: WebSocket): void {
    const attachment = attachmentOf(ws);
    if (!attachment) return;
    this.#gate.forget(attachment.connId);
    this.#p.sockets.lag.forget(attachment.connId);
    const { id } = attachment.user;
    const stillOpen = this.#p.sockets.of(id).filter((other) => other !== ws).length;
    this.#p.quotas.left(this.#p.read.room()!.name, id, stillOpen + this.#p.live.of(id).length);
    if (stillOpen > 0) return;
    this.#p.audience.signal({ type: "presence", left: { id } }, { user: id, ws });
    void this.#p.directory.push();
  }

  #accept(request: Request, user: Actor): Response {
    const protocol = chooseSubprotocol(request.headers);
    const firstConnection = !this.#p.sockets.of(user.id).length;
    const { 0: client, 1: server } = new WebSocketPair();
    const requestId = request.headers.get(REQUEST_ID_HEADER);
    this.#p.sockets.accept(server, user, protocol === BATCH_SUBPROTOCOL, requestId);
    const you = { id: user.id, name: user.name };
    const since = Number(new URL(request.url).searchParams.get("since") ?? NaN);
    for (const frame of this.greeting(you, since)) send(server, frame);
    // Reminders that fell due while they had no socket here (reminders.ts).
    for (const frame of this.#p.reminders.takePending(user.id)) send(server, frame);
    if (firstConnection)
      this.#p.audience.signal({ type: "presence", joined: you }, { user: you.id, ws: server });
    void this.#p.directory.push();
    const headers = protocol ? { "sec-websocket-protocol": protocol } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  #receive(
    ws: WebSocket,
    { user, connId, requestId }: Attachment,
    data: string | ArrayBuffer,
  ): void {
    const now = Date.now();
    const verdict = this.#gate.admit(connId, data, now);
    if (verdict.kind === "close") {
      this.#p.metrics.count("refusals_total", { reason: "abuse" });
      return close(ws, verdict.code, verdict.reason);
    }
    if (verdict.kind === "refuse") {
      if (verdict.error.code === "rate_limited")
        this.#p.metrics.count("refusals_total", { reason: "rate_limited" });
      return send(ws, verdict.error);
    }
    if (verdict.kind === "drop") return;
    const frame = verdict.frame;
    switch (frame.type) {
      case "ping":
        return send(ws, PONG);
      case "typing":
        return this.#p.audience.typing({ id: user.id, name: user.name }, now, ws);
      case "received":
        return this.#p.sockets.received(ws, frame.seq, now);
      case "read":
        return this.#p.read.markRead(user.id, Math.min(frame.seq, this.#p.log.lastSeq));
      default: {
        const limited = this.#p.budget.spend(user.id, now);
        if (!limited)
          return this.#p.commands.submit({ command: frame, actor: user, ws, requestId });
        const { code, message, retryAfter = 0 } = limited;
        this.#p.metrics.count("commands_total", { type: frame.type, outcome: code });
        const retryAfterMs = Math.ceil(retryAfter * 1000);
        return send(ws, { type: "error", code, message, clientId: frame.clientId, retryAfterMs });
      }
    }
  }
}
