import { DurableObject } from "cloudflare:workers";
import {
  CLOSE,
  LIMITS,
  ERROR_STATUS,
  offersSubprotocol,
  SUBPROTOCOL,
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
  type Standing,
  type UserRef,
} from "../protocol/index.ts";
import { DirectoryFeed } from "../directory/notify.ts";
import { Actor, USER_HEADER } from "../identity/actor.ts";
import { decide, decideCreate, decideJoin, denyAccess, standingOf } from "./decide.ts";
import { changesSummary, lostAccess } from "./effects.ts";
import { FrameGate } from "./frame-gate.ts";
import { EventLog } from "./log.ts";
import { TYPING_INTERVAL_MS } from "./rate-limit.ts";
import { COMMAND_TTL_MS, IdempotencyKeys } from "./idempotency.ts";
import { FLUSH_DELAY_MS, Outbox, type EventSink, type OutboxState } from "./outbox.ts";
import { ReadModel } from "./read-model.ts";
import { Schedule, type Task } from "./schedule.ts";
import { migrate } from "./schema.ts";
import { attachmentOf, close, Connections, send, type Attachment } from "./sockets.ts";

const PING = JSON.stringify({ type: "ping" });
const PONG = JSON.stringify({ type: "pong" });

const notFound = { ok: false, error: { code: "not_found", message: "no such room" } } as const;
const refused = (error: Refusal) => ({ ok: false, error }) as const;

/** A command's idempotency key and, for a socket, where its ack goes. */
type Origin = { clientId: string; ws: WebSocket | undefined };

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

  /** `sink`: where the outbox sends the log on to (Postgres), wired by the worker's entry. */
  constructor(ctx: DurableObjectState, env: Env, sink?: EventSink) {
    super(ctx, env);
    migrate(ctx.storage);
    this.#log = new EventLog(ctx.storage.sql);
    this.#read = new ReadModel(ctx.storage.sql);
    this.#schedule = new Schedule(ctx.storage);
    this.#sockets = new Connections(ctx);
    this.#outbox = new Outbox(ctx.storage.sql, this.#log, sink);
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
    this.#commit(decision.events, actor, Date.now());
    return { ok: true, value: this.#info()! };
  }

  async info(actor: Actor): Promise<Result<RoomInfo>> {
    return this.#deny(actor) ?? { ok: true, value: this.#info()! };
  }

  /** The members and their roles, for anyone who may see the room. */
  async members(actor: Actor): Promise<Result<MemberList>> {
    return this.#deny(actor) ?? { ok: true, value: { members: this.#read.members(Date.now()) } };
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
    return this.#execute(command, actor);
  }

  // ---- WebSockets (hibernation API) ----

  override async fetch(request: Request): Promise<Response> {
    const user = Actor.safeParse(parseJson(request.headers.get(USER_HEADER)));
    if (!user.success || request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    }
    const view = this.#read.view();
    const joined = view ? decideJoin(view, user.data) : undefined;
    if (!joined?.ok) {
      const error = joined?.error ?? notFound.error;
      return Response.json({ error }, { status: ERROR_STATUS[error.code] });
    }
    this.#commit(joined.events, user.data, Date.now());

    const firstConnection = !this.#sockets.of(user.data.id).length;
    const { 0: client, 1: server } = new WebSocketPair();
    this.#sockets.accept(server, user.data);
    const you = { id: user.data.id, name: user.data.name };
    this.#greet(server, you, Number(new URL(request.url).searchParams.get("since") ?? NaN));
    if (firstConnection) this.#sockets.broadcast({ type: "presence", joined: you }, server);
    void this.#directory.push();

    const headers = offersSubprotocol(request.headers)
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
   * The command path: access → idempotency lookup → pure decision → one transaction → ack →
   * broadcast. Synchronous from decision to write, so no other event interleaves (no input gate
   * opens); the seq that the key stores and the ack carries comes from the write itself.
   */
  #execute(command: Command, actor: Actor, ws?: WebSocket): Result<{ seq: number }> {
    const view = this.#read.view();
    if (!view) return notFound;
    // Once, and before the idempotency lookup: a replayed clientId must not be acked to someone
    // who lost access (a banned user, or anyone outside a private room, to whom it does not exist).
    const denied = denyAccess(view, actor);
    if (denied) return refused(denied);
    const now = Date.now();
    const origin = { clientId: command.clientId, ws };
    const prior = this.#keys.find(actor.id, command.clientId, now);
    if (prior !== undefined) {
      this.#ack(origin, prior);
      return { ok: true, value: { seq: prior } };
    }
    const decision = decide(command, actor, view, now);
    if (!decision.ok) return decision;
    const seq = this.#commit(decision.events, actor, now, origin);
    this.#schedule.at("expire-commands", now + COMMAND_TTL_MS);
    return { ok: true, value: { seq } };
  }

  /**
   * Appends and projects `events` in one transaction, with the command's idempotency key when
   * there is one, then acks and broadcasts. Returns the seq of the last event written, or the
   * room's current seq for a command that changed nothing.
   */
  #commit(events: readonly NewEvent[], actor: UserRef, now: number, origin?: Origin): number {
    const { stored, seq } = this.ctx.storage.transactionSync(() => {
      const stored = this.#log.append(events, actor, now);
      const seq = stored.at(-1)?.seq ?? this.#log.lastSeq;
      if (origin) this.#keys.remember(actor.id, origin.clientId, seq, now);
      return { stored, seq };
    });
    this.#log.committed(stored);
    // The output gate holds these sends until the transaction is durable: an ack means stored.
    if (origin) this.#ack(origin, seq);
    for (const event of stored) this.#sockets.broadcast({ type: "event", event });
    this.#removeLostAccess(stored);
    if (stored.length > 0 && this.#outbox.enabled)
      this.#schedule.at("flush", Date.now() + FLUSH_DELAY_MS);
    if (changesSummary(stored)) void this.#directory.push();
    return seq;
  }

  #ack({ clientId, ws }: Origin, seq: number): void {
    if (ws) send(ws, { type: "ack", clientId, seq });
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
    return denied && refused(denied);
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

/** A header's JSON, or undefined when it is missing or not JSON. */
function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
