import { CloseCode, MessageType, type SubscribePayload } from "graphql-ws";
import {
  CLOSE,
  GRAPHQL_SUBPROTOCOL,
  type Refusal,
  type Result,
  type RoomEvent,
} from "../protocol/index.ts";
import { Actor, USER_HEADER } from "../identity/actor.ts";
import {
  bytesOf,
  ConnectionParams,
  errorMessage,
  INIT_TIMEOUT_MS,
  LiveAttachment,
  MAX_SUBSCRIPTION_BYTES,
  MAX_SUBSCRIPTIONS,
  nextMessage,
  parsed,
  unauthorized,
  type Subscription,
} from "./graphql-protocol.ts";
import { parseJson } from "./json.ts";
import { COMMAND_RATE, Limiter } from "./rate-limit.ts";
import { close, refusedUpgrade, send } from "./sockets.ts";

/** The tag of a room's GraphQL sockets, so that chat frames never go to them. */
export const GRAPHQL_TAG = "graphql";
/** What the room is given to run GraphQL (src/graphql/live.ts): the room itself knows no GraphQL. */
export type LiveEngine = {
  /**
   * Checks a subscription for `room`: where it resumes, and the document to keep (the one sent,
   * or the trusted document its hash names).
   */
  prepare(
    payload: SubscribePayload,
    room: string,
  ): { ok: true; since: number | undefined; query: string } | { ok: false; errors: unknown[] };
  /** What groups the subscriptions whose results are equal, so that each is rendered once. */
  keyOf(payload: SubscribePayload): string;
  /** One event's result, as the JSON text of a `next` message's payload. */
  render(payload: SubscribePayload, key: string, event: RoomEvent): string;
  /** The actor of a token from `connection_init`. */
  verify(token: string): Promise<Result<Actor>>;
};

/** What the room decides for its GraphQL sockets. */
export type LiveRoom = {
  name(): string;
  /** Whether `actor` may read here and open one more socket: a refusal, or undefined. */
  admit(actor: Actor): Promise<Refusal | undefined>;
  /** The events after `since` for a resuming subscription, or a refusal when it is too far back. */
  replay(since: number): Result<readonly RoomEvent[]>;
  /** A socket closed for going on past its message rate (for the metrics). */
  abused(): void;
};

// Parsed once per socket object and kept in step with every write (see sockets.ts).
const attachments = new WeakMap<WebSocket, LiveAttachment>();

function attachmentOf(ws: WebSocket): LiveAttachment | undefined {
  const cached = attachments.get(ws);
  if (cached) return cached;
  const parsed = LiveAttachment.safeParse(ws.deserializeAttachment());
  if (parsed.success) attachments.set(ws, parsed.data);
  return parsed.data;
}

function store(ws: WebSocket, attachment: LiveAttachment): void {
  ws.serializeAttachment(attachment);
  attachments.set(ws, attachment);
}

/**
 * A room's sockets that speak graphql-transport-ws (the graphql-ws protocol): `roomEvents`
 * subscriptions, kept in each socket's attachment so that the room hibernates between frames
 * and wakes for a message or an event, like its chat sockets. Subscriptions are readers: they
 * do not join the room or count as online, but they do count against a user's open sockets.
 */
export class LiveSockets {
  readonly #ctx: DurableObjectState;
  readonly #engine: LiveEngine | undefined;
  readonly #room: LiveRoom;
  // Memory only, like the chat sockets' gate: hibernation merely refills the buckets.
  readonly #messages = new Limiter(COMMAND_RATE);
  // A subscription's key, per parsed attachment (rebuilt after hibernation with the attachment).
  readonly #keys = new WeakMap<Subscription, string>();

  constructor(ctx: DurableObjectState, engine: LiveEngine | undefined, room: LiveRoom) {
    this.#ctx = ctx;
    this.#engine = engine;
    this.#room = room;
  }

  get enabled(): boolean {
    return this.#engine !== undefined;
  }

  /**
   * An upgrade from the worker: with the user it verified (admitted now, so that a refusal is
   * an HTTP answer as on the chat socket), or without one (admitted at connection_init).
   */
  async upgrade(request: Request): Promise<Response> {
    const header = request.headers.get(USER_HEADER);
    const user = header === null ? undefined : Actor.safeParse(parseJson(header)).data;
    if (header !== null && !user)
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    const refused = user && (await this.#room.admit(user));
    if (refused) return refusedUpgrade(refused);
    const { 0: client, 1: server } = new WebSocketPair();
    this.#accept(server, user);
    const headers = { "sec-websocket-protocol": GRAPHQL_SUBPROTOCOL };
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  #accept(server: WebSocket, user: Actor | undefined): void {
    this.#ctx.acceptWebSocket(server, [GRAPHQL_TAG]);
    const connId = crypto.randomUUID();
    const openedAt = Date.now();
    store(server, { connId, user, openedAt, init: false, acked: false, subscriptions: {} });
    // Keeps the object awake at most this long; a hibernated one checks on the next frame.
    setTimeout(() => this.#closeIfUninitialised(server), INIT_TIMEOUT_MS);
  }

  /** Whether `ws` is one of these sockets. */
  owns(ws: WebSocket): boolean {
    return this.#ctx.getTags(ws).includes(GRAPHQL_TAG);
  }

  /** The sockets `userId` holds here. */
  of(userId: string): WebSocket[] {
    return this.#sockets().filter((ws) => attachmentOf(ws)?.user?.id === userId);
  }

  /** One frame from a client: the protocol's messages, each answered or acted on. */
  async receive(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const attachment = attachmentOf(ws);
    if (!attachment) return close(ws, CloseCode.BadRequest, "unknown connection");
    if (!attachment.init && Date.now() - attachment.openedAt > INIT_TIMEOUT_MS)
      return close(
        ws,
        CloseCode.ConnectionInitialisationTimeout,
        "Connection initialisation timeout",
      );
    if (!this.#messages.allow(attachment.connId, Date.now())) {
      this.#room.abused();
      return close(ws, CLOSE.rateAbuse, "too many messages");
    }
    const message = parsed(data);
    if (typeof message === "string") return close(ws, CloseCode.BadRequest, message);
    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.#init(ws, attachment, message.payload);
      case MessageType.Ping:
        return send(ws, JSON.stringify({ type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return this.#subscribe(ws, attachment, message.id, message.payload);
      case MessageType.Complete:
        return this.#complete(ws, attachment, message.id);
      case MessageType.ConnectionAck:
      case MessageType.Next:
      case MessageType.Error:
        return close(ws, CloseCode.BadRequest, `a client does not send ${message.type}`);
    }
  }

  /**
   * Sends committed events to every subscription: each result is rendered once per distinct
   * subscription (`key`) and event, whatever the number of sockets that share it.
   */
  deliver(events: readonly RoomEvent[]): number {
    if (events.length === 0 || !this.#engine) return 0;
    let sent = 0;
    const rendered = new Map<string, string[]>();
    for (const ws of this.#sockets()) {
      const attachment = attachmentOf(ws);
      if (!attachment?.acked) continue;
      for (const [id, subscription] of Object.entries(attachment.subscriptions)) {
        const key = this.#keyOf(subscription);
        let payloads = rendered.get(key);
        if (!payloads) {
          payloads = events.map((event) => this.#render(subscription, event));
          rendered.set(key, payloads);
        }
        for (const payload of payloads) send(ws, nextMessage(id, payload));
        sent += payloads.length;
      }
    }
    return sent;
  }

  /** Closes `userId`'s sockets that pass `which`; returns how many. */
  closeUser(
    userId: string,
    code: number,
    reason: string,
    which: (user: Actor) => boolean = () => true,
  ): number {
    let closed = 0;
    for (const ws of this.of(userId)) {
      if (!which(attachmentOf(ws)!.user!)) continue;
      close(ws, code, reason);
      closed += 1;
    }
    return closed;
  }

  /** Forgets a closed socket's message bucket; its user, for the room's count of open sockets. */
  closed(ws: WebSocket): Actor | undefined {
    const attachment = attachmentOf(ws);
    if (attachment) this.#messages.forget(attachment.connId);
    return attachment?.user;
  }

  // ---- internals ----

  #sockets(): WebSocket[] {
    return this.#ctx.getWebSockets(GRAPHQL_TAG);
  }

  #closeIfUninitialised(ws: WebSocket): void {
    // Read afresh: the runtime hands the message handlers another object for this socket, so
    // this one's cached attachment may be stale.
    const attachment = LiveAttachment.safeParse(ws.deserializeAttachment());
    if (attachment.data?.init === false)
      close(ws, CloseCode.ConnectionInitialisationTimeout, "Connection initialisation timeout");
  }

  async #init(ws: WebSocket, attachment: LiveAttachment, payload: unknown): Promise<void> {
    if (attachment.init)
      return close(ws, CloseCode.TooManyInitialisationRequests, "Too many initialisation requests");
    store(ws, { ...attachment, init: true });
    const verified = attachment.user
      ? ({ ok: true, value: attachment.user } as const)
      : await this.#verify(payload);
    if (!verified.ok) return close(ws, CloseCode.Forbidden, verified.error.message);
    // The upgrade's user was admitted by the room before the socket existed.
    const refused = attachment.user ? undefined : await this.#room.admit(verified.value);
    if (refused) return close(ws, CloseCode.Forbidden, refused.message);
    store(ws, { ...attachmentOf(ws)!, user: verified.value, acked: true });
    send(ws, JSON.stringify({ type: MessageType.ConnectionAck }));
  }

  /** The actor of `connection_init`'s `{ authorization: "Bearer <token>" }`. */
  async #verify(payload: unknown): Promise<Result<Actor>> {
    const token = ConnectionParams.safeParse(payload).data?.authorization;
    if (!token) return unauthorized('connection_init needs { "authorization": "Bearer <token>" }');
    return this.#engine!.verify(token);
  }

  #subscribe(
    ws: WebSocket,
    attachment: LiveAttachment,
    id: string,
    payload: SubscribePayload,
  ): void {
    if (!attachment.acked) return close(ws, CloseCode.Unauthorized, "Unauthorized");
    const held = attachment.subscriptions;
    if (id in held)
      return close(ws, CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    if (Object.keys(held).length >= MAX_SUBSCRIPTIONS)
      return send(
        ws,
        errorMessage(id, "quota", `a socket holds at most ${MAX_SUBSCRIPTIONS} subscriptions`),
      );
    const prepared = this.#engine!.prepare(payload, this.#room.name());
    if (!prepared.ok)
      return send(ws, JSON.stringify({ id, type: MessageType.Error, payload: prepared.errors }));
    const { operationName, variables } = payload;
    const subscription: Subscription = { query: prepared.query, operationName, variables };
    const subscriptions = { ...held, [id]: subscription };
    if (bytesOf(subscriptions) > MAX_SUBSCRIPTION_BYTES)
      return send(
        ws,
        errorMessage(
          id,
          "too_large",
          `a socket's subscriptions take at most ${MAX_SUBSCRIPTION_BYTES} bytes`,
        ),
      );
    const missed =
      prepared.since === undefined
        ? { ok: true as const, value: [] }
        : this.#room.replay(prepared.since);
    if (!missed.ok) return send(ws, errorMessage(id, missed.error.code, missed.error.message));
    // Replayed and registered in one turn: no commit falls between them (exact resume).
    for (const event of missed.value) send(ws, nextMessage(id, this.#render(subscription, event)));
    store(ws, { ...attachment, subscriptions });
  }

  #complete(ws: WebSocket, attachment: LiveAttachment, id: string): void {
    if (!(id in attachment.subscriptions)) return;
    const { [id]: _, ...subscriptions } = attachment.subscriptions;
    store(ws, { ...attachment, subscriptions });
  }

  #keyOf(subscription: Subscription): string {
    let key = this.#keys.get(subscription);
    if (key === undefined) this.#keys.set(subscription, (key = this.#engine!.keyOf(subscription)));
    return key;
  }

  #render(subscription: Subscription, event: RoomEvent): string {
    return this.#engine!.render(subscription, this.#keyOf(subscription), event);
  }
}
