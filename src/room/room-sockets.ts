import { Actor, USER_HEADER } from "../identity/actor.ts";
import type { ServerFrame, UserRef } from "../protocol/index.ts";
import { ChatSockets } from "./chat-sockets.ts";
import { parseJson } from "./json.ts";
import type { RoomParts } from "./parts.ts";
import { close } from "./sockets.ts";

/**
 * Every socket of a room, whichever protocol it speaks: an upgrade goes to the GraphQL sockets
 * (…/graphql) or the chat sockets, each frame to its socket's kind, and a close to both the
 * quotas and the metrics. The Room object hands the hibernation API's calls here.
 */
export class RoomSockets {
  readonly #p: RoomParts;
  readonly #chat: ChatSockets;

  constructor(parts: RoomParts) {
    this.#p = parts;
    this.#chat = new ChatSockets(parts);
  }

  /** A WebSocket upgrade from the worker, with the user it verified in a header (chat). */
  async upgrade(request: Request): Promise<Response> {
    const response = await this.#route(request);
    if (response.webSocket) this.#p.metrics.changed();
    return response;
  }

  receive(ws: WebSocket, data: string | ArrayBuffer): Promise<void> | void {
    if (this.#p.live.owns(ws)) return this.#p.live.receive(ws, data);
    this.#chat.receive(ws, data);
  }

  /** A socket closed or failed: one fewer open for its user. */
  left(ws: WebSocket): void {
    this.#p.metrics.changed();
    if (this.#p.live.owns(ws)) return this.#leftLive(ws);
    this.#chat.left(ws);
  }

  /** What a chat socket starts with (also for a socket on a fan-out shard). */
  greeting(you: UserRef, since: number): ServerFrame[] {
    return this.#chat.greeting(you, since);
  }

  async #route(request: Request): Promise<Response> {
    const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
    if (upgrade && new URL(request.url).pathname.endsWith("/graphql"))
      return this.#p.live.upgrade(request);
    const user = Actor.safeParse(parseJson(request.headers.get(USER_HEADER)));
    if (!upgrade || !user.success)
      return new Response("expected a WebSocket upgrade from the worker", { status: 400 });
    const traced = this.#p.telemetry.connect(request.headers.get("traceparent"));
    const response = await this.#chat.upgrade(request, user.data);
    traced(response.status);
    return response;
  }

  /** A GraphQL socket closed: its user has one socket fewer open here. */
  #leftLive(ws: WebSocket): void {
    const user = this.#p.live.closed(ws);
    const room = this.#p.read.room()?.name;
    if (!user || !room) return;
    const others = this.#p.live.of(user.id).filter((other) => other !== ws).length;
    this.#p.quotas.left(room, user.id, others + this.#p.sockets.of(user.id).length);
  }
}

/** Completes a closing handshake: 1005 and 1006 are reserved and must not be sent. */
export const closeBack = (ws: WebSocket, code: number) =>
  close(ws, code === 1005 || code === 1006 ? 1000 : code, "closed");
