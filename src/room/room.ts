import { DurableObject } from "cloudflare:workers";
import {
  BATCH_SUBPROTOCOL,
  chooseSubprotocol,
  CLOSE,
  LIMITS,
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
  type Standing,
  type UserRef,
} from "../protocol/index.ts";
import { DirectoryFeed } from "../directory/notify.ts";
import { Actor, USER_HEADER } from "../identity/actor.ts";
import { CommandBatch, type Job, type Outcome } from "./command-batch.ts";
import { decideCreate, decideJoin, denyAccess, standingOf } from "./decide.ts";
import { changesSummary, lostAccess } from "./effects.ts";
import { FrameGate } from "./frame-gate.ts";
import { GroupCommit } from "./group-commit.ts";
import { EventLog } from "./log.ts";
import { TYPING_INTERVAL_MS } from "./rate-limit.ts";
import { COMMAND_TTL_MS, IdempotencyKeys } from "./idempotency.ts";
import { FLUSH_DELAY_MS, Outbox, type EventSink, type OutboxState } from "./outbox.ts";
import { ReadModel } from "./read-model.ts";
import { Schedule, type Task } from "./schedule.ts";
import { migrate } from "./schema.ts";
import { roomSettings } from "./settings.ts";
import { attachmentOf, close, Connections, send, type Attachment } from "./sockets.ts";

const PING = JSON.stringify({ type: "ping" });
const PONG = JSON.stringify({ type: "pong" });

const notFound = { ok: false, error: { code: "not_found", message: "no such room" } } as const;
const refused = (error: Refusal) => ({ ok: false, error }) as const;

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
  readonly #batch: CommandBatch;
  readonly #commits: GroupCommit<Job>;

  /** `sink`: where the outbox sends the log on to (Postgres), wired by the worker's entry. */
  constructor(ctx: DurableObjectState, env: Env, sink?: EventSink) {
    super(ctx, env);
    migrate(ctx.storage);
    this.#log = new EventLog(ctx.storage.sql);
    this.#read = new ReadModel(ctx.storage.sql);
    this.#schedule = new Schedule(ctx.storage);
    const settings = roomSettings(env);
    this.#sockets = new Connections(ctx, settings.slowConsumerEvents);
    this.#outbox = new Outbox(ctx.storage.sql, this.#log, sink);
    this.#keys = new IdempotencyKeys(ctx.storage.sql);
    this.#batch = new CommandBatch(ctx.storage, this.#log, this.#read, this.#keys);
    this.#commits = new GroupCommit(
      (jobs) => this.#commitBatch(jobs),
      () => this.#settled(),
      settings.queue,
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

  /** The HTTP twin of a WebSocket command, for bots and integrations: the same queue and rules. */
  async command(command: Command, actor: Actor): Promise<Result<{ seq: number }>> {
    return new Promise((settle) => this.#submit({ command, actor, settle }));
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
    this.#commit(joined.events, user.data);

    const protocol = chooseSubprotocol(request.headers);
    const firstConnection = !this.#sockets.of(user.data.id).length;
    const { 0: client, 1: server } = new WebSocketPair();
    this.#sockets.accept(server, user.data, protocol === BATCH_SUBPROTOCOL);
    const you = { id: user.data.id, name: user.data.name };
    this.#greet(server, you, Number(new URL(request.url).searchParams.get("since") ?? NaN));
    if (firstConnection) this.#sockets.broadcast({ type: "presence", joined: you }, server);
    void this.#directory.push();

    const headers = protocol ? { "sec-websocket-protocol": protocol } : undefined;
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
      case "received":
        return this.#sockets.received(ws, frame.seq);
      case "read":
        return this.#read.markRead(user.id, Math.min(frame.seq, this.#log.lastSeq));
      default:
        return this.#submit({ command: frame, actor: user, ws });
    }
  }

  /** Into the group commit's queue, or refused at once when the room is too far behind. */
  #submit(job: Job): void {
    const admitted = this.#commits.offer(job, Date.now());
    if (admitted.ok) return;
    const seconds = admitted.retryAfterMs / 1000;
    this.#answer(job, {
      ok: false,
      error: {
        code: "overloaded",
        message: `the room is busy: try again in ${seconds.toFixed(1)} s`,
        retryAfter: seconds,
      },
    });
  }

  /**
   * One turn of the group commit: the batch is written in one transaction, then every socket
   * gets its acks and the new events (the output gate holds them until the commit is durable:
   * an ack means stored), then refusals and HTTP callers are answered.
   */
  #commitBatch(jobs: Job[]): void {
    const now = Date.now();
    const outcomes = this.#batch.write(jobs, now);
    const acks = new Map<WebSocket, string[]>();
    for (const { job, result } of outcomes) {
      if (!result.ok || !job.ws) continue;
      const ack = JSON.stringify({
        type: "ack",
        clientId: job.command.clientId,
        seq: result.value.seq,
      });
      acks.set(job.ws, [...(acks.get(job.ws) ?? []), ack]);
    }
    const stored = outcomes.flatMap((outcome) => outcome.stored);
    this.#sockets.deliver(stored, acks);
    for (const outcome of outcomes)
      if (!outcome.result.ok) this.#answer(outcome.job, outcome.result);
    for (const { job, result } of outcomes) if (result.ok) job.settle?.(result);
    if (outcomes.some((outcome) => outcome.result.ok))
      this.#schedule.at("expire-commands", now + COMMAND_TTL_MS);
    this.#afterCommit(stored);
  }

  /** A refusal to whoever sent the command: an error frame on its socket, or the HTTP answer. */
  #answer(job: Job, result: Outcome["result"]): void {
    job.settle?.(result);
    if (result.ok || !job.ws) return;
    const { code, message, retryAfter } = result.error;
    send(job.ws, {
      type: "error",
      code,
      message,
      clientId: job.command.clientId,
      ...(retryAfter === undefined ? {} : { retryAfterMs: Math.round(retryAfter * 1000) }),
    });
  }

  /**
   * Resolves once the last batch is durable and the room has read what arrived meanwhile: the
   * commands that came in during the commit form the next batch. Locally the commit blocks the
   * thread, so one macrotask lets the runtime hand over the frames that queued up behind it.
   */
  async #settled(): Promise<void> {
    await this.ctx.storage.sync();
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }

  /** Appends and projects `events` in one transaction of their own, then sends them. */
  #commit(events: readonly NewEvent[], actor: UserRef): void {
    const stored = this.ctx.storage.transactionSync(() =>
      this.#log.append(events, actor, Date.now()),
    );
    this.#log.committed();
    this.#sockets.deliver(stored, new Map());
    this.#afterCommit(stored);
  }

  /** What committed events cause beyond the log: removals, the flush, the directory. */
  #afterCommit(stored: readonly RoomEvent[]): void {
    if (stored.length === 0) return;
    this.#removeLostAccess(stored);
    if (this.#outbox.enabled) this.#schedule.at("flush", Date.now() + FLUSH_DELAY_MS);
    if (changesSummary(stored)) void this.#directory.push();
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
