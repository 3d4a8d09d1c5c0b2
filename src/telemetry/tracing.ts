/**
 * OpenTelemetry tracing for the worker and its Durable Objects (docs/observability.md,
 * "Tracing"): the official SDK's tracer and samplers, spans kept in memory until the end of the
 * request, RPC or alarm that made them, then sent in one OTLP/HTTP request (exporter.ts).
 *
 * No global context manager: workerd (without nodejs_compat) has no AsyncLocalStorage, so the
 * parent is always passed by hand, as a `Scope`, and across a Durable Object RPC as a W3C
 * `traceparent` string.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from "@opentelemetry/sdk-trace-base";
import { telemetryConfig, type TelemetryConfig } from "../config.ts";
import { PendingSpans } from "./exporter.ts";

export { SpanKind, SpanStatusCode, type Attributes, type Link, type Span, type SpanContext };

/** The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` name (the OTel SDK spec's). */
export function samplerOf(
  config: Pick<TelemetryConfig, "OTEL_TRACES_SAMPLER" | "OTEL_TRACES_SAMPLER_ARG">,
): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG);
  switch (config.OTEL_TRACES_SAMPLER) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratio();
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio() });
  }
}

const propagator = new W3CTraceContextPropagator();
type Carrier = Record<string, string>;
const carrierGetter = {
  get: (carrier: Carrier, key: string) => carrier[key],
  keys: (carrier: Carrier) => Object.keys(carrier),
};
const carrierSetter = {
  set: (carrier: Carrier, key: string, value: string) => (carrier[key] = value),
};

/** The OTel context of a W3C `traceparent` (and `tracestate`): the root when absent or invalid. */
export function contextOf(traceparent?: string | null, tracestate?: string | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  const carrier: Carrier = { traceparent };
  if (tracestate) carrier.tracestate = tracestate;
  return propagator.extract(ROOT_CONTEXT, carrier, carrierGetter);
}

/** The W3C `traceparent` naming `span` as the parent, for the next hop; none for an invalid span. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Carrier = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, carrierSetter);
  return carrier.traceparent;
}

/** The tracing of one isolate: a tracer, and the finished spans waiting to be exported. */
export class Tracing {
  readonly tracer: Tracer;
  readonly #pending: PendingSpans;

  constructor(config: TelemetryConfig & { OTEL_EXPORTER_OTLP_ENDPOINT: string }) {
    this.#pending = new PendingSpans(
      config.OTEL_EXPORTER_OTLP_ENDPOINT,
      config.OTEL_EXPORTER_OTLP_HEADERS,
    );
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": config.OTEL_SERVICE_NAME,
        "cloud.provider": "cloudflare",
        "cloud.platform": "cloudflare_workers",
      }),
      sampler: samplerOf(config),
      spanProcessors: [this.#pending],
    });
    this.tracer = provider.getTracer("edgechat");
  }

  /** Sends the spans finished so far; `keepAlive` (ctx.waitUntil) holds the runtime for it. */
  export(keepAlive: (work: Promise<unknown>) => void): void {
    const sent = this.#pending.send();
    if (sent) keepAlive(sent);
  }
}

const tracings = new WeakMap<object, Tracing | null>();

/** The isolate's tracing for `env`, or undefined when OTEL_EXPORTER_OTLP_ENDPOINT is unset. */
export function tracingOf(env: object): Tracing | undefined {
  let tracing = tracings.get(env);
  if (tracing === undefined) {
    const config = telemetryConfig(env);
    const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
    tracing = endpoint ? new Tracing({ ...config, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }) : null;
    tracings.set(env, tracing);
  }
  return tracing ?? undefined;
}

/**
 * Where new spans hang: the tracing and the context holding the parent span. Undefined
 * everywhere when tracing is off, which costs the callers one check.
 */
export type Scope = { readonly tracing: Tracing; readonly context: Context };

export type SpanOptions = {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  startTime?: number;
};

/** A span under `scope`, and the scope for its children. */
export function startSpan(
  scope: Scope,
  name: string,
  options: SpanOptions = {},
): { span: Span; scope: Scope } {
  const span = scope.tracing.tracer.startSpan(name, options, scope.context);
  return { span, scope: { tracing: scope.tracing, context: trace.setSpan(scope.context, span) } };
}

/** The root scope of a call that came with `traceparent` (or without: a new trace). */
export function scopeFrom(
  tracing: Tracing | undefined,
  traceparent?: string | null,
  tracestate?: string | null,
): Scope | undefined {
  return tracing && { tracing, context: contextOf(traceparent, tracestate) };
}

/** The `traceparent` to hand the next hop from `scope`'s span; none when tracing is off. */
export function traceparentIn(scope: Scope | undefined): string | undefined {
  const span = scope && trace.getSpan(scope.context);
  return span && traceparentOf(span);
}

/** The trace id of `scope`'s span, for logs and error bodies. */
export function traceIdIn(scope: Scope | undefined): string | undefined {
  const span = scope && trace.getSpan(scope.context);
  return span?.spanContext().traceId;
}

/** Marks `span` failed with `error` (its name and message; a stack trace is the logs' job). */
export function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * Runs `work` inside a span under `scope` (or plainly, tracing off): the span fails if `work`
 * throws, and ends either way.
 */
export async function inSpan<T>(
  scope: Scope | undefined,
  name: string,
  options: SpanOptions,
  work: (scope: Scope | undefined, span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!scope) return work(undefined, undefined);
  const started = startSpan(scope, name, options);
  try {
    return await work(started.scope, started.span);
  } catch (error) {
    failSpan(started.span, error);
    throw error;
  } finally {
    started.span.end();
  }
}
