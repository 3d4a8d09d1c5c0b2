import type { Refusal } from "../protocol/index.ts";
import { errorFields, log } from "../telemetry/log.ts";

/** The calls made on a user's UserLimits object (src/limits/user-limits.ts). */
export type UserLimitsStub = {
  setSockets(room: string, count: number, max?: number): Promise<boolean>;
  claimRoom(room: string, max?: number): Promise<boolean>;
  releaseRoom(room: string): Promise<void>;
};

/**
 * What a room tells its users' UserLimits objects (docs/limits.md). Open sockets: at most
 * `perRoom` in this room, checked here, and at most `perUser` in all rooms together, counted
 * there. The newest socket is the one refused (`quota`), never an open one closed: closing the
 * oldest would let two tabs of the same person knock each other off in turn as each reconnects.
 * Rooms owned: they follow a transfer.
 */
export class UserQuotas {
  readonly #limits: (userId: string) => UserLimitsStub;
  readonly #max: { perRoom: number; perUser: number };
  readonly #keepAlive: (work: Promise<unknown>) => void;

  constructor(
    limits: (userId: string) => UserLimitsStub,
    max: { perRoom: number; perUser: number },
    keepAlive: (work: Promise<unknown>) => void,
  ) {
    this.#limits = limits;
    this.#max = max;
    this.#keepAlive = keepAlive;
  }

  /**
   * Whether `userId`, who has `here` sockets open in `room`, may open one more: a refusal, or
   * undefined (and the new one counted).
   */
  async admit(room: string, userId: string, here: number): Promise<Refusal | undefined> {
    const { perRoom, perUser } = this.#max;
    if (here >= perRoom)
      return quota(`you have ${here} connections to this room open (at most ${perRoom})`);
    if (!(await this.#limits(userId).setSockets(room, here + 1, perUser)))
      return quota(`you have ${perUser} connections open in all rooms (at most ${perUser})`);
    return undefined;
  }

  /** `userId` now has `here` sockets open in `room` (one of theirs closed). */
  left(room: string, userId: string, here: number): void {
    this.#keepAlive(
      this.#limits(userId)
        .setSockets(room, here)
        .catch((error: unknown) =>
          log.warn("socket count not updated", { error: errorFields(error) }),
        ),
    );
  }

  /** `room` was handed from `from` (absent in older events) to `to`: it counts as `to`'s now. */
  handedOver(room: string, to: string, from: string | undefined): void {
    const moved = Promise.all([
      this.#limits(to).claimRoom(room),
      from === undefined ? undefined : this.#limits(from).releaseRoom(room),
    ]).catch((error: unknown) =>
      log.warn("rooms owned not updated", { error: errorFields(error) }),
    );
    this.#keepAlive(moved);
  }
}

const quota = (why: string): Refusal => ({ code: "quota", message: `${why}: close one first` });
