import { DurableObject } from "cloudflare:workers";
import {
  BATCH_SUBPROTOCOL,
  chooseSubprotocol,
  CLOSE,
  ERROR_STATUS,
  type RoomEvent,
  type UserRef,
} from "../protocol/index.ts";
import { Actor, USER_HEADER } from "../identity/actor.ts";
import { FrameGate } from "./frame-gate.ts";
import { parseJson } from "./json.ts";
import { roomSettings } from "./settings.ts";
import { UserQuotas } from "./user-quotas.ts";
import { SHARD_HEADER, ShardHome, type Closing } from "./shard-fanout.ts";
import type { Relay } from "./shard-relay.ts";
import { attachmentOf, close, Connections, send, type Attachment } from "./sockets.ts";
import { errorFields, log } from "../telemetry/log.ts";
import { REQUEST_ID_HEADER } from "../telemetry/middleware.ts";
import { RoomMetrics } from "./room-metrics.ts";
import { metricsConfig } from "../config.ts";
import { metricsShardFor } from "../metrics/shards.ts";

const PING = JSON.stringify({ type: "ping" });
const PONG = JSON.stringify({ type: "pong" });

/**
 * One fan-out shard of a big room (docs/scaling.md): it holds a slice of the room's sockets and
 * relays to them what the room committed, so that no single object sends every frame of a
 * large room. Thin like the room: rate limits and parsing here, every decision in the room.
 * What it keeps in memory (sockets being greeted) only lives while they are.
 */
export class RoomShard extends DurableObject<Env> {
  readonly #sockets: Connections;
  // Memory only, like the room's: hibernation merely refills the buckets.
  readonly #gate = new FrameGate();
  /** Sockets whose greeting is on its way: the live events that come meanwhile wait here. */
  readonly #joining = new Map<WebSocket, RoomEvent[]>();
  /** How far a newly greeted socket already has the log, so that no event reaches it twice. */
  readonly #hasUpTo = new WeakMap<WebSocket, number>();
  #home: ShardHome | undefined;
  readonly #quotas: UserQuotas;
  readonly #metrics: RoomMetrics;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const settings = roomSettings(env);
    this.#metrics = this.#meter(ctx, env);
    this.#sockets = new Connections(ctx, settings.slowConsumerEvents, (lagMs) =>
      this.#metrics.observe("fanout_duration_seconds", {}, lagMs / 1000),
    );
    this.#quotas = new UserQuotas(
      (userId) => env.USER_LIMITS.getByName(userId),
      { perRoom: settings.limits.socketsPerRoom, perUser: settings.limits.socketsPerUser },
      (work) => ctx.waitUntil(work),
    );
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS home (room TEXT NOT NULL, shard INTEGER NOT NULL)",
    );
    const home = ctx.storage.sql
      .exec<{ room: string; shard: number }>("SELECT * FROM home")
      .toArray()[0];
    this.#home = home && { room: home.room, index: home.shard };
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    this.#metrics.count("room_wakeups_total", {});
  }

  /** The shard's counts and sockets, pushed on its alarm (its only use) like a room's. */
  #meter(ctx: DurableObjectState, env: Env): RoomMetrics {
    const config = metricsConfig(env);
    return new RoomMetrics({
      enabled: config.METRICS_ENABLED,
      pushMs: config.METRICS_PUSH_MS,
      schedule: (at) => void ctx.storage.setAlarm(at),
      report: () =>
        this.#home && {
          name: this.#home.room,
          part: `shard-${this.#home.index}`,
          sockets: { chat: ctx.getWebSockets().length, graphql: 0 },
          backlog: 0,
          oldestUnflushedAt: null,
        },
      push: (delta, report) =>
        metricsShardFor(env, this.#home?.room ?? ctx.id.toString()).push(delta, report),
    });
  }

  override async alarm(): Promise<void> {
    await this.#metrics.push();
  }

  /** A socket the room let in and handed over: accepted now, greeted by the room right after. */
  override async fetch(request: Request): Promise<Response> {
    const user = Actor.safeParse(parseJson(request.headers.get(USER_HEADER)));
    const home = ShardHome.safeParse(parseJson(request.headers.get(SHARD_HEADER)));
    if (!user.success || !home.success)
      return new Response("expected a WebSocket handed over by its room", { status: 400 });
    this.#settle(home.data);
    // Every socket of a user lives on the same shard: the room's count per user is this one.
    const here = this.#sockets.of(user.data.id).length;
    const over = await this.#quotas.admit(home.data.room, user.data.id, here);
    if (over) {
      this.#metrics.count("refusals_total", { reason: "quota" });
      return Response.json({ error: over }, { status: ERROR_STATUS[over.code] });
    }
    const protocol = chooseSubprotocol(request.headers);
    const firstHere = here === 0;
    const { 0: client, 1: server } = new WebSocketPair();
    const requestId = request.headers.get(REQUEST_ID_HEADER);
    this.#sockets.accept(server, user.data, protocol === BATCH_SUBPROTOCOL, requestId);
    this.#joining.set(server, []);
    this.#metrics.changed();
    const since = Number(new URL(request.url).searchParams.get("since") ?? NaN);
    void this.#greet(server, user.data, since, firstHere);
    const headers = protocol ? { "sec-websocket-protocol": protocol } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  // ---- RPC from the room ----

  /** What the room committed, and presence and typing frames, for the sockets here. */
  async relay({ events, frames }: Relay): Promise<void> {
    for (const [ws, waiting] of this.#joining) waiting.push(...events);
    const ready = (ws: WebSocket) => !this.#joining.has(ws);
    const sent = this.#sockets.deliver(events, new Map(), (ws) =>
      ready(ws) ? this.#hasUpTo.get(ws) : Number.POSITIVE_INFINITY,
    );
    this.#metrics.count("deliveries_total", { transport: "chat" }, sent);
    for (const { text, exceptUser, onlyUser } of frames)
      for (const ws of onlyUser === undefined
        ? this.ctx.getWebSockets()
        : this.#sockets.of(onlyUser))
        if (ready(ws) && attachmentOf(ws)?.user.id !== exceptUser) send(ws, text);
  }

  async closeUser(userId: string, code: number, reason: string, which: Closing): Promise<number> {
    const { sessionIds, keepAdmins } = which;
    return this.#sockets.closeUser(userId, code, reason, ({ user }: Attachment) => {
      if (keepAdmins && user.admin) return false;
      return !sessionIds || (user.sid !== undefined && sessionIds.includes(user.sid));
    });
  }

  // ---- WebSockets ----

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const attachment = attachmentOf(ws);
    if (!attachment) return close(ws, CLOSE.protocolAbuse, "unknown connection");
    const verdict = this.#gate.admit(attachment.connId, data, Date.now());
    if (verdict.kind === "close") {
      this.#metrics.count("refusals_total", { reason: "abuse" });
      return close(ws, verdict.code, verdict.reason);
    }
    if (verdict.kind === "refuse") {
      if (verdict.error.code === "rate_limited")
        this.#metrics.count("refusals_total", { reason: "rate_limited" });
      return send(ws, verdict.error);
    }
    if (verdict.kind === "drop") return;
    const { frame } = verdict;
    const { user, requestId } = attachment;
    try {
      switch (frame.type) {
        case "ping":
          return send(ws, PONG);
        case "received":
          return this.#sockets.received(ws, frame.seq, Date.now());
        case "typing":
          return void (await this.#room().typing(user));
        case "read":
          return void (await this.#room().markRead(user, frame.seq));
        default: {
          const result = await this.#room().command(frame, user, undefined, requestId);
          if (result.ok)
            return send(ws, { type: "ack", clientId: frame.clientId, seq: result.value.seq });
          const { code, message, retryAfter } = result.error;
          const wait =
            retryAfter === undefined ? {} : { retryAfterMs: Math.round(retryAfter * 1000) };
          return send(ws, { type: "error", code, message, clientId: frame.clientId, ...wait });
        }
      }
    } catch (error) {
      log.error("a shard could not reach its room", { error: errorFields(error) });
      send(ws, { type: "error", code: "internal", message: "something went wrong on our side" });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    await this.#left(ws);
    // Complete the closing handshake; 1005/1006 are reserved and must not be sent.
    close(ws, code === 1005 || code === 1006 ? 1000 : code, "closed");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#left(ws);
  }

  // ---- internals ----

  /** Presence first (so the room relays here from now on), then the greeting, then what waited. */
  async #greet(ws: WebSocket, user: Actor, since: number, firstHere: boolean): Promise<void> {
    try {
      const you: UserRef = { id: user.id, name: user.name };
      if (firstHere) await this.#room().shardPresence(this.#home!.index, you, true);
      const greeting = await this.#room().greeting(user, since);
      if (!greeting.ok) return close(ws, CLOSE.removed, greeting.error.message);
      for (const frame of greeting.value.frames) send(ws, frame);
      const waiting = this.#joining.get(ws) ?? [];
      this.#joining.delete(ws);
      this.#hasUpTo.set(ws, greeting.value.lastSeq);
      // Only to this socket, and only what the greeting did not already carry.
      const upTo = greeting.value.lastSeq;
      const sent = this.#sockets.deliver(waiting, new Map(), (other) =>
        other === ws ? upTo : Number.POSITIVE_INFINITY,
      );
      this.#metrics.count("deliveries_total", { transport: "chat" }, sent);
      this.#hasUpTo.set(ws, Math.max(upTo, waiting.at(-1)?.seq ?? 0));
    } catch (error) {
      log.error("greeting on a shard failed", { error: errorFields(error) });
      close(ws, 1011, "try again");
    }
  }

  async #left(ws: WebSocket): Promise<void> {
    this.#joining.delete(ws);
    this.#metrics.changed();
    const attachment = attachmentOf(ws);
    if (!attachment || !this.#home) return;
    this.#gate.forget(attachment.connId);
    const { id, name } = attachment.user;
    const stillOpen = this.#sockets.of(id).filter((other) => other !== ws).length;
    this.#quotas.left(this.#home.room, id, stillOpen);
    if (stillOpen > 0) return;
    await this.#room()
      .shardPresence(this.#home.index, { id, name }, false)
      .catch((error: unknown) =>
        log.warn("presence to the room failed", { error: errorFields(error) }),
      );
  }

  #room() {
    return this.env.ROOM.getByName(this.#home!.room);
  }

  /** Remembers which room and slice this shard serves (the first handed-over socket says). */
  #settle(home: ShardHome): void {
    if (this.#home) return;
    this.ctx.storage.sql.exec(
      "INSERT INTO home (room, shard) VALUES (?, ?)",
      home.room,
      home.index,
    );
    this.#home = home;
  }
}
