import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Context } from "hono";
import { actorOf } from "../http/authenticate.ts";
import type { AppEnv } from "../http/app-env.ts";
import { parseOr400, unwrap } from "../http/openapi.ts";
import type { Actor } from "../identity/actor.ts";
import { ApiError, Command, RoomParam } from "../protocol/index.ts";
import { seq } from "./convert.ts";
import { callScopeKey, childTraceparent, traceContextKey } from "./trace-context.ts";
import { traceparentIn } from "../telemetry/tracing.ts";

/** The Hono context of the request an RPC arrived in, set by the transport for the handlers. */
export const HONO = createContextKey<Context<AppEnv> | undefined>(undefined, {
  description: "the Hono context of the request",
});

/** What a handler works with: the request's Hono context and its verified caller. */
export type Call = {
  hono: Context<AppEnv>;
  /** The caller, verified as REST verifies it (`unauthorized` without a token). */
  actor(): Promise<Actor>;
  /** A room by name, checked as REST checks a path's room name. */
  room(name: string): ReturnType<Env["ROOM"]["getByName"]>;
  /**
   * The trace context to hand the room with a command: a child span of the caller's (the
   * worker's hop), or none when the call came without one (W3C trace context).
   */
  traceparent: string | undefined;
};

export function callOf(context: HandlerContext): Call {
  const hono = context.values.get(HONO);
  if (!hono) throw new ApiError("internal", "an RPC outside the worker's transport");
  let actor: Promise<Actor> | undefined;
  return {
    hono,
    actor: () =>
      (actor ??= actorOf(hono).then((user) => {
        if (!user) throw new ApiError("unauthorized", "a bearer token is required");
        hono.set("user", user); // for the helpers shared with REST, which read c.var.user
        return user;
      })),
    room: (name) => hono.env.ROOM.getByName(parseOr400(RoomParam, { room: name }).room),
    traceparent: traceOf(context),
  };
}

/** The call's span (tracing on); else the caller's trace context handed on as it came. */
function traceOf(context: HandlerContext): string | undefined {
  const scope = context.values.get(callScopeKey);
  if (scope) return traceparentIn(scope);
  const trace = context.values.get(traceContextKey);
  return trace && childTraceparent(trace);
}

/**
 * One room command, parsed by the contract's `Command` schema and decided by the room, like a
 * WebSocket frame, `POST …/commands` or a GraphQL mutation: the seq of its (last) event.
 */
export async function command(
  call: Call,
  room: string,
  frame: Record<string, unknown>,
): Promise<{ seq: bigint }> {
  const actor = await call.actor();
  const stub = call.room(room);
  const requestId = call.hono.var.telemetry?.requestId;
  const parsed = parseOr400(Command, frame);
  const posted = unwrap(await stub.command(parsed, actor, call.traceparent, requestId));
  return { seq: seq(posted.seq) };
}
