import type { Result, RoomEvent } from "../protocol/index.ts";
import type { Command } from "../protocol/index.ts";
import type { Actor } from "../identity/actor.ts";
import { errorFields, log } from "../telemetry/log.ts";
import type { ClockSource, Firing } from "./clock.ts";
import { transcriberActor } from "./decide-attachments.ts";
import {
  beyondClaimS,
  fitTranscript,
  retryDelayMs,
  TRANSCRIBE_FOR_MS,
} from "../media/transcript-rules.ts";
import {
  TranscriberDown,
  TranscriptionFailed,
  type Transcriber,
} from "../transcription/transcriber.ts";

export type TranscriptionDeps = {
  storage: DurableObjectStorage;
  roomName: () => string;
  /** The configured transcriber; undefined when none is (voice messages stay untranscribed). */
  transcriber: Transcriber | undefined;
  /** An attachment's bytes, or undefined when its object is gone. */
  bytes: (attachmentId: string) => Promise<Uint8Array | undefined>;
  submit: (command: Command, actor: Actor) => Promise<Result<{ seq: number }>>;
  keepAlive: (work: Promise<unknown>) => void;
  /** The clock's times changed. */
  changed: () => void;
};

type PendingRow = {
  attachment_id: string;
  message_id: number;
  type: string;
  attempts: number;
  due: number;
  since: number;
};

/** Transcriptions one room runs at once: each holds a voice message's bytes while it waits. */
const AT_ONCE = 2;
/**
 * A running transcription's row is due again after this: a crash mid-call retries it, and a
 * call still running is never started twice (it times out first).
 */
const LEASE_MS = TRANSCRIBE_FOR_MS + 60 * 1000;

/**
 * The room's voice attachments waiting for their transcript (docs/attachments.md,
 * "Transcription"). Each is written down in `transcriptions_pending` in the turn of its post's
 * commit, so a crash or a transcriber that is down loses none: the clock takes them in order,
 * at most two at a time, retrying with backoff for a day. The transcript is logged as a
 * `message.transcribed` by the Transcriber bot with the clientId `transcript:<attachment>`, so
 * a transcription run twice (a crash after the call) logs once.
 */
export class Transcriptions implements ClockSource {
  readonly name = "transcriptions";
  readonly #deps: TranscriptionDeps;
  readonly #sql: SqlStorage;
  readonly #running = new Set<string>();

  constructor(deps: TranscriptionDeps) {
    this.#deps = deps;
    this.#sql = deps.storage.sql;
  }

  /** Events were committed: their voice attachments wait for a transcript. */
  committed(stored: readonly RoomEvent[], now: number): void {
    if (!this.#deps.transcriber) return;
    let added = false;
    for (const event of stored) {
      if (event.type !== "message.posted") continue;
      for (const attachment of event.data.attachments ?? []) {
        if (attachment.kind !== "voice") continue;
        this.#sql.exec(
          `INSERT OR IGNORE INTO transcriptions_pending (attachment_id, message_id, type, attempts, due, since)
           VALUES (?, ?, ?, 0, ?, ?)`,
          attachment.id,
          event.seq,
          attachment.type,
          now,
          now,
        );
        added = true;
      }
    }
    if (added) this.#deps.changed();
  }

  // ---- ClockSource ----

  due(now: number, limit: number): Firing[] {
    if (!this.#deps.transcriber) return [];
    const room = Math.min(limit, AT_ONCE - this.#running.size);
    if (room <= 0) return [];
    return this.#sql
      .exec<PendingRow>(
        "SELECT * FROM transcriptions_pending WHERE due <= ? ORDER BY due LIMIT ?",
        now,
        room,
      )
      .toArray()
      .map((row) => ({ at: row.due, fire: () => this.#start(row, now) }));
  }

  next(): number | undefined {
    // At capacity nothing more can start: the next to finish asks the clock again (`changed`).
    if (!this.#deps.transcriber || this.#running.size >= AT_ONCE) return undefined;
    const row = this.#sql
      .exec<{ due: number | null }>("SELECT min(due) AS due FROM transcriptions_pending")
      .toArray()[0];
    return row?.due ?? undefined;
  }

  /** How many voice attachments wait for their transcript. */
  waiting(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM transcriptions_pending").one()
      .n;
  }

  /** Leases the row and runs the call in the background: the clock's tick must not wait on it. */
  #start(row: PendingRow, now: number): void {
    if (this.#running.has(row.attachment_id)) return;
    this.#running.add(row.attachment_id);
    this.#setDue(row.attachment_id, now + LEASE_MS);
    this.#deps.keepAlive(
      this.#run(row).finally(() => {
        this.#running.delete(row.attachment_id);
        this.#deps.changed();
      }),
    );
  }

  async #run(row: PendingRow): Promise<void> {
    const transcriber = this.#deps.transcriber!;
    try {
      const audio = await this.#deps.bytes(row.attachment_id);
      if (!audio) return this.#done(row, "its file is gone");
      const heard = await withTimeout(transcriber.transcribe(audio, row.type), TRANSCRIBE_FOR_MS);
      this.#checkClaim(row.attachment_id, heard.durationS);
      const transcript = fitTranscript(
        heard,
        row.message_id,
        row.attachment_id,
        transcriber.engine,
      );
      const logged = await this.#deps.submit(
        { type: "transcript", clientId: `transcript:${row.attachment_id}`, transcript },
        transcriberActor(this.#deps.roomName()),
      );
      if (logged.ok || logged.error.code === "not_found")
        return this.#done(row, logged.ok ? undefined : "its message is gone");
      throw new Error(`the room refused the transcript: ${logged.error.message}`);
    } catch (error) {
      // The engine refused this audio: asking again gives the same answer.
      if (error instanceof TranscriptionFailed) return this.#done(row, error.message);
      this.#retry(row, error);
    }
  }

  /** A recording longer than its uploader said is kept, and logged: the claim is the client's. */
  #checkClaim(attachmentId: string, heardS: number | undefined): void {
    const claimed = this.#sql
      .exec<{ duration_ms: number | null }>(
        "SELECT duration_ms FROM uploads WHERE id = ?",
        attachmentId,
      )
      .toArray()[0]?.duration_ms;
    const over = claimed == null ? undefined : beyondClaimS(claimed, heardS);
    if (over !== undefined)
      log.warn("voice message longer than its uploader said", {
        attachment: attachmentId,
        claimedMs: claimed,
        heardS,
        overS: over,
      });
  }

  #done(row: PendingRow, dropped: string | undefined): void {
    this.#sql.exec("DELETE FROM transcriptions_pending WHERE attachment_id = ?", row.attachment_id);
    if (dropped) log.info("transcription dropped", { attachment: row.attachment_id, why: dropped });
  }

  #retry(row: PendingRow, error: unknown): void {
    const now = Date.now();
    const backoff = retryDelayMs(row.attempts + 1, now - row.since);
    // An engine that said how long to wait (Retry-After) is not asked sooner.
    const asked = error instanceof TranscriberDown ? (error.retryAfterS ?? 0) * 1000 : 0;
    const delay = backoff === undefined ? undefined : Math.max(backoff, asked);
    if (delay === undefined) {
      log.error("transcription given up", {
        attachment: row.attachment_id,
        error: errorFields(error),
      });
      return this.#done(row, undefined);
    }
    log.warn("transcription failed, will retry", {
      attachment: row.attachment_id,
      attempts: row.attempts + 1,
      error: errorFields(error),
    });
    this.#sql.exec(
      "UPDATE transcriptions_pending SET attempts = attempts + 1, due = ? WHERE attachment_id = ?",
      now + delay,
      row.attachment_id,
    );
  }

  #setDue(attachmentId: string, due: number): void {
    this.#sql.exec(
      "UPDATE transcriptions_pending SET due = ? WHERE attachment_id = ?",
      due,
      attachmentId,
    );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no transcript within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
