import * as z from "zod";
import type { ServerFrame, UserRef } from "../protocol/index.ts";
import { Actor } from "../identity/actor.ts";

/** What a socket remembers across hibernation: who is on it. */
export const Attachment = z.object({ user: Actor, connId: z.string() });
export type Attachment = z.infer<typeof Attachment>;

// Parsed once per socket object; after hibernation the runtime hands out new objects, so
// the cache never outlives the attachment it was read from.
const parsedAttachments = new WeakMap<WebSocket, Attachment>();

export function attachmentOf(ws: WebSocket): Attachment | undefined {
  const cached = parsedAttachments.get(ws);
  if (cached) return cached;
  const parsed = Attachment.safeParse(ws.deserializeAttachment());
  if (parsed.success) parsedAttachments.set(ws, parsed.data);
  return parsed.success ? parsed.data : undefined;
}

/** Sends one frame; a socket that closed meanwhile is not an error worth surfacing. */
export function send(ws: WebSocket, frame: ServerFrame | string): void {
  try {
    ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  } catch {
    // The close handler will clean up after it.
  }
}

/** Closes with a code from the contract; workerd throws on reserved codes and on closed sockets. */
export function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

/** The distinct users behind `sockets`, in connection order. */
export function onlineUsers(sockets: readonly WebSocket[]): UserRef[] {
  const users = new Map<string, UserRef>();
  for (const ws of sockets) {
    const attachment = attachmentOf(ws);
    if (attachment && !users.has(attachment.user.id)) {
      users.set(attachment.user.id, { id: attachment.user.id, name: attachment.user.name });
    }
  }
  return [...users.values()];
}

/**
 * The room's open sockets through the hibernation API: each tagged with its user's id, with
 * who is on it in the attachment, so that all of it survives the object being evicted.
 */
export class Connections {
  readonly #ctx: DurableObjectState;
  constructor(ctx: DurableObjectState) {
    this.#ctx = ctx;
  }

  accept(server: WebSocket, user: Actor): void {
    this.#ctx.acceptWebSocket(server, [user.id]);
    server.serializeAttachment({ user, connId: crypto.randomUUID() } satisfies Attachment);
  }

  of(userId: string): WebSocket[] {
    return this.#ctx.getWebSockets(userId);
  }

  online(): UserRef[] {
    return onlineUsers(this.#ctx.getWebSockets());
  }

  /** One serialization, every socket (but `except`). */
  broadcast(frame: ServerFrame | string, except?: WebSocket): void {
    const text = typeof frame === "string" ? frame : JSON.stringify(frame);
    for (const ws of this.#ctx.getWebSockets()) if (ws !== except) send(ws, text);
  }

  /** Closes `userId`'s sockets whose attachment passes `which`; returns how many. */
  closeUser(
    userId: string,
    code: number,
    reason: string,
    which: (a: Attachment) => boolean = () => true,
  ): number {
    let closed = 0;
    for (const ws of this.of(userId)) {
      const attachment = attachmentOf(ws);
      if (!attachment || !which(attachment)) continue;
      close(ws, code, reason);
      closed += 1;
    }
    return closed;
  }
}
