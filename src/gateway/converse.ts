import { create, type DescMethodUnary } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
  CommandErrorSchema,
  CommandResultSchema,
  type ConverseRequest,
  type ConverseResponse,
  ConverseResponseSchema,
} from "../rpc/gen/edgechat/v1/converse_pb.js";
import { MessageService } from "../rpc/gen/edgechat/v1/messages_pb.js";
import type { WatchRoomRequest } from "../rpc/gen/edgechat/v1/history_pb.js";
import { ERROR_CODE_HEADER } from "../rpc/errors.ts";
import { forwardUnary, type Forwarding } from "./forward.ts";
import { watchRoom } from "./watch.ts";

/** The command a Converse request carries, and the unary method that runs it upstream. */
const COMMANDS = {
  postMessage: MessageService.method.postMessage,
  editMessage: MessageService.method.editMessage,
  deleteMessage: MessageService.method.deleteMessage,
  react: MessageService.method.react,
  redactMessage: MessageService.method.redactMessage,
  undo: MessageService.method.undo,
  redo: MessageService.method.redo,
} satisfies Record<Exclude<ConverseRequest["kind"]["case"], "watch" | undefined>, DescMethodUnary>;

/**
 * Converse (proto/edgechat/v1/converse.proto): commands in, the room's events and each command's
 * outcome out, on one bidirectional gRPC stream. The gateway runs each command as its unary call
 * and relays the room's WatchRoom; a `watch` starts following a room (or another, or again from
 * a seq). The stream ends when the client ends its side and every command has been answered.
 */
export function converse(forwarding: Forwarding) {
  const watch = watchRoom(forwarding);
  return async function* (
    requests: AsyncIterable<ConverseRequest>,
    context: HandlerContext,
  ): AsyncGenerator<ConverseResponse> {
    const out = new Outbox<ConverseResponse>();
    let following: AbortController | undefined;
    const pending = new Set<Promise<void>>();
    const reading = (async () => {
      for await (const request of requests) {
        const { kind } = request;
        if (kind.case === undefined) continue;
        if (kind.case === "watch") {
          following?.abort();
          following = new AbortController();
          void follow(watch, kind.value, context, following.signal, out);
          continue;
        }
        const method = COMMANDS[kind.case];
        const done = run(forwarding, method, kind.value, context, out);
        pending.add(done);
        void done.finally(() => pending.delete(done));
      }
      await Promise.all(pending);
    })();
    reading.then(
      () => out.close(),
      (error: unknown) => out.close(error),
    );
    try {
      yield* out;
    } finally {
      following?.abort();
    }
  };
}

/** Relays a room's events into the conversation until `signal` (another watch, the end). */
async function follow(
  watch: ReturnType<typeof watchRoom>,
  request: WatchRoomRequest,
  context: HandlerContext,
  signal: AbortSignal,
  out: Outbox<ConverseResponse>,
): Promise<void> {
  const scoped = { ...context, signal: AbortSignal.any([context.signal, signal]) };
  try {
    for await (const { event } of watch(request, scoped))
      if (event)
        out.push(create(ConverseResponseSchema, { kind: { case: "event", value: event } }));
  } catch (error) {
    if (!signal.aborted) out.close(error);
  }
}

/** One command, answered in the conversation by its result or its error (the stream goes on). */
async function run(
  forwarding: Forwarding,
  method: DescMethodUnary,
  request: { clientId: string },
  context: HandlerContext,
  out: Outbox<ConverseResponse>,
): Promise<void> {
  const clientId = request.clientId;
  try {
    const answer = (await forwardUnary(forwarding, method)(request, context)) as unknown as {
      seq: bigint;
    };
    const result = create(CommandResultSchema, { clientId, seq: answer.seq });
    out.push(create(ConverseResponseSchema, { kind: { case: "result", value: result } }));
  } catch (error) {
    const failed = ConnectError.from(error);
    const refusal = create(CommandErrorSchema, {
      clientId,
      // The worker names the contract's code beside the RPC code (src/rpc/errors.ts).
      code: failed.metadata.get(ERROR_CODE_HEADER) ?? "unavailable",
      message: failed.rawMessage,
    });
    out.push(create(ConverseResponseSchema, { kind: { case: "error", value: refusal } }));
  }
}

/** An async queue: pushed from several sources, read once, in order; closes with or without an error. */
class Outbox<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #closed: { error?: unknown } | undefined;

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake?.();
  }

  close(error?: unknown): void {
    this.#closed ??= error === undefined ? {} : { error };
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift()!;
      if (this.#closed) {
        if ("error" in this.#closed) throw this.#closed.error;
        return;
      }
      await new Promise<void>((wake) => (this.#wake = wake));
      this.#wake = undefined;
    }
  }
}
