import { DurableObject } from "cloudflare:workers";
import {
  CLOSE,
  LIMITS,
  SUBPROTOCOL,
  ERROR_STATUS,
  type Command,
  type MemberList,
  type CreateRoom,
  type EventsPage,
  type MessagesPage,
  type NewEvent,
  type Refusal,
  type Result,
  type RoomEvent,
  type RoomInfo,
  type UserRef,
} from "../protocol/index.ts";
import { DirectoryFeed } from "../directory/notify.ts";
import {
  decide,
  decideCreate,
  decideJoin,
  denyAccess,
  lostAccess,
  rankOf,
  type Decision,
} from "./decide.ts";
import { FrameGate } from "./frame-gate.ts";
import { EventLog } from "./log.ts";
import { TYPING_INTERVAL_MS } from "./rate-limit.ts";
import { COMMAND_TTL_MS, IdempotencyKeys } from "./idempotency.ts";
import { FLUSH_DELAY_MS, Outbox, type OutboxState } from "./outbox.ts";
import { ReadModel } from "./read-model.ts";
import { Schedule } from "./schedule.ts";
import { migrate } from "./schema.ts";
import { Actor } from "./actor.ts";
import { attachmentOf, close, Connections, send, type Attachment } from "./sockets.ts";

/** The header through which the worker hands the verified user to the object. */
export const USER_HEADER = "x-edgechat-user";
const PING = JSON.stringify({ type: "ping" });
const PONG = JSON.stringify({ type: "pong" });

const notFound = { ok: false, error: { code: "not_found", message: "no such room" } } as const;

/**
 * One chat room. Thin on purpose: it moves frames between sockets and storage; the rules live
 * in decide.ts, the tables in schema.ts/project.ts, the queries in read-model.ts.
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
  readonly #typingAt = new Map<string, number>();
  readonly #directory: DirectoryFeed;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage);
    this.#log = new EventLog(ctx.storage.sql);
    this.#read = new ReadModel(ctx.storage.sql);
    this.#schedule = new Schedule(ctx.storage);
    this.#sockets = new Connections(ctx);
    this.#outbox = new Outbox(ctx.storage.sql, this.#log, env);
    this.#keys = new IdempotencyKeys(ctx.storage.sql);
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
    this.#commit(decision.events, actor);
    return { ok: true, value: this.#info()! };
  }

  async info(actor: Actor): Promise<Result<RoomInfo>> {
    return this.#deny(actor) ?? { ok: true, value: this.#info()! };
  }

  /** The members and their roles, for anyone who may see the room. */
  async members(actor: Actor): Promise<Result<MemberList>> {
    return this.#deny(actor) ?? { ok: true, value: { members: this.#read.members(Date.now()) } };
  }

  /** How much say `actor` has here (see rankOf), for the worker's own check before a command. */
  async rank(actor: Actor): Promise<Result<number>> {
    return this.#deny(actor) ?? { ok: true, value: rankOf(this.#read.view()!, actor) };
  }

  /**
   * Closes the sockets of `userId`'s ended sessions (all of them without `sessionIds`) with 4401:
   * called by the user's account when they sign out, change their password or are deleted.
   */
  async endSessions(userId: string, sessionIds?: string[]): Promise<number> {
    const ended = ({ user }: Attachment) =>
      !sessionIds || (user.sid !== undefined && sessionIds.includes(user.sid));
    return this.#sockets.closeUser(userId, CLOSE.tokenRevoked, "your session has ended", ended);
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

  /** The HTTP twin of a WebSocket command, for bots and integrations. */
  async command(command: Command, actor: Actor): Promise<Result<{ seq: number }>> {
    const outcome = this.#execute(command, actor);
    return outcome.ok ? { ok: true, value: { seq: outcome.seq } } : outcome;
  }

  // ---- WebSockets (hibernation API) ----

  override async fetch(request: Request): Promise<Response> {
    const user = Actor.safeParse(JSON.parse(request.headers.get(USER_HEADER) ?? "null"));
    if (!user.success || request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    }
    const view = this.#read.view();
    const joined = view ? decideJoin(view, user.data) : undefined;
    if (!joined?.ok) {
      const error = joined?.error ?? notFound.error;
      return Response.json({ error }, { status: ERROR_STATUS[error.code] });
    }
    this.#commit(joined.events, user.data);

    const firstConnection = !this.#sockets.of(user.data.id).length;
    const { 0: client, 1: server } = new WebSocketPair();
    this.#sockets.accept(server, user.data);
    const you = { id: user.data.id, name: user.data.name };
    this.#greet(server, you, Number(new URL(request.url).searchParams.get("since") ?? NaN));
    if (firstConnection) this.#sockets.broadcast({ type: "presence", joined: you }, server);
    void this.#directory.push();

    const asked = (request.headers.get("sec-websocket-protocol") ?? "")
      .split(",")
      .map((p) => p.trim());
    const headers = asked.includes(SUBPROTOCOL)
      ? { "sec-websocket-protocol": SUBPROTOCOL }
      : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
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

  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const task of this.#schedule.takeDue(now)) {
      if (task === "expire-commands") this.#expireCommands(now);
      if (task === "notify-directory") await this.#directory.push();
      if (task === "flush") await this.#flush(now);
    }
  }

  // ---- internals ----

  #receive(ws: WebSocket, { user, connId }: Attachment, data: string | ArrayBuffer): void {
    const now = Date.now();
    const verdict = this.#gate.admit(connId, data, now);
    if (verdict.kind === "close") return close(ws, verdict.code, verdict.reason);
    if (verdict.kind === "refuse") return send(ws, verdict.error);
    const frame = verdict.frame;
    switch (frame.type) {
      case "ping":
        return send(ws, PONG);
      case "typing":
        return this.#typing(ws, user, now);
      case "read":
        return this.#read.markRead(user.id, Math.min(frame.seq, this.#log.lastSeq));
      default: {
        const outcome = this.#execute(frame, user, ws);
        if (!outcome.ok) send(ws, { type: "error", ...outcome.error, clientId: frame.clientId });
      }
    }
  }

  /**
   * The command path: idempotency check → pure decision → one transaction → ack → broadcast.
   * Synchronous from decision to write, so no other event interleaves (no input gate opens).
   */
  #execute(
    command: Command,
    actor: Actor,
    ws?: WebSocket,
  ): { ok: true; seq: number } | { ok: false; error: Refusal } {
    const view = this.#read.view();
    if (!view) return notFound;
    // Before the idempotency lookup: a replayed clientId must not be acked to someone who lost
    // access (a banned user, or anyone outside a private room, to whom it does not exist).
    const denied = denyAccess(view, actor);
    if (denied) return { ok: false, error: denied };
    const now = Date.now();
    const prior = this.#keys.find(actor.id, command.clientId, now);
    if (prior !== undefined) {
      if (ws) send(ws, { type: "ack", clientId: command.clientId, seq: prior });
      return { ok: true, seq: prior };
    }
    const decision: Decision = decide(command, actor, view, now);
    if (!decision.ok) return decision;
    const stored = this.#commit(
      decision.events,
      actor,
      () =>
        this.#keys.remember(
          actor.id,
          command.clientId,
          this.#log.lastSeq + decision.events.length,
          now,
        ),
      ws && (() => send(ws, { type: "ack", clientId: command.clientId, seq: this.#log.lastSeq })),
    );
    this.#schedule.at("expire-commands", now + COMMAND_TTL_MS);
    return { ok: true, seq: stored.at(-1)?.seq ?? this.#log.lastSeq };
  }

  /** Appends and projects `events` (plus `alsoWrite`) in one transaction, then acks and broadcasts. */
  #commit(
    events: readonly NewEvent[],
    actor: UserRef,
    alsoWrite?: () => void,
    ack?: () => void,
  ): RoomEvent[] {
    const stored = this.ctx.storage.transactionSync(() => {
      const appended = this.#log.append(events, actor, Date.now());
      alsoWrite?.();
      return appended;
    });
    this.#log.committed(stored);
    // The output gate holds these sends until the transaction is durable: an ack means stored.
    ack?.();
    for (const event of stored) this.#sockets.broadcast({ type: "event", event });
    this.#removeLostAccess(stored);
    if (stored.length > 0 && this.#outbox.enabled)
      this.#schedule.at("flush", Date.now() + FLUSH_DELAY_MS);
    if (stored.some((e) => e.type.startsWith("member.") || e.type.startsWith("room.")))
      void this.#directory.push();
    return stored;
  }

  /** Welcome, then the missed events (at most 1000, after a gap frame), before anything live. */
  #greet(ws: WebSocket, user: UserRef, since: number): void {
    const lastSeq = this.#log.lastSeq;
    const online = this.#sockets.online();
    send(ws, {
      type: "welcome",
      room: this.#read.room()!.name,
      you: user,
      lastSeq,
      online,
      readSeq: this.#read.readSeq(user.id),
    });
    if (!Number.isSafeInteger(since) || since < 0 || since >= lastSeq) return;
    const after = Math.max(since, lastSeq - LIMITS.resumeMax);
    if (after > since) send(ws, { type: "gap", after: since, before: after + 1 });
    for (const event of this.#log.range(after, LIMITS.resumeMax))
      send(ws, { type: "event", event });
  }

  /** The refusal for someone who may not see this room (or for a room never created). */
  #deny(actor: Actor): { ok: false; error: Refusal } | undefined {
    const view = this.#read.view();
    if (!view) return notFound;
    const denied = denyAccess(view, actor);
    return denied && { ok: false, error: denied };
  }

  /** Sockets of people who lost access with these events are closed with 4403 (admins keep theirs). */
  #removeLostAccess(events: readonly RoomEvent[]): void {
    const visibility = this.#read.room()?.visibility;
    if (!visibility) return;
    for (const { userId, banned } of lostAccess(events, visibility)) {
      const reason = banned ? "you were banned" : "you were removed from the room";
      this.#sockets.closeUser(userId, CLOSE.removed, reason, ({ user }) => !user.admin);
    }
  }

  #typing(ws: WebSocket, user: UserRef, now: number): void {
    if (now - (this.#typingAt.get(user.id) ?? 0) < TYPING_INTERVAL_MS) return;
    this.#typingAt.set(user.id, now);
    this.#sockets.broadcast({ type: "typing", user }, ws);
  }

  #left(ws: WebSocket): void {
    const attachment = attachmentOf(ws);
    if (!attachment) return;
    this.#gate.forget(attachment.connId);
    if (this.#sockets.of(attachment.user.id).some((other) => other !== ws)) return;
    this.#sockets.broadcast({ type: "presence", left: { id: attachment.user.id } }, ws);
    void this.#directory.push();
  }

  #info(): RoomInfo | undefined {
    return this.#read.info(this.#log.lastSeq, this.#sockets.online().length);
  }

  /** One batch to Postgres; more batches or a retry are put back on the schedule. */
  async #flush(now: number): Promise<void> {
    const room = this.#read.room()?.name;
    if (!room) return;
    const next = await this.#outbox.flush(room, now);
    if (next !== undefined) this.#schedule.at("flush", next);
  }

  /** How far this room's log has reached Postgres: for the admin's backlog view. */
  async backlog(): Promise<{ lastSeq: number } & OutboxState> {
    return { lastSeq: this.#log.lastSeq, ...this.#outbox.state() };
  }

  #expireCommands(now: number): void {
    const next = this.#keys.expire(now);
    if (next !== undefined) this.#schedule.at("expire-commands", next);
  }
}
