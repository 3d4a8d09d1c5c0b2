import { DurableObject } from "cloudflare:workers";
import {
  BATCH_SUBPROTOCOL,
  GRAPHQL_SUBPROTOCOL,
  refusal,
  type Action,
  type ChainReport,
  type BanList,
  chooseSubprotocol,
  CLOSE,
  ERROR_STATUS,
  type Command,
  type CreateRoom,
  type EventsPage,
  type MemberList,
  type MessagesPage,
  type Moment,
  type Refusal,
  type Result,
  type RoomEvent,
  type RoomInfo,
  type RoomStateAt,
  type ServerFrame,
  type Standing,
  type UserRef,
} from "../protocol/index.ts";
import { Actor, USER_HEADER } from "../identity/actor.ts";
import { decideCreate, decideJoin, denyAccess, standingOf } from "./decide.ts";
import { changesSummary } from "./effects.ts";
import { FrameGate } from "./frame-gate.ts";
import { greetingFrames } from "./greeting.ts";
import { COMMAND_TTL_MS } from "./idempotency.ts";
import { parseJson } from "./json.ts";
import { FLUSH_DELAY_MS, type OutboxState } from "../cursor-outbox.ts";
import type { EventSink } from "./outbox.ts";
import { assembleRoom, type RoomParts } from "./parts.ts";
import type { Task } from "./schedule.ts";
import { shardOf } from "./shard-index.ts";
import { auditEntriesOf } from "../audit/room-entries.ts";
import { attachmentOf, close, send, type Attachment } from "./sockets.ts";
import type { LiveEngine } from "./graphql-sockets.ts";
import { accountKey } from "../identity/refresh-token.ts";

const PING = JSON.stringify({ type: "ping" });
const PONG = JSON.stringify({ type: "pong" });

const notFound = { ok: false, error: { code: "not_found", message: "no such room" } } as const;
const refusedUpgrade = (error: Refusal) =>
  Response.json({ error }, { status: ERROR_STATUS[error.code] });
const refused = (error: Refusal) => ({ ok: false, error }) as const;

/**
 * One chat room. Thin on purpose: it moves frames between sockets and storage; how it is put
 * together is parts.ts, the rules live in decide.ts, the write path in command-flow.ts, who hears
 * what in audience.ts, the tables in schema.ts/project.ts, the queries in read-model.ts.
 */
export class Room extends DurableObject<Env> {
  readonly #p: RoomParts;
  // Memory only: lost on hibernation, which merely refills the buckets.
  readonly #gate = new FrameGate();

  /**
   * Wired by the worker's entry: `sink`, where the outbox sends the log on to (Postgres); `live`,
   * GraphQL for the room's subscription sockets.
   */
  constructor(ctx: DurableObjectState, env: Env, sink?: EventSink, live?: LiveEngine) {
    super(ctx, env);
    this.#p = assembleRoom(ctx, env, sink, live, {
      committed: (stored, now, keysStored) => this.#committed(stored, now, keysStored),
      info: () => this.#info(),
      admitReader: (actor) => this.#admitReader(actor),
    });
    // Answered by the runtime without waking the object, so idle rooms keep hibernating.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- RPC, called by the worker after it verified the caller's token ----

  async create(input: CreateRoom, actor: Actor): Promise<Result<RoomInfo>> {
    const decision = decideCreate(input, this.#p.read.room() !== undefined, actor);
    if (!decision.ok) return decision;
    this.#p.commands.commit(decision.events, actor);
    return { ok: true, value: this.#info()! };
  }

  async info(actor: Actor): Promise<Result<RoomInfo>> {
    return this.#deny(actor) ?? { ok: true, value: this.#info()! };
  }

  /** The members and their roles, and who is online, for anyone who may see the room. */
  async members(actor: Actor): Promise<Result<MemberList>> {
    const members = () => this.#p.read.members(Date.now());
    return (
      this.#deny(actor) ?? {
        ok: true,
        value: { members: members(), online: this.#p.audience.online() },
      }
    );
  }

  /** Who is banned, for moderators and above. */
  async bans(actor: Actor): Promise<Result<BanList>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "list_bans");
    return denied ?? { ok: true, value: { bans: this.#p.read.bans() } };
  }

  /**
   * Recomputes the room's hash chain from its stored events and checks it against the head
   * anchored outside the room: owners and admins (docs/audit.md).
   */
  async auditVerify(actor: Actor): Promise<Result<ChainReport>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "audit");
    return denied ?? { ok: true, value: await this.#p.audit.verify() };
  }

  /**
   * A page of the stored log as the chain sees it, for the export (owners and admins): one JSON
   * line per event, and the last seq in it (0 when the page is empty).
   */
  async auditPage(
    actor: Actor,
    after: number,
    limit: number,
  ): Promise<Result<{ lines: string[]; last: number }>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "audit");
    return denied ?? { ok: true, value: this.#p.audit.page(after, limit) };
  }

  /** `actor`'s standing here, for the worker's own permission check (src/protocol/permissions.ts). */
  async standing(actor: Actor): Promise<Result<Standing>> {
    return this.#deny(actor) ?? { ok: true, value: standingOf(this.#p.read.view()!, actor) };
  }

  /**
   * Closes the sockets of `userId`'s ended sessions (all of them without `sessionIds`) with 4401:
   * called by the user's account when they sign out, change their password or are deleted.
   */
  async endSessions(userId: string, sessionIds?: string[]): Promise<number> {
    const reason = "your session has ended";
    return this.#p.audience.closeUser(userId, CLOSE.tokenRevoked, reason, { sessionIds });
  }

  async events(actor: Actor, after: number, limit: number): Promise<Result<EventsPage>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    return {
      ok: true,
      value: { events: this.#p.log.range(after, limit), lastSeq: this.#p.log.lastSeq },
    };
  }

  async messages(
    actor: Actor,
    before: number | undefined,
    limit: number,
  ): Promise<Result<MessagesPage>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    return { ok: true, value: this.#p.read.messages(before, limit) };
  }

  /** The room as it was at a past moment (time-travel.ts), for anyone who may see it now. */
  async stateAt(
    actor: Actor,
    moment: Moment,
    page: { before?: number | undefined; limit: number },
  ): Promise<Result<RoomStateAt>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    const seq = this.#p.history.seqOf(moment);
    if (!seq.ok) return seq;
    return { ok: true, value: this.#p.history.stateAt(seq.value, page.before, page.limit) };
  }

  /** The HTTP twin of a WebSocket command, for bots and integrations: the same queue and rules. */
  async command(command: Command, actor: Actor): Promise<Result<{ seq: number }>> {
    const limited = this.#p.budget.spend(actor.id, Date.now());
    if (limited) return refused(limited);
    return new Promise((settle) => this.#p.commands.submit({ command, actor, settle }));
  }

  /** How far this room's log has reached Postgres: for the admin's backlog view. */
  async backlog(): Promise<{ lastSeq: number } & OutboxState> {
    return { lastSeq: this.#p.log.lastSeq, ...this.#p.outbox.state() };
  }

  // ---- RPC from the room's fan-out shards (shard.ts) ----

  /** The frames a socket handed over to a shard starts with: the same greeting as here. */
  async greeting(
    actor: Actor,
    since: number,
  ): Promise<Result<{ frames: ServerFrame[]; lastSeq: number }>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    const frames = this.#greeting({ id: actor.id, name: actor.name }, since);
    return { ok: true, value: { frames, lastSeq: this.#p.log.lastSeq } };
  }

  /** Someone's first socket on shard `index` opened, or their last one there closed. */
  async shardPresence(index: number, user: UserRef, online: boolean): Promise<void> {
    if (!this.#p.fanout.present(index, user, online)) return;
    const frame: ServerFrame = online
      ? { type: "presence", joined: user }
      : { type: "presence", left: { id: user.id } };
    this.#p.audience.signal(frame, { user: user.id });
    void this.#p.directory.push();
  }

  async typing(user: UserRef): Promise<void> {
    this.#p.audience.typing({ id: user.id, name: user.name }, Date.now());
  }

  async markRead(user: UserRef, seq: number): Promise<void> {
    this.#p.read.markRead(user.id, Math.min(seq, this.#p.log.lastSeq));
  }

  // ---- WebSockets (hibernation API) ----

  /**
   * A WebSocket upgrade from the worker: a chat socket (authenticated, joined, then kept here or
   * on its shard), or a GraphQL one (…/graphql).
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    if (new URL(request.url).pathname.endsWith("/graphql")) return this.#acceptLive(request);
    const user = Actor.safeParse(parseJson(request.headers.get(USER_HEADER)));
    if (!user.success)
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    const view = this.#p.read.view();
    const joined = view ? decideJoin(view, user.data) : undefined;
    if (!joined?.ok) return refusedUpgrade(joined?.error ?? notFound.error);
    const room = this.#p.read.room()!;
    // A sharded room's sockets are counted by their shard.
    if (room.shards === 0) {
      const over = await this.#p.quotas.admit(
        room.name,
        user.data.id,
        this.#p.sockets.of(user.data.id).length,
      );
      if (over) return refusedUpgrade(over);
    }
    this.#p.commands.commit(joined.events, user.data);
    if (room.shards > 0) {
      const index = shardOf(user.data.id, room.shards);
      return this.#p.fanout.handOver(request, user.data, { room: room.name, index });
    }
    return this.#accept(request, user.data);
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    if (this.#p.live.owns(ws)) return this.#p.live.receive(ws, data);
    const attachment = attachmentOf(ws);
    if (!attachment) return close(ws, CLOSE.protocolAbuse, "unknown connection");
    try {
      this.#receive(ws, attachment, data);
    } catch (error) {
      console.error("edgechat: room frame failed", error);
      send(ws, { type: "error", code: "internal", message: "something went wrong on our side" });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.#left(ws);
    // Complete the closing handshake; 1005/1006 are reserved and must not be sent.
    close(ws, code === 1005 || code === 1006 ? 1000 : code, "closed");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#left(ws);
  }

  // ---- Alarm: the schedule's tasks ----

  readonly #tasks: Record<Task, (now: number) => Promise<void> | void> = {
    "expire-commands": (now) => this.#expireCommands(now),
    "notify-directory": () => this.#p.directory.push(),
    flush: (now) => this.#flush(now),
  };

  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const task of this.#p.schedule.takeDue(now)) await this.#tasks[task](now);
  }

  // ---- internals ----

  #accept(request: Request, user: Actor): Response {
    const protocol = chooseSubprotocol(request.headers);
    const firstConnection = !this.#p.sockets.of(user.id).length;
    const { 0: client, 1: server } = new WebSocketPair();
    this.#p.sockets.accept(server, user, protocol === BATCH_SUBPROTOCOL);
    const you = { id: user.id, name: user.name };
    const since = Number(new URL(request.url).searchParams.get("since") ?? NaN);
    for (const frame of this.#greeting(you, since)) send(server, frame);
    if (firstConnection)
      this.#p.audience.signal({ type: "presence", joined: you }, { user: you.id, ws: server });
    void this.#p.directory.push();
    const headers = protocol ? { "sec-websocket-protocol": protocol } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** A GraphQL socket; with a user the worker verified, admitted now, else at connection_init. */
  async #acceptLive(request: Request): Promise<Response> {
    const header = request.headers.get(USER_HEADER);
    const user = header === null ? undefined : Actor.safeParse(parseJson(header)).data;
    if (header !== null && !user)
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    const refused = user && (await this.#admitReader(user));
    if (refused) return refusedUpgrade(refused);
    const { 0: client, 1: server } = new WebSocketPair();
    this.#p.live.accept(server, user);
    const headers = { "sec-websocket-protocol": GRAPHQL_SUBPROTOCOL };
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /**
   * Whether `actor` may subscribe here: who may read the room, within their open sockets (chat
   * and GraphQL together). Their account learns of the room first, so that signing out closes
   * the socket too.
   */
  async #admitReader(actor: Actor): Promise<Refusal | undefined> {
    const denied = this.#deny(actor);
    if (denied) return denied.error;
    const room = this.#p.read.room()!.name;
    const here = this.#p.sockets.of(actor.id).length + this.#p.live.of(actor.id).length;
    const over = await this.#p.quotas.admit(room, actor.id, here);
    if (over) return over;
    if (actor.kind === "user")
      await this.env.ACCOUNT.getByName(accountKey(actor.name)).noteRoom(room);
    return undefined;
  }

  #greeting(you: UserRef, since: number): ServerFrame[] {
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

  #receive(ws: WebSocket, { user, connId }: Attachment, data: string | ArrayBuffer): void {
    const now = Date.now();
    const verdict = this.#gate.admit(connId, data, now);
    if (verdict.kind === "close") return close(ws, verdict.code, verdict.reason);
    if (verdict.kind === "refuse") return send(ws, verdict.error);
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
        if (!limited) return this.#p.commands.submit({ command: frame, actor: user, ws });
        const { code, message, retryAfter = 0 } = limited;
        const retryAfterMs = Math.ceil(retryAfter * 1000);
        return send(ws, { type: "error", code, message, clientId: frame.clientId, retryAfterMs });
      }
    }
  }

  /** What committed events cause beyond the log: removals, key expiry, the flush, the directory. */
  #committed(stored: readonly RoomEvent[], now: number, keysStored: boolean): void {
    if (keysStored) this.#p.schedule.at("expire-commands", now + COMMAND_TTL_MS);
    if (stored.length === 0) return;
    this.#p.audit.committed();
    this.#p.instanceAudit.record(auditEntriesOf(this.#p.read.room()!.name, stored));
    const visibility = this.#p.read.room()?.visibility;
    if (visibility) this.#p.audience.removeLostAccess(stored, visibility);
    if (this.#p.outbox.enabled) this.#p.schedule.at("flush", now + FLUSH_DELAY_MS);
    if (changesSummary(stored)) void this.#p.directory.push();
    for (const event of stored)
      if (event.type === "room.ownership_transferred")
        this.#p.quotas.handedOver(this.#p.read.room()!.name, event.data.userId, event.data.from);
  }

  /** The refusal for someone who may not see this room (or for a room never created). */
  #deny(actor: Actor): { ok: false; error: Refusal } | undefined {
    const view = this.#p.read.view();
    if (!view) return notFound;
    const denied = denyAccess(view, actor);
    return denied && refused(denied);
  }

  /** The refusal for someone whose standing here does not allow `action`. */
  #refuse(actor: Actor, action: Action): { ok: false; error: Refusal } | undefined {
    const denied = refusal(standingOf(this.#p.read.view()!, actor), action);
    return denied && refused(denied);
  }

  #left(ws: WebSocket): void {
    if (this.#p.live.owns(ws)) return this.#leftLive(ws);
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

  /** A GraphQL socket closed: its user has one socket fewer open here. */
  #leftLive(ws: WebSocket): void {
    const user = this.#p.live.closed(ws);
    const room = this.#p.read.room()?.name;
    if (!user || !room) return;
    const others = this.#p.live.of(user.id).filter((other) => other !== ws).length;
    this.#p.quotas.left(room, user.id, others + this.#p.sockets.of(user.id).length);
  }

  #info(): RoomInfo | undefined {
    return this.#p.read.info(this.#p.log.lastSeq, this.#p.audience.online().length);
  }

  /** One batch to Postgres; more batches or a retry are put back on the schedule. */
  async #flush(now: number): Promise<void> {
    if (!this.#p.read.room()) return;
    const next = await this.#p.outbox.flush(now);
    if (next !== undefined) this.#p.schedule.at("flush", next);
  }

  #expireCommands(now: number): void {
    const next = this.#p.keys.expire(now);
    if (next !== undefined) this.#p.schedule.at("expire-commands", next);
  }
}
