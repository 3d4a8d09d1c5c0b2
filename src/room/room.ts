import { DurableObject } from "cloudflare:workers";
import {
  refusal,
  type Action,
  type ChainReport,
  type BanList,
  CLOSE,
  type Command,
  type CreateRoom,
  type EphemeralFrame,
  type EventsPage,
  type MemberList,
  type MessagesPage,
  type Moment,
  type Refusal,
  type Result,
  type SlashEntry,
  type SlashResult,
  type RoomInfo,
  type RoomStateAt,
  type ServerFrame,
  type Standing,
  type UserRef,
  type WebhookEventTypes,
  type YourRoom,
} from "../protocol/index.ts";
import type { RoomPluginList, RuleList } from "../protocol/rules.ts";
import type { Actor } from "../identity/actor.ts";
import { decideCreate, denyAccess, NO_SUCH_ROOM, standingOf } from "./decide.ts";
import { closeBack, RoomSockets } from "./room-sockets.ts";
import type { OutboxState } from "../cursor-outbox.ts";
import { afterCommit, scheduledTasks } from "./follow-ups.ts";
import type { EventSink } from "./outbox.ts";
import { assembleRoom, type RoomParts } from "./parts.ts";
import {
  LIMITS_AUTOMATION,
  type DryRunReport,
  type Reminder,
  type RuleInput,
} from "../protocol/automation.ts";
import type { NewReminder, ReminderList } from "../protocol/reminders.ts";
import type { NewUpload } from "../protocol/attachments.ts";
import type { StoredPart } from "./uploads.ts";
import type { LiveEngine } from "./graphql-sockets.ts";
import { accountKey } from "../identity/refresh-token.ts";
import { SERVICE_ACCOUNTS_NAME } from "../identity/service-key.ts";

const PING = JSON.stringify({ type: "ping" });
const PONG = JSON.stringify({ type: "pong" });

const refused = (error: Refusal) => ({ ok: false, error }) as const;
const notFound = refused(NO_SUCH_ROOM);

/**
 * One chat room. Thin on purpose: it moves frames between sockets and storage; how it is put
 * together is parts.ts, the rules live in decide.ts, the write path in command-flow.ts, who hears
 * what in audience.ts, the tables in schema.ts/project.ts, the queries in read-model.ts.
 */
export class Room extends DurableObject<Env> {
  readonly #p: RoomParts;
  readonly #sockets: RoomSockets;

  /**
   * Wired by the worker's entry: `sink`, where the outbox sends the log on to (Postgres); `live`,
   * GraphQL for the room's subscription sockets.
   */
  constructor(ctx: DurableObjectState, env: Env, sink?: EventSink, live?: LiveEngine) {
    super(ctx, env);
    this.#p = assembleRoom(ctx, env, sink, live, {
      committed: (stored, now, keysStored) => afterCommit(this.#p, stored, now, keysStored),
      info: () => this.#info(),
      admitReader: (actor) => this.#admitReader(actor),
    });
    this.#sockets = new RoomSockets(this.#p);
    this.#p.metrics.count("room_wakeups_total", {});
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

  /** The room's rules, for moderators and above (docs/automation.md). */
  async rules(actor: Actor): Promise<Result<RuleList>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "manage_rules");
    return denied ?? { ok: true, value: { rules: this.#p.automation.list() } };
  }

  /**
   * Slash command `name` if a plugin running here has it (docs/plugins.md): for whoever may post
   * here; undefined when no plugin has it. `clientId` makes a retried command post once.
   */
  async pluginCommand(
    actor: Actor,
    input: { name: string; args: string; clientId: string },
  ): Promise<Result<SlashResult | undefined>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "post");
    if (denied) return denied;
    const standing = standingOf(this.#p.read.view()!, actor);
    const key = `${actor.id}:${input.clientId}`;
    const answer = await this.#p.plugins.command(actor, standing, { ...input, key });
    return answer ?? { ok: true, value: undefined };
  }

  /** The slash commands of the plugins running here, for completion and /help. */
  async pluginCommands(actor: Actor): Promise<Result<SlashEntry[]>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    const running = await this.#p.plugins.commands();
    const entries = running.flatMap(({ manifest }) =>
      manifest.commands.map((command) => ({
        name: command.name,
        usage: command.usage,
        description: command.description,
        kind: "custom" as const,
      })),
    );
    return { ok: true, value: entries };
  }

  /**
   * What a rule would have done over the room's recent events (docs/automation.md, "Dry run"):
   * a room's own, or with `instance` an instance rule, whose `rooms` condition counts.
   */
  async dryRunRule(
    actor: Actor,
    input: RuleInput,
    options: { instance?: boolean } = {},
  ): Promise<Result<DryRunReport>> {
    const denied = this.#deny(actor) ?? this.#refuse(actor, "manage_rules");
    if (denied) return denied;
    const { automation } = this.#p;
    return { ok: true, value: await automation.dryRun(input, Date.now(), options.instance) };
  }

  /** Which plugins are on here, for anyone who may see the room (their commands are theirs to use). */
  async plugins(actor: Actor): Promise<Result<RoomPluginList>> {
    return this.#deny(actor) ?? { ok: true, value: { plugins: this.#p.read.plugins() } };
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

  /** The room in `actor`'s list of rooms (read-model.ts): undefined unless they are a member. */
  async yourRoom(actor: Actor): Promise<Result<YourRoom | undefined>> {
    return (
      this.#deny(actor) ?? { ok: true, value: this.#p.read.yourRoom(actor.id, this.#p.log.lastSeq) }
    );
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

  /**
   * The HTTP twin of a WebSocket command, for bots and integrations: the same queue and rules.
   * `traceparent`: the W3C trace context of the worker's span that called (its request, RPC call
   * or GraphQL operation), so that the room's `room.command` span joins the caller's trace: the
   * runtime carries no trace context across a Durable Object RPC (docs/observability.md).
   * `requestId`: the worker's request's, for the command's log line.
   */
  async command(
    command: Command,
    actor: Actor,
    traceparent?: string,
    requestId?: string,
  ): Promise<Result<{ seq: number }>> {
    const limited = this.#p.budget.spend(actor.id, Date.now());
    if (limited) {
      this.#p.metrics.count("commands_total", { type: command.type, outcome: limited.code });
      return refused(limited);
    }
    return new Promise((settle) =>
      this.#p.commands.submit({ command, actor, settle, traceparent, requestId }),
    );
  }

  /**
   * A slash command's answer for `userId` alone (docs/integrations.md): sent to their open chat
   * sockets, never logged. Answers how many sockets here got it (shards count their own).
   */
  async ephemeral(userId: string, frame: EphemeralFrame): Promise<number> {
    return this.#p.audience.tell(userId, frame);
  }

  // ---- reminders (docs/automation.md, "Schedules and reminders") ----

  /** `actor`'s reminders here, and the room's `here` ones for its moderators. */
  async reminders(actor: Actor): Promise<Result<ReminderList>> {
    const denied = this.#deny(actor);
    if (denied) return denied;
    const reminders = this.#p.reminders.list(actor, this.#p.read.view()!);
    return { ok: true, value: { reminders, limit: LIMITS_AUTOMATION.remindersPerUser } };
  }

  async addReminder(actor: Actor, input: NewReminder): Promise<Result<Reminder>> {
    return (
      this.#deny(actor) ?? this.#p.reminders.add(actor, this.#p.read.view()!, input, Date.now())
    );
  }

  async cancelReminder(actor: Actor, id: string): Promise<Result<Reminder>> {
    return this.#deny(actor) ?? this.#p.reminders.cancel(actor, this.#p.read.view()!, id);
  }

  // ---- uploads (docs/attachments.md): the sessions here, the bytes in R2 through the worker ----

  async openUpload(actor: Actor, input: NewUpload) {
    return (
      this.#deny(actor) ?? this.#p.uploads.open(actor, this.#p.read.view()!, input, Date.now())
    );
  }

  async multipartStarted(actor: Actor, id: string, multipart: string) {
    return this.#deny(actor) ?? this.#p.uploads.multipartStarted(actor, id, multipart);
  }

  async upload(actor: Actor, id: string) {
    return this.#deny(actor) ?? this.#p.uploads.get(actor, id);
  }

  async partTicket(actor: Actor, id: string, part: number, bytes: number) {
    return this.#deny(actor) ?? this.#p.uploads.partTicket(actor, id, part, bytes);
  }

  async partStored(actor: Actor, id: string, stored: StoredPart) {
    return this.#deny(actor) ?? this.#p.uploads.partStored(actor, id, stored);
  }

  async completeTicket(actor: Actor, id: string) {
    return this.#deny(actor) ?? this.#p.uploads.completeTicket(actor, id);
  }

  async uploadCompleted(actor: Actor, id: string, size: number) {
    return this.#deny(actor) ?? this.#p.uploads.completed(actor, id, size);
  }

  async abortUpload(actor: Actor, id: string) {
    return this.#deny(actor) ?? this.#p.uploads.abort(actor, id, Date.now());
  }

  /** A file to serve `actor`: whoever may read the room's history reads a live message's files. */
  async attachment(actor: Actor, id: string) {
    return this.#deny(actor) ?? this.#p.uploads.served(actor, this.#p.read.view()!, id);
  }

  /** The room's hub says which event types its endpoints now want (docs/integrations.md). */
  async setIntegrationTypes(types: WebhookEventTypes | []): Promise<void> {
    this.#p.feed.setRoomTypes(types);
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
    const frames = [
      ...this.#sockets.greeting({ id: actor.id, name: actor.name }, since),
      ...this.#p.reminders.takePending(actor.id),
    ];
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

  /** A WebSocket upgrade from the worker: a chat socket or a GraphQL one (room-sockets.ts). */
  override async fetch(request: Request): Promise<Response> {
    return this.#sockets.upgrade(request);
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    await this.#sockets.receive(ws, data);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.#sockets.left(ws);
    closeBack(ws, code);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#sockets.left(ws);
  }

  // ---- Alarm: the schedule's tasks ----

  readonly #tasks = scheduledTasks(() => this.#p);

  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      for (const task of this.#p.schedule.takeDue(now)) await this.#tasks[task](now);
    } finally {
      this.#p.telemetry.export();
    }
  }

  // ---- internals ----

  /**
   * Whether `actor` may subscribe here: who may read the room, within their open sockets (chat
   * and GraphQL together). Their account (or service account) learns of the room first, so that
   * signing out (or a revoked key) closes the socket too.
   */
  async #admitReader(actor: Actor): Promise<Refusal | undefined> {
    const denied = this.#deny(actor);
    if (denied) return denied.error;
    const room = this.#p.read.room()!.name;
    const here = this.#p.sockets.of(actor.id).length + this.#p.live.of(actor.id).length;
    const over = await this.#p.quotas.admit(room, actor.id, here);
    if (over) {
      this.#p.metrics.count("refusals_total", { reason: "quota" });
      return over;
    }
    if (actor.kind === "user")
      await this.env.ACCOUNT.getByName(accountKey(actor.name)).noteRoom(room);
    if (actor.kind === "service")
      await this.env.SERVICE_ACCOUNTS.getByName(SERVICE_ACCOUNTS_NAME).noteRoom(actor.id, room);
    return undefined;
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

  #info(): RoomInfo | undefined {
    return this.#p.read.info(this.#p.log.lastSeq, this.#p.audience.online().length);
  }
}
