import {
  Attachment,
  PartReceipt,
  Upload,
  type AttachmentKind,
  type NewUpload,
} from "../protocol/index.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import type { ApiRequests } from "./requests.ts";
import {
  afterFailure,
  bytesStored,
  partsToSend,
  planParts,
  type PartSlice,
} from "./upload-plan.ts";

/** How an upload is going: bytes the server holds of the file's `total`. */
export type UploadProgress = { readonly sent: number; readonly total: number };

export type UploadOptions = {
  kind: AttachmentKind;
  /** The name shown and offered on download; defaults to a File's own name. */
  name?: string;
  /** Voice only, and required there (WebM from MediaRecorder has no duration of its own). */
  durationMs?: number;
  /** Voice only: up to 128 peaks, 0..255 (waveform.ts in the UI computes them). */
  waveform?: number[];
  /** Called after each part the server has taken, and once after a resume. */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborts the upload: the part in flight is dropped and the upload given up on the server. */
  signal?: AbortSignal;
  /** Reuse to resume an upload opened before (the same clientId answers the same upload). */
  clientId?: string;
  /** Tries per call before giving up on a passing failure (a dropped connection, a 5xx, a 429). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
};

/** Uploads wait longer than a socket's reconnect: a part is megabytes, not a frame. */
const UPLOAD_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000 };
const MAX_ATTEMPTS = 8;

const randomClientId = () =>
  `up-${Math.random().toString(36).slice(2, 10)}${Math.random().toString(36).slice(2, 10)}`;

/**
 * A room's uploads and attachments (docs/attachments.md, "The HTTP contract" and "The SDK"):
 * the raw routes, and `upload`, which runs them with retries and resumes after a dropped
 * connection, sending only the parts the server lacks.
 * @example
 * const attachment = await api.uploads("lobby").upload(file, { kind: "image" });
 * await api.postMessage("lobby", { clientId: "c1", attachments: [attachment.id] });
 */
export class UploadsApi {
  readonly #requests: ApiRequests;
  readonly #room: string;
  constructor(requests: ApiRequests, room: string) {
    this.#requests = requests;
    this.#room = encodeURIComponent(room);
  }

  get #base(): string {
    return `/api/rooms/${this.#room}/uploads`;
  }

  /** Opens an upload; the same `clientId` again answers the upload it opened the first time. */
  open(input: NewUpload): Promise<Upload> {
    return this.#requests.call(Upload, "POST", this.#base, input);
  }

  /** The upload as its uploader sees it: `received` lists the parts the server has. */
  status(id: string): Promise<Upload> {
    return this.#requests.call(Upload, "GET", `${this.#base}/${encodeURIComponent(id)}`);
  }

  /** One part's bytes; sending a part again replaces it. */
  async sendPart(
    id: string,
    part: number,
    bytes: Blob,
    signal?: AbortSignal,
  ): Promise<PartReceipt> {
    const response = await this.#requests.raw(
      "PUT",
      `${this.#base}/${encodeURIComponent(id)}/parts/${part}`,
      {
        body: bytes,
        headers: { "content-type": "application/octet-stream" },
        ...(signal ? { signal } : {}),
      },
    );
    return PartReceipt.parse(await response.json());
  }

  /** Every part is in: the server assembles the file and checks its type; the attachment to post. */
  complete(id: string): Promise<Attachment> {
    return this.#requests.call(
      Attachment,
      "POST",
      `${this.#base}/${encodeURIComponent(id)}/complete`,
    );
  }

  /** Gives the upload up. */
  abort(id: string): Promise<void> {
    return this.#requests.send("DELETE", `${this.#base}/${encodeURIComponent(id)}`);
  }

  /** An attachment's bytes, for whoever may read the room (a browser makes a blob URL of it). */
  async fetch(id: string, signal?: AbortSignal): Promise<Blob> {
    const path = `/api/rooms/${this.#room}/attachments/${encodeURIComponent(id)}`;
    const response = await this.#requests.raw("GET", path, signal ? { signal } : {});
    return response.blob();
  }

  /**
   * Uploads `blob` whole and answers the attachment to post. Each call is tried again on a
   * dropped connection, a 5xx or a 429, with backoff; after a failed part it asks the server
   * which parts it has and sends only the rest. A refusal (too_large, unsupported_type, quota…)
   * throws the contract's ApiError at once.
   */
  async upload(blob: Blob, options: UploadOptions): Promise<Attachment> {
    const name = options.name ?? (blob as Partial<File>).name ?? "file";
    const clientId = options.clientId ?? randomClientId();
    const retrying = this.#retrier(options);
    const upload = await retrying(() =>
      this.open({
        kind: options.kind,
        name,
        size: blob.size,
        clientId,
        ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
        ...(options.waveform === undefined ? {} : { waveform: options.waveform }),
      }),
    );
    try {
      const plan = planParts(blob.size, upload.partBytes);
      if (upload.state === "open") await this.#sendParts(upload, plan, blob, options);
      return await retrying(() => this.complete(upload.id));
    } catch (error) {
      // The caller stopped: give the server its space back (best effort; it expires anyway).
      if (options.signal?.aborted) await this.abort(upload.id).catch(() => undefined);
      throw error;
    }
  }

  /** Sends the parts the server lacks, in order, resuming from its `received` after a failure. */
  async #sendParts(
    upload: Upload,
    plan: readonly PartSlice[],
    blob: Blob,
    options: UploadOptions,
  ): Promise<void> {
    const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
    const report = (received: readonly number[]) =>
      options.onProgress?.({ sent: bytesStored(plan, received), total: blob.size });
    let received = [...upload.received];
    let todo = partsToSend(plan, received);
    let attempt = 0;
    if (received.length) report(received);
    while (todo.length) {
      const slice = todo[0]!;
      try {
        await this.sendPart(
          upload.id,
          slice.part,
          blob.slice(slice.start, slice.end),
          options.signal,
        );
        received = [...received, slice.part];
        todo = todo.slice(1);
        attempt = 0;
        report(received);
      } catch (error) {
        if (options.signal?.aborted || afterFailure(error, attempt, maxAttempts) === "fail")
          throw error;
        await sleep(backoffDelay(attempt, options.backoff ?? UPLOAD_BACKOFF), options.signal);
        attempt += 1;
        // The part may have been stored before the connection dropped: ask, and send the rest.
        const status = await this.status(upload.id).catch(() => undefined);
        if (status) {
          received = status.received;
          todo = partsToSend(plan, received);
        }
      }
    }
  }

  /** Runs a call, trying it again on passing failures with backoff. */
  #retrier(options: UploadOptions) {
    const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
    return async <T>(call: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await call();
        } catch (error) {
          if (options.signal?.aborted || afterFailure(error, attempt, maxAttempts) === "fail")
            throw error;
          await sleep(backoffDelay(attempt, options.backoff ?? UPLOAD_BACKOFF), options.signal);
        }
      }
    };
  }
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
