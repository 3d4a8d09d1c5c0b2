import { DurableObject } from "cloudflare:workers";
import {
  BATCH_SUBPROTOCOL,
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
import { DirectoryFeed } from "../directory/notify.ts";
import { Actor, USER_HEADER } from "../identity/actor.ts";
import { Audience } from "./audience.ts";
import { CommandFlow } from "./command-flow.ts";
import { decideCreate, decideJoin, denyAccess, standingOf } from "./decide.ts";
import { changesSummary } from "./effects.ts";
import { FrameGate } from "./frame-gate.ts";
import { greetingFrames } from "./greeting.ts";
import { COMMAND_TTL_MS, IdempotencyKeys } from "./idempotency.ts";
import { parseJson } from "./json.ts";
import { backfillChain, EventLog } from "./log.ts";
import { FLUSH_DELAY_MS, Outbox, type EventSink, type OutboxState } from "./outbox.ts";
import { ReadModel } from "./read-model.ts";
import { Schedule, type Task } from "./schedule.ts";
import { migrate } from "./schema.ts";
import { rebuildProjections } from "./project.ts";
import { roomSettings } from "./settings.ts";
import { ShardFanout } from "./shard-fanout.ts";
import { shardOf } from "./shard-index.ts";
import { CommandBudget } from "./rate-limit.ts";
import { RoomAudit } from "./audit.ts";
import { INSTANCE_AUDIT_NAME, InstanceAuditFeed } from "../audit/feed.ts";
import { auditEntriesOf } from "../audit/room-entries.ts";
import { TimeTravel } from "./time-travel.ts";
import { UserQuotas } from "./user-quotas.ts";
import { attachmentOf, close, Connections, send, type Attachment } from "./sockets.ts";

/** Frames one group-commit turn may send, at most: it bounds how long a turn holds the thread. */
const TURN_DELIVERIES = 4000;

const PING = JSON.stringify({ type: "ping" });
const PONG = JSON.stringify({ type: "pong" });

const notFound = { ok: false, error: { code: "not_found", message: "no such room" } } as const;
const refusedUpgrade = (error: Refusal) =>
  Response.json({ error }, { status: ERROR_STATUS[error.code] });
const refused = (error: Refusal) => ({ ok: false, error }) as const;

/**
 * One chat room. Thin on purpose: it moves frames between sockets and storage; the rules live
 * in decide.ts, the write path in command-flow.ts, who hears what in audience.ts, the tables in
 * schema.ts/project.ts, the queries in read-model.ts.
 */
export class Room extends DurableObject<Env> {
  readonly #log: EventLog;
  readonly #read: ReadModel;
  readonly #schedule: Schedule;
  readonly #outbox: Outbox;
  readonly #keys: IdempotencyKeys;
  // Memory only: lost on hibernation, which merely refills the buckets.
  readonly #gate = new FrameGate();
  readonly #sockets: Connections;
  readonly #fanout: ShardFanout;
  readonly #audience: Audience;
  readonly #commands: CommandFlow;
  readonly #directory: DirectoryFeed;
  readonly #quotas: UserQuotas;
  readonly #audit: RoomAudit;
  readonly #instanceAudit: InstanceAuditFeed;
  readonly #budget: CommandBudget;
  readonly #history: TimeTravel;

  /** `sink`: where the outbox sends the log on to (Postgres), wired by the worker's entry. */
  constructor(ctx: DurableObjectState, env: Env, sink?: EventSink) {
    super(ctx, env);
    const { rebuild } = migrate(ctx.storage);
    backfillChain(ctx.storage);
    const settings = roomSettings(env);
    this.#read = new ReadModel(ctx.storage.sql, settings.limits.invites);
    this.#log = new EventLog(ctx.storage.sql, this.#read);
    if (rebuild) rebuildProjections(ctx.storage, () => this.#log.all());
    this.#history = new TimeTravel(ctx.storage.sql, () => this.#log.lastSeq);
    this.#schedule = new Schedule(ctx.storage);
    this.#sockets = new Connections(ctx, settings.slowConsumerEvents);
    this.#fanout = new ShardFanout(
      ctx.storage.sql,
      () => this.#read.room()?.shards,
      (index) => env.ROOM_SHARD.getByName(`${this.#read.room()!.name}/shard-${index}`),
      (work) => ctx.waitUntil(work),
    );
    this.#audience = new Audience(this.#sockets, this.#fanout);
    this.#outbox = new Outbox(ctx.storage.sql, this.#log, sink);
    this.#keys = new IdempotencyKeys(ctx.storage.sql);
    this.#commands = new CommandFlow({
      storage: ctx.storage,
      log: this.#log,
      read: this.#read,
      keys: this.#keys,
      audience: this.#audience,
      limits: settings.queue,
      deliveryLagMs: (now) => this.#sockets.lag.lagMs(now),
      // About 140 ms of sends at the measured ~35 µs a frame (docs/scaling.md), whatever the
      // room's size: a room of 100 plain-v1 sockets takes 40 commands a turn.
      turnSize: () => TURN_DELIVERIES / Math.max(1, ctx.getWebSockets().length),
      committed: (stored, now, keysStored) => this.#committed(stored, now, keysStored),
    });
    this.#budget = new CommandBudget(settings.limits.commands);
    this.#audit = new RoomAudit(
      this.#log,
      () => env.AUDIT_ANCHOR.getByName(this.#read.room()!.name),
      (work) => ctx.waitUntil(work),
    );
    this.#instanceAudit = new InstanceAuditFeed(
      (entries) => env.INSTANCE_AUDIT.getByName(INSTANCE_AUDIT_NAME).record(entries),
      (work) => ctx.waitUntil(work),
    );
    this.#quotas = new UserQuotas(
      (userId) => env.USER_LIMITS.getByName(userId),
      { perRoom: settings.limits.socketsPerRoom, perUser: settings.limits.socketsPerUser },
      (work) => ctx.waitUntil(work),
    );
    this.#directory = new DirectoryFeed(
      env,
      () => this.#info(),
      (at) => this.#schedule.at("notify-directory", at),
    );
    // Answered by the runtime without waking the object, so idle rooms keep hibernating.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- RPC, called by the worker after it verified the caller's token ----

  async create(input: CreateRoom, actor: Actor): Promise<Result<RoomInfo>> {
    const decision = decideCreate(input, this.#read.room() !== undefined, actor);
    if (!decision.ok) return decision;
    this.#commands.commit(decision.events, actor);
    return { ok: true, value: this.#info()! };
  }

  async info(actor: Actor): Promise<Result<RoomInfo>> {
    return this.#deny(actor) ?? { ok: true, value: this.#info()! };
  }

  /** The members and their roles, for anyone who may see the room. */
  async members(actor: Actor): Promise<Result<MemberList>> {
    return this.#deny(actor) ?? { ok: true, value: { members: this.#read.members(Date.now()) } };
  }

  /** Who is banned, for moderators and above. */
  async bans(actor: Actor): Promise<Result<BanList>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "list_bans");
    return denied ?? { ok: true, value: { bans: this.#read.bans() } };
  }

  /**
   * Recomputes the room's hash chain from its stored events and checks it against the head
   * anchored outside the room: owners and admins (docs/audit.md).
   */
  async auditVerify(actor: Actor): Promise<Result<ChainReport>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "audit");
    return denied ?? { ok: true, value: await this.#audit.verify() };
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
    return denied ?? { ok: true, value: this.#audit.page(after, limit) };
  }

  /** `actor`'s standing here, for the worker's own permission check (src/protocol/permissions.ts). */
  async standing(actor: Actor): Promise<Result<Standing>> {
    return this.#deny(actor) ?? { ok: true, value: standingOf(this.#read.view()!, actor) };
  }

  /**
   * Closes the sockets of `userId`'s ended sessions (all of them without `sessionIds`) with 4401:
   * called by the user's account when they sign out, change their password or are deleted.
   */
  async endSessions(userId: string, sessionIds?: string[]): Promise<number> {
    const reason = "your session has ended";
    return this.#audience.closeUser(userId, CLOSE.tokenRevoked, reason, { sessionIds });
  }

  async events(actor: Actor, after: number, limit: number): Promise<Result<EventsPage>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    return {
      ok: true,
      value: { events: this.#log.range(after, limit), lastSeq: this.#log.lastSeq },
    };
  }

  async messages(
    actor: Actor,
    before: number | undefined,
    limit: number,
  ): Promise<Result<MessagesPage>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    return { ok: true, value: this.#read.messages(before, limit) };
  }

  /** The room as it was at a past moment (time-travel.ts), for anyone who may see it now. */
  async stateAt(
    actor: Actor,
    moment: Moment,
    page: { before?: number | undefined; limit: number },
  ): Promise<Result<RoomStateAt>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    const seq = this.#history.seqOf(moment);
    if (!seq.ok) return seq;
    return { ok: true, value: this.#history.stateAt(seq.value, page.before, page.limit) };
  }

  /** The HTTP twin of a WebSocket command, for bots and integrations: the same queue and rules. */
  async command(command: Command, actor: Actor): Promise<Result<{ seq: number }>> {
    const limited = this.#budget.spend(actor.id, Date.now());
    if (limited) return refused(limited);
    return new Promise((settle) => this.#commands.submit({ command, actor, settle }));
  }

  /** How far this room's log has reached Postgres: for the admin's backlog view. */
  async backlog(): Promise<{ lastSeq: number } & OutboxState> {
    return { lastSeq: this.#log.lastSeq, ...this.#outbox.state() };
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
    return { ok: true, value: { frames, lastSeq: this.#log.lastSeq } };
  }

  /** Someone's first socket on shard `index` opened, or their last one there closed. */
  async shardPresence(index: number, user: UserRef, online: boolean): Promise<void> {
    if (!this.#fanout.present(index, user, online)) return;
    const frame: ServerFrame = online
      ? { type: "presence", joined: user }
      : { type: "presence", left: { id: user.id } };
    this.#audience.signal(frame, { user: user.id });
    void this.#directory.push();
  }

  async typing(user: UserRef): Promise<void> {
    this.#audience.typing({ id: user.id, name: user.name }, Date.now());
  }

  async markRead(user: UserRef, seq: number): Promise<void> {
    this.#read.markRead(user.id, Math.min(seq, this.#log.lastSeq));
  }

  // ---- WebSockets (hibernation API) ----

  /** A WebSocket upgrade the worker authenticated: joined, then kept here or on its shard. */
  override async fetch(request: Request): Promise<Response> {
    const user = Actor.safeParse(parseJson(request.headers.get(USER_HEADER)));
    if (!user.success || request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    }
    const view = this.#read.view();
    const joined = view ? decideJoin(view, user.data) : undefined;
    if (!joined?.ok) return refusedUpgrade(joined?.error ?? notFound.error);
    const room = this.#read.room()!;
    // A sharded room's sockets are counted by their shard.
    if (room.shards === 0) {
      const over = await this.#quotas.admit(
        room.name,
        user.data.id,
        this.#sockets.of(user.data.id).length,
      );
      if (over) return refusedUpgrade(over);
    }
    this.#commands.commit(joined.events, user.data);
    if (room.shards > 0) {
      const index = shardOf(user.data.id, room.shards);
      return this.#fanout.handOver(request, user.data, { room: room.name, index });
    }
    return this.#accept(request, user.data);
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
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
    "notify-directory": () => this.#directory.push(),
    flush: (now) => this.#flush(now),
  };

  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const task of this.#schedule.takeDue(now)) await this.#tasks[task](now);
  }

  // ---- internals ----

  #accept(request: Request, user: Actor): Response {
    const protocol = chooseSubprotocol(request.headers);
    const firstConnection = !this.#sockets.of(user.id).length;
    const { 0: client, 1: server } = new WebSocketPair();
    this.#sockets.accept(server, user, protocol === BATCH_SUBPROTOCOL);
    const you = { id: user.id, name: user.name };
    const since = Number(new URL(request.url).searchParams.get("since") ?? NaN);
    for (const frame of this.#greeting(you, since)) send(server, frame);
    if (firstConnection)
      this.#audience.signal({ type: "presence", joined: you }, { user: you.id, ws: server });
    void this.#directory.push();
    const headers = protocol ? { "sec-websocket-protocol": protocol } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  #greeting(you: UserRef, since: number): ServerFrame[] {
    return greetingFrames({
      room: this.#read.room()!.name,
      you,
      lastSeq: this.#log.lastSeq,
      online: this.#audience.online(),
      readSeq: this.#read.readSeq(you.id),
      since,
      range: (after, limit) => this.#log.range(after, limit),
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
        return this.#audience.typing({ id: user.id, name: user.name }, now, ws);
      case "received":
        return this.#sockets.received(ws, frame.seq, now);
      case "read":
        return this.#read.markRead(user.id, Math.min(frame.seq, this.#log.lastSeq));
      default: {
        const limited = this.#budget.spend(user.id, now);
        if (!limited) return this.#commands.submit({ command: frame, actor: user, ws });
        const { code, message, retryAfter = 0 } = limited;
        const retryAfterMs = Math.ceil(retryAfter * 1000);
        return send(ws, { type: "error", code, message, clientId: frame.clientId, retryAfterMs });
      }
    }
  }

  /** What committed events cause beyond the log: removals, key expiry, the flush, the directory. */
  #committed(stored: readonly RoomEvent[], now: number, keysStored: boolean): void {
    if (keysStored) this.#schedule.at("expire-commands", now + COMMAND_TTL_MS);
    if (stored.length === 0) return;
    this.#audit.committed();
    this.#instanceAudit.record(auditEntriesOf(this.#read.room()!.name, stored));
    const visibility = this.#read.room()?.visibility;
    if (visibility) this.#audience.removeLostAccess(stored, visibility);
    if (this.#outbox.enabled) this.#schedule.at("flush", now + FLUSH_DELAY_MS);
    if (changesSummary(stored)) void this.#directory.push();
    for (const event of stored)
      if (event.type === "room.ownership_transferred")
        this.#quotas.handedOver(this.#read.room()!.name, event.data.userId, event.data.from);
  }

  /** The refusal for someone who may not see this room (or for a room never created). */
  #deny(actor: Actor): { ok: false; error: Refusal } | undefined {
    const view = this.#read.view();
    if (!view) return notFound;
    const denied = denyAccess(view, actor);
    return denied && refused(denied);
  }

  /** The refusal for someone whose standing here does not allow `action`. */
  #refuse(actor: Actor, action: Action): { ok: false; error: Refusal } | undefined {
    const denied = refusal(standingOf(this.#read.view()!, actor), action);
    return denied && refused(denied);
  }

  #left(ws: WebSocket): void {
    const attachment = attachmentOf(ws);
    if (!attachment) return;
    this.#gate.forget(attachment.connId);
    this.#sockets.lag.forget(attachment.connId);
    const { id } = attachment.user;
    const stillOpen = this.#sockets.of(id).filter((other) => other !== ws).length;
    this.#quotas.left(this.#read.room()!.name, id, stillOpen);
    if (stillOpen > 0) return;
    this.#audience.signal({ type: "presence", left: { id } }, { user: id, ws });
    void this.#directory.push();
  }

  #info(): RoomInfo | undefined {
    return this.#read.info(this.#log.lastSeq, this.#audience.online().length);
  }

  /** One batch to Postgres; more batches or a retry are put back on the schedule. */
  async #flush(now: number): Promise<void> {
    const room = this.#read.room()?.name;
    if (!room) return;
    const next = await this.#outbox.flush(room, now);
    if (next !== undefined) this.#schedule.at("flush", next);
  }

  #expireCommands(now: number): void {
    const next = this.#keys.expire(now);
    if (next !== undefined) this.#schedule.at("expire-commands", next);
  }
}
