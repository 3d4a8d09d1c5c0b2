import { createContextKey } from "@connectrpc/connect";
import type { Scope } from "../telemetry/tracing.ts";

/**
 * A W3C trace context (https://www.w3.org/TR/trace-context/) as a call carried it in: the
 * caller's trace, the caller's span (`parentId`), the trace flags and the vendors' `tracestate`.
 */
export type TraceContext = {
  readonly traceId: string;
  readonly parentId: string;
  readonly flags: number;
  readonly state: string | undefined;
};

/** Where the interceptor leaves the call's trace context: undefined when none came in. */
export const traceContextKey = createContextKey<TraceContext | undefined>(undefined, {
  description: "edgechat: the call's W3C trace context",
});

/** The call's span as the parent of what it does (the room's command), when traced. */
export const callScopeKey = createContextKey<Scope | undefined>(undefined, {
  description: "edgechat: the call's span",
});

// version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex only (the spec's HEXDIGLC).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;
// The spec lets a receiver drop a longer tracestate; the worker only passes it on.
const MAX_TRACESTATE = 512;

/**
 * The trace context of a `traceparent` header (and its `tracestate`), or undefined when the
 * header is absent or invalid: then the call starts a new trace, as the spec says, rather than
 * failing. Version ff is invalid; version 00 has exactly four fields; a later version may add
 * fields, which are ignored; an all-zero trace or parent id is invalid.
 */
export function parseTraceparent(
  traceparent: string | null | undefined,
  tracestate?: string | null,
): TraceContext | undefined {
  const match = TRACEPARENT.exec(traceparent?.trim() ?? "");
  if (!match) return undefined;
  const [, version, traceId = "", parentId = "", flags = "", rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (ZEROS.test(traceId) || ZEROS.test(parentId)) return undefined;
  const state = tracestate?.trim();
  return {
    traceId,
    parentId,
    flags: Number.parseInt(flags, 16),
    state: state && state.length <= MAX_TRACESTATE ? state : undefined,
  };
}

/**
 * The context to hand on to the next hop (the room's RPC): the same trace, `spanId` (the span
 * of this hop) as the parent, the flags of version 00 (only "sampled" is defined).
 */
export function childTraceparent(trace: TraceContext, spanId: string = newSpanId()): string {
  const flags = (trace.flags & 0x01).toString(16).padStart(2, "0");
  return `00-${trace.traceId}-${spanId}-${flags}`;
}

/** A random, non-zero 8-byte span id in lowercase hex. */
export function newSpanId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  if (bytes.every((byte) => byte === 0)) bytes[7] = 1;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
