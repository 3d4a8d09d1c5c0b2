import type { Command } from "../protocol/index.ts";
import { Outbox } from "./outbox.ts";

/**
 * When the commands in the outbox go out (docs/protocol.md, the SDK): oldest first, as the
 * outbox's window and pace allow, and not at all while the room has asked to hold off. A refused
 * command goes again with the ones posted after it, not ahead of the room's wait, so that a busy
 * room's refusals do not come back on top of new work.
 */
export class CommandSender {
  readonly outbox = new Outbox();
  readonly #write: (command: Command) => void;
  readonly #canWrite: () => boolean;
  /** Commands wait until then: the room said it is overloaded (Date.now() time). */
  #holdUntil = 0;
  /** The one timer that sends what waits, and when it fires. */
  #timer: { due: number; handle: ReturnType<typeof setTimeout> } | undefined;

  /** `write` puts a command on the socket; `canWrite` says whether there is one to put it on. */
  constructor(write: (command: Command) => void, canWrite: () => boolean) {
    this.#write = write;
    this.#canWrite = canWrite;
  }

  /** Writes what may go now; arms the timer for what must wait. */
  send(): void {
    const now = Date.now();
    if (this.#holdUntil > now) return this.#sendAt(this.#holdUntil);
    if (!this.#canWrite()) return;
    for (const command of this.outbox.takeUnsent(now)) this.#write(command);
    const paceMs = this.outbox.paceMs(now);
    if (paceMs > 0) this.#sendAt(now + paceMs);
  }

  /**
   * The room pushed `clientId` back, asking for `askedMs`: every command waits at least that
   * (the outbox adds a growing backoff). Returns the wait, or undefined if it is not pending.
   */
  hold(clientId: string, askedMs: number): number | undefined {
    const waitMs = this.outbox.pushedBack(clientId, askedMs);
    if (waitMs === undefined) return undefined;
    this.#holdUntil = Math.max(this.#holdUntil, Date.now() + waitMs);
    this.send();
    return waitMs;
  }

  /** Stops the timer (the connection closed for good). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer.handle);
    this.#timer = undefined;
  }

  /**
   * Runs send() at `due`, or sooner if it is already due sooner. `due` may be behind us by the
   * time the timer is armed (writes took longer than the pace asked): then at once, since a
   * negative delay makes Node warn (TimeoutNegativeWarning).
   */
  #sendAt(due: number): void {
    if (this.#timer && this.#timer.due <= due) return;
    if (this.#timer) clearTimeout(this.#timer.handle);
    const handle = setTimeout(
      () => {
        this.#timer = undefined;
        this.send();
      },
      Math.max(0, due - Date.now()),
    );
    this.#timer = { due, handle };
  }
}
