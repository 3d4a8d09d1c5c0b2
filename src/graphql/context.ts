import type { Context } from "hono";
import { actorOf } from "../http/authenticate.ts";
import type { AppEnv } from "../http/app-env.ts";
import { unwrap } from "../http/openapi.ts";
import type { Actor } from "../identity/actor.ts";
import { accountKey } from "../identity/refresh-token.ts";
import { ApiError, type Command, type Moment, type Result } from "../protocol/index.ts";
import { CallMemo } from "./memo.ts";
import { traceparentIn, type Scope } from "../telemetry/tracing.ts";

/** What every resolver gets: the Hono context REST's helpers take, the actor, the room calls. */
export type GraphQLContext = {
  hono: Context<AppEnv>;
  memo: CallMemo;
  /** The verified actor; `unauthorized` without a token, as every REST route but sign-in. */
  actor(): Promise<Actor>;
  room(name: string): RoomCalls;
  /** The actor's account's rooms, noted last first (one Account RPC); none for a guest. */
  accountRooms(limit: number): Promise<string[]>;
  /**
   * The span the room calls hang under: the request's, then the operation's once the tracing
   * plugin (tracing.ts) started it. Undefined when tracing is off.
   */
  trace: { scope: Scope | undefined };
};

/**
 * The context of one request. The actor is verified at most once (one Account RPC for a
 * registered user) and only when a field needs it, so that introspection runs without a token.
 */
export function createContext(hono: Context<AppEnv>): GraphQLContext {
  const memo = new CallMemo();
  const actor = async () => {
    const user = await memo.load("actor", () => actorOf(hono));
    if (!user) throw new ApiError("unauthorized", "a bearer token is required");
    hono.set("user", user); // for the helpers shared with REST, which read c.var.user
    return user;
  };
  const accountRooms = (limit: number) =>
    actor().then((who) =>
      who.kind === "user"
        ? memo.load(`account:rooms:${limit}`, () =>
            hono.env.ACCOUNT.getByName(accountKey(who.name)).rooms(limit),
          )
        : [],
    );
  const trace = { scope: hono.var.telemetry?.scope };
  return {
    hono,
    memo,
    actor,
    room: (name) => roomCalls(hono, memo, actor, name, trace),
    accountRooms,
    trace,
  };
}

/** The Room RPCs of one room, each made at most once per request for the same arguments. */
export type RoomCalls = ReturnType<typeof roomCalls>;

function roomCalls(
  hono: Context<AppEnv>,
  memo: CallMemo,
  actor: () => Promise<Actor>,
  name: string,
  trace: { scope: Scope | undefined },
) {
  const stub = () => hono.env.ROOM.getByName(name);
  const call = <T>(what: string, run: (who: Actor) => Promise<Result<T>>) =>
    actor().then((who) => memo.load(`room:${name}:${what}`, async () => unwrap(await run(who))));
  return {
    name,
    info: () => call("info", (who) => stub().info(who)),
    members: () => call("members", (who) => stub().members(who)),
    bans: () => call("bans", (who) => stub().bans(who)),
    yourRoom: () => call("yourRoom", (who) => stub().yourRoom(who)),
    auditVerify: () => call("auditVerify", (who) => stub().auditVerify(who)),
    messages: (before: number | undefined, limit: number) =>
      call(`messages:${before}:${limit}`, (who) => stub().messages(who, before, limit)),
    events: (after: number, limit: number) =>
      call(`events:${after}:${limit}`, (who) => stub().events(who, after, limit)),
    stateAt: (moment: Moment, page: { before?: number | undefined; limit: number }) =>
      call(`stateAt:${JSON.stringify([moment, page])}`, (who) => stub().stateAt(who, moment, page)),
    // The same clientId twice in one request is the same command: one call, one answer.
    command: (command: Command) =>
      call(`command:${command.clientId}`, (who) =>
        stub().command(command, who, traceparentIn(trace.scope), hono.var.telemetry?.requestId),
      ),
  };
}
