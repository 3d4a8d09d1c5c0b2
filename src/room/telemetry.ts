import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { telemetryConfig } from "../config.ts";
import type { Command, Result } from "../protocol/index.ts";
import { log, useLogLevel } from "../telemetry/log.ts";
import {
  inSpan,
  scopeFrom,
  SpanKind,
  SpanStatusCode,
  startSpan,
  tracingOf,
  type SpanContext,
  type Tracing,
} from "../telemetry/tracing.ts";

/** Commands whose spans one flush span links to at most, beyond its parent. */
const MAX_FLUSH_LINKS = 32;

/** What a command's telemetry needs of it (a Job of command-batch.ts). */
export type TracedCommand = {
  readonly command: Command;
  readonly actor: { id: string };
  readonly traceparent?: string | undefined;
  readonly requestId?: string | undefined;
  /** Over a socket rather than an RPC. */
  readonly ws?: unknown;
};

/** A command's outcome as logs and spans name it: `ok` or the refusal's code. */
export const outcomeOf = (result: Result<{ seq: number }>): string =>
  result.ok ? "ok" : result.error.code;

/**
 * A room's spans and log lines (docs/observability.md): one `room.command` span and one log
 * line per command, a child of the caller's span when it came with a `traceparent` (an RPC
 * from the worker), a root span when it came in a WebSocket frame, which carries none; one
 * `db.flush` span per batch sent to Postgres, a child of the first command span the batch
 * carries, linked to the others. The spans go out after each batch of commands and each alarm.
 */
export class RoomTelemetry {
  readonly #tracing: Tracing | undefined;
  readonly #room: () => string | undefined;
  readonly #keepAlive: (work: Promise<unknown>) => void;
  /** The spans of the commands committed since the last flush: in memory only (see the docs). */
  #unflushed: SpanContext[] = [];
  #exportQueued = false;

  constructor(
    env: object,
    room: () => string | undefined,
    keepAlive: (work: Promise<unknown>) => void,
  ) {
    useLogLevel(telemetryConfig(env).LOG_LEVEL);
    this.#tracing = tracingOf(env);
    this.#room = room;
    this.#keepAlive = keepAlive;
  }

  /** Starts `job`'s span; the function it returns ends it with the outcome and logs the line. */
  command(job: TracedCommand): (result: Result<{ seq: number }>) => void {
    const started = Date.now();
    const type = job.command.type;
    const scope = scopeFrom(this.#tracing, job.traceparent);
    const span =
      scope &&
      startSpan(scope, "room.command", {
        kind: SpanKind.SERVER,
        attributes: {
          "edgechat.room": this.#room() ?? "",
          "edgechat.command.type": type,
          "edgechat.transport": job.ws ? "websocket" : "rpc",
        },
      }).span;
    return (result) => {
      const outcome = outcomeOf(result);
      const seq = result.ok ? result.value.seq : undefined;
      if (span) {
        span.setAttributes({
          "edgechat.command.outcome": outcome,
          ...(seq && { "edgechat.seq": seq }),
        });
        if (outcome === "internal") span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        if (result.ok && this.#unflushed.length <= MAX_FLUSH_LINKS)
          this.#unflushed.push(span.spanContext());
        this.#queueExport();
      }
      log.info("command", {
        requestId: job.requestId,
        room: this.#room(),
        type,
        outcome,
        seq,
        durationMs: Date.now() - started,
        traceId: span?.spanContext().traceId,
        spanId: span?.spanContext().spanId,
        userId: job.actor.id,
        transport: job.ws ? "websocket" : "rpc",
      });
    };
  }

  /**
   * Runs one flush batch of `rows` events inside a `db.flush` span: a child of the first command
   * committed since the last flush, linked to the others; a new root when the room no longer
   * remembers them (a retry, a later batch of a long backlog, an object started afresh).
   */
  flush<T>(rows: number, write: () => Promise<T>): Promise<T> {
    if (!this.#tracing) return write();
    const [parent, ...others] = this.#unflushed;
    this.#unflushed = [];
    const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
    return inSpan(
      { tracing: this.#tracing, context },
      "db.flush",
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "db.system": "postgresql",
          "db.system.name": "postgresql",
          "db.operation.name": "flush",
          "edgechat.room": this.#room() ?? "",
          "edgechat.flush.rows": rows,
        },
        links: others.map((context) => ({ context })),
      },
      write,
    );
  }

  /**
   * A chat socket's upgrade: a `room.connect` span, a child of the worker's request span; the
   * function it returns ends it with the answer's status.
   */
  connect(traceparent: string | null): (status: number) => void {
    const scope = scopeFrom(this.#tracing, traceparent);
    if (!scope) return () => {};
    const { span } = startSpan(scope, "room.connect", {
      kind: SpanKind.SERVER,
      attributes: { "edgechat.room": this.#room() ?? "" },
    });
    return (status) => {
      span.setAttribute("http.response.status_code", status);
      span.end();
      this.export();
    };
  }

  /** Sends the spans finished so far (after an alarm, say). */
  export(): void {
    this.#tracing?.export(this.#keepAlive);
  }

  /** One export after the batch whose commands are ending now, not one per command. */
  #queueExport(): void {
    if (this.#exportQueued) return;
    this.#exportQueued = true;
    queueMicrotask(() => {
      this.#exportQueued = false;
      this.export();
    });
  }
}
