import type { RoomInfo } from "../protocol/index.ts";
import { directoryFor } from "./shards.ts";
import { errorFields, log } from "../telemetry/log.ts";

/** Sends a room's summary to its directory shard; false when it could not be delivered (retry later). */
export async function notifyDirectory(env: Env, info: RoomInfo): Promise<boolean> {
  try {
    await directoryFor(env, info.name).upsert(info);
    return true;
  } catch (error) {
    log.warn("directory update failed, will retry", { error: errorFields(error) });
    return false;
  }
}

/**
 * Keeps the directory's copy of one room's summary fresh. Pushes are coalesced (a burst of
 * joins sends one update after the one in flight); a failed one asks for a retry via the
 * room's alarm.
 */
export class DirectoryFeed {
  readonly #env: Env;
  readonly #summary: () => RoomInfo | undefined;
  readonly #retryAt: (at: number) => void;
  #state: "idle" | "busy" | "again" = "idle";

  constructor(env: Env, summary: () => RoomInfo | undefined, retryAt: (at: number) => void) {
    this.#env = env;
    this.#summary = summary;
    this.#retryAt = retryAt;
  }

  async push(): Promise<void> {
    if (this.#state !== "idle") {
      this.#state = "again";
      return;
    }
    do {
      this.#state = "busy";
      const info = this.#summary();
      if (info && !(await notifyDirectory(this.#env, info))) this.#retryAt(Date.now() + 5_000);
    } while ((this.#state as string) === "again");
    this.#state = "idle";
  }
}
