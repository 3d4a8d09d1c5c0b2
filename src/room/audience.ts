import {
  CLOSE,
  type RoomEvent,
  type ServerFrame,
  type UserRef,
  type Visibility,
} from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import { lostAccess } from "./effects.ts";
import { TYPING_INTERVAL_MS } from "./rate-limit.ts";
import type { Closing, ShardFanout } from "./shard-fanout.ts";
import type { LiveSockets } from "./graphql-sockets.ts";
import { send, type Connections } from "./sockets.ts";

/**
 * Everyone connected to a room, wherever their socket lives: on the room itself or on one of its
 * fan-out shards, and its GraphQL subscribers (who get events, not presence or typing). What the
 * room sends to its people goes through here, so that a sharded room and a plain one behave alike.
 */
/** Events sent by transport, for `edgechat_deliveries_total`. */
export type Deliveries = { chat: number; graphql: number };

export class Audience {
  readonly #sockets: Connections;
  readonly #fanout: ShardFanout;
  readonly #live: LiveSockets;
  // Memory only: forgetting it on hibernation merely lets one more notice through.
  readonly #typingAt = new Map<string, number>();

  constructor(sockets: Connections, fanout: ShardFanout, live: LiveSockets) {
    this.#sockets = sockets;
    this.#fanout = fanout;
    this.#live = live;
  }

  /** The distinct users online, on the room and on its shards. */
  online(): UserRef[] {
    const users = new Map<string, UserRef>();
    for (const user of [...this.#sockets.online(), ...this.#fanout.online()])
      if (!users.has(user.id)) users.set(user.id, user);
    return [...users.values()];
  }

  /**
   * Committed events, with the acks of the room's own sockets; answers how many events went
   * out on the room's own sockets (shards count what they send on theirs).
   */
  deliver(
    events: readonly RoomEvent[],
    acks?: ReadonlyMap<WebSocket, readonly string[]>,
  ): Deliveries {
    const chat = this.#sockets.deliver(events, acks);
    this.#fanout.relay(events);
    const graphql = this.#live.deliver(events);
    return { chat, graphql };
  }

  /** A presence or typing frame for everyone but `except` (a user, and here a socket too). */
  signal(frame: ServerFrame, except?: { user: string; ws?: WebSocket | undefined }): void {
    const text = JSON.stringify(frame);
    this.#sockets.broadcast(text, except?.ws);
    this.#fanout.relay([], [{ text, exceptUser: except?.user }]);
  }

  /**
   * A frame for one user's chat sockets alone (a slash command's ephemeral answer), here and on
   * the shards; answers how many of their sockets here got it.
   */
  tell(userId: string, frame: ServerFrame): number {
    const text = JSON.stringify(frame);
    const sockets = this.#sockets.of(userId);
    for (const ws of sockets) send(ws, text);
    this.#fanout.relay([], [{ text, onlyUser: userId }]);
    return sockets.length;
  }

  /** "Typing…", at most once per user per TYPING_INTERVAL_MS. */
  typing(user: UserRef, now: number, ws?: WebSocket): void {
    if (now - (this.#typingAt.get(user.id) ?? 0) < TYPING_INTERVAL_MS) return;
    this.#typingAt.set(user.id, now);
    this.signal({ type: "typing", user }, { user: user.id, ws });
  }

  /** Sockets of people who lost access with these events close with 4403 (admins keep theirs). */
  removeLostAccess(events: readonly RoomEvent[], visibility: Visibility): void {
    for (const { userId, banned } of lostAccess(events, visibility)) {
      const reason = banned ? "you were banned" : "you were removed from the room";
      this.closeUser(userId, CLOSE.removed, reason, { keepAdmins: true });
    }
  }

  /** Closes `userId`'s sockets here and on the shards; returns how many closed here. */
  closeUser(userId: string, code: number, reason: string, which: Closing): number {
    this.#fanout.closeUser(userId, code, reason, which);
    const { sessionIds, keepAdmins } = which;
    const closing = (user: Actor) => {
      if (keepAdmins && user.admin) return false;
      return !sessionIds || (user.sid !== undefined && sessionIds.includes(user.sid));
    };
    return (
      this.#sockets.closeUser(userId, code, reason, ({ user }) => closing(user)) +
      this.#live.closeUser(userId, code, reason, closing)
    );
  }
}
