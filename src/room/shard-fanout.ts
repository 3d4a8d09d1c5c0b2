import * as z from "zod";
import { RoomName, type RoomEvent, type UserRef } from "../protocol/index.ts";
import { USER_HEADER, type Actor } from "../identity/actor.ts";
import { ShardRelay, type Relay } from "./shard-relay.ts";
import { errorFields, log } from "../telemetry/log.ts";

/** How a room hands an upgrade to one of its shards: which room, which slice. */
export const SHARD_HEADER = "x-edgechat-shard";
export const ShardHome = z.object({ room: RoomName, index: z.number().int().nonnegative() });
export type ShardHome = z.infer<typeof ShardHome>;

/** Which of a user's sockets to close: those of some sessions only, or all but an admin's. */
export type Closing = { sessionIds?: string[] | undefined; keepAdmins?: boolean | undefined };

/** The calls a room makes on its shards (RoomShard's RPC methods). */
export type ShardStub = {
  relay(relay: Relay): Promise<void>;
  closeUser(userId: string, code: number, reason: string, which: Closing): Promise<number>;
  fetch(request: Request): Promise<Response>;
};

/**
 * The room's side of fan-out shards (docs/scaling.md). In a room created with shards, every
 * socket lives on shard `shardOf(user)`; the room still decides, commits and orders, and relays
 * what it committed to the shards that have someone online, who is online being kept in the
 * room's `shard_presence` table (memory would forget it when the room hibernates).
 */
export class ShardFanout {
  readonly #sql: SqlStorage;
  readonly #stub: (index: number) => ShardStub;
  readonly #relay: ShardRelay;
  readonly #keepAlive: (work: Promise<unknown>) => void;
  readonly #shardsOf: () => number | undefined;
  /** The room's shard count, fixed when it was created: read once. */
  #shards: number | undefined;

  /**
   * `shards`: the room's shard count (undefined before it exists); `keepAlive`: the object's
   * waitUntil, so that calls to shards outlive the event that made them.
   */
  constructor(
    sql: SqlStorage,
    shards: () => number | undefined,
    stub: (index: number) => ShardStub,
    keepAlive: (work: Promise<unknown>) => void,
  ) {
    this.#sql = sql;
    this.#shardsOf = shards;
    this.#stub = stub;
    this.#keepAlive = keepAlive;
    this.#relay = new ShardRelay((index, relay) => stub(index).relay(relay), keepAlive);
  }

  /** Passes the upgrade of `actor`, whom the room let in, to their shard. */
  handOver(request: Request, actor: Actor, home: ShardHome): Promise<Response> {
    const headers = new Headers(request.headers);
    headers.set(USER_HEADER, JSON.stringify(actor));
    headers.set(SHARD_HEADER, JSON.stringify(home));
    return this.#stub(home.index).fetch(new Request(request.url, { headers }));
  }

  /** Who is online on the shards. */
  online(): UserRef[] {
    if (!this.#sharded) return [];
    return this.#sql
      .exec<{ user_id: string; name: string }>("SELECT user_id, name FROM shard_presence")
      .toArray()
      .map((row) => ({ id: row.user_id, name: row.name }));
  }

  /** A shard says `user` came online there or went; true when that changed who is online. */
  present(index: number, user: UserRef, online: boolean): boolean {
    if (online) {
      const known = this.#sql
        .exec("SELECT 1 FROM shard_presence WHERE user_id = ?", user.id)
        .toArray().length;
      this.#sql.exec(
        "INSERT OR REPLACE INTO shard_presence (user_id, name, shard) VALUES (?, ?, ?)",
        user.id,
        user.name,
        index,
      );
      return known === 0;
    }
    return (
      this.#sql.exec("DELETE FROM shard_presence WHERE user_id = ? AND shard = ?", user.id, index)
        .rowsWritten > 0
    );
  }

  /** Events and signal frames to every shard with someone online. */
  relay(events: readonly RoomEvent[], frames: Relay["frames"] = []): void {
    for (const index of this.#active()) this.#relay.push(index, { events: [...events], frames });
  }

  /** Closes `userId`'s sockets on the shards (kicked, banned, or their session ended). */
  closeUser(userId: string, code: number, reason: string, which: Closing): void {
    for (const index of this.#active())
      this.#keepAlive(
        this.#stub(index)
          .closeUser(userId, code, reason, which)
          .catch((error: unknown) =>
            log.warn("closing on a shard failed", { error: errorFields(error) }),
          ),
      );
  }

  /** Whether the room has shards at all: most rooms do not, and then nothing here runs. */
  get #sharded(): boolean {
    this.#shards ??= this.#shardsOf();
    return (this.#shards ?? 0) > 0;
  }

  #active(): number[] {
    if (!this.#sharded) return [];
    return this.#sql
      .exec<{ shard: number }>("SELECT DISTINCT shard FROM shard_presence")
      .toArray()
      .map((row) => row.shard);
  }
}
