import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ServiceError } from "./errors.ts";
import { missingParts } from "./health.ts";
import type { TranscriberOptions } from "./options.ts";
import { transcribeAudio } from "./pipeline.ts";
import { JobQueue, QueueFull } from "./queue.ts";
import { parseTranscribeRequest } from "./request.ts";

/** Seconds a refused caller is told to wait when the line is full: about one short job. */
const BUSY_RETRY_AFTER_S = 5;

export type TranscriberService = {
  /** http://host:port */
  url: string;
  queue: JobQueue;
  close(): Promise<void>;
};

/**
 * The local transcriber (docs/attachments.md, "The local transcriber"): Workers AI Whisper's
 * input and output over HTTP, heard by pocketsphinx.
 *
 * - `POST /v1/transcribe`: `WhisperInput` as JSON → `WhisperOutput` (200), or the contract's
 *   error body: 400 `bad_request`, 413 `too_large`, 415 `unsupported_type` (the bytes do not
 *   decode as audio), 503 `overloaded` with Retry-After (the line is full), 503 `unavailable`
 *   (a tool is missing, or the job ran past its time limit).
 * - `GET /healthz`: 200 when both tools and the model are there, else 503 naming what is missing.
 */
export async function startTranscriberService(
  options: TranscriberOptions,
): Promise<TranscriberService> {
  const queue = new JobQueue({ running: options.jobs, waiting: options.queue });
  // Ends every job still running or waiting when the service closes.
  const closing = new AbortController();

  const transcribe = async (req: IncomingMessage, res: ServerResponse) => {
    const input = parseTranscribeRequest(await readJson(req, options.maxBodyBytes));
    const audio = Buffer.from(input.audio, "base64");
    // The caller leaving (it timed out, the room gave up) frees the slot: its job is killed.
    const callerLeft = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) callerLeft.abort(new Error("the caller left"));
    });
    const answer = await queue
      .run(
        () => {
          const limit = AbortSignal.timeout(options.jobTimeoutMs);
          const signal = AbortSignal.any([limit, callerLeft.signal, closing.signal]);
          return transcribeAudio(audio, options, signal).catch((error: unknown) => {
            if (limit.aborted)
              throw new ServiceError(
                "unavailable",
                `the job ran past its limit of ${options.jobTimeoutMs / 1000} s and was stopped`,
              );
            throw error;
          });
        },
        AbortSignal.any([callerLeft.signal, closing.signal]),
      )
      .catch((error: unknown) => {
        if (closing.signal.aborted)
          throw new ServiceError("unavailable", "the transcriber is shutting down");
        throw error;
      });
    sendJson(res, 200, answer);
  };

  const health = async (res: ServerResponse) => {
    const missing = await missingParts(options);
    if (missing.length > 0)
      return sendJson(res, 503, {
        ...new ServiceError("unavailable", `missing: ${missing.join(", ")}`).body,
        missing,
      });
    sendJson(res, 200, {
      ok: true,
      engine: "pocketsphinx",
      running: queue.running,
      waiting: queue.waiting,
    });
  };

  const server = createServer((req, res) => {
    const route = `${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`;
    const handled =
      route === "POST /v1/transcribe"
        ? transcribe(req, res)
        : route === "GET /healthz"
          ? health(res)
          : Promise.reject(
              new ServiceError(
                "not_found",
                `no route ${route}: POST /v1/transcribe or GET /healthz`,
              ),
            );
    handled.catch((error: unknown) => sendError(req, res, error));
  });
  await new Promise<void>((ready) => server.listen(options.port, options.host, ready));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}`,
    queue,
    close: async () => {
      closing.abort(new Error("the transcriber is closing"));
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Callers of the jobs just stopped get their 503 first; then every connection goes.
      setTimeout(() => server.closeAllConnections(), 500).unref();
      await closed;
    },
  };
}

/**
 * The body as JSON, refused past `maxBytes` (413). Past the cap the rest is read and dropped
 * rather than the socket cut, so that the caller gets the answer and not a reset.
 */
async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes)
    throw new ServiceError(
      "too_large",
      `the body is ${size} bytes, more than the ${maxBytes} this service takes`,
    );
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ServiceError("bad_request", "the body is not JSON");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Any failure as the contract's error body; what is not a refusal is logged, never sent. */
function sendError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const refusal =
    error instanceof ServiceError
      ? error
      : error instanceof QueueFull
        ? new ServiceError(
            "overloaded",
            "the transcriber is busy: try again later",
            BUSY_RETRY_AFTER_S,
          )
        : undefined;
  if (!refusal) {
    console.error(`transcriber: ${req.method} ${req.url} failed:`, error);
    return sendJson(res, 500, new ServiceError("internal", "the transcriber failed").body);
  }
  const headers = refusal.retryAfterS ? { "retry-after": String(refusal.retryAfterS) } : {};
  sendJson(res, refusal.status, refusal.body, headers);
}
