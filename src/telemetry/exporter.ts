/**
 * The span exporter: finished spans wait in memory, and `send()` posts them as one OTLP/HTTP
 * request (protobuf, the official transformer's serializer) to `<endpoint>/v1/traces`. The SDK's
 * own exporters time their batches with timers and Node's or the browser's transport; a worker
 * must instead send at the end of each request, RPC or alarm, inside `ctx.waitUntil`.
 */
import type { Context } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { errorFields, log } from "./log.ts";

/** Spans kept at most between two sends: beyond it new spans are dropped and counted. */
export const MAX_PENDING_SPANS = 2048;

/** `<base>/v1/traces`, as the OTLP exporter spec builds the signal's URL from the base. */
export const tracesUrl = (endpoint: string): string => `${endpoint.replace(/\/+$/, "")}/v1/traces`;

export class PendingSpans implements SpanProcessor {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  #spans: ReadableSpan[] = [];
  #dropped = 0;

  constructor(endpoint: string, headers: Record<string, string>) {
    this.#url = tracesUrl(endpoint);
    this.#headers = headers;
  }

  onStart(_span: Span, _parent: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#spans.length < MAX_PENDING_SPANS) this.#spans.push(span);
    else this.#dropped += 1;
  }

  /** Posts what is pending; undefined when nothing is. Never throws: a failure is logged once. */
  send(): Promise<void> | undefined {
    if (this.#spans.length === 0) return undefined;
    const batch = this.#spans;
    const dropped = this.#dropped;
    this.#spans = [];
    this.#dropped = 0;
    return this.#post(batch, dropped);
  }

  async #post(batch: ReadableSpan[], dropped: number): Promise<void> {
    try {
      const serialized = ProtobufTraceSerializer.serializeRequest(batch);
      if (!serialized) throw new Error("the spans could not be serialized");
      const body = new Uint8Array(serialized); // an ArrayBuffer of its own, as fetch wants
      const response = await fetch(this.#url, {
        method: "POST",
        headers: { ...this.#headers, "content-type": "application/x-protobuf" },
        body,
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`the collector answered ${response.status}`);
      if (dropped > 0) log.warn("trace export dropped spans over the limit", { dropped });
    } catch (error) {
      log.warn("trace export failed", { spans: batch.length, dropped, error: errorFields(error) });
    }
  }

  forceFlush(): Promise<void> {
    return this.send() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }
}
