import type { HandlerContext } from "@connectrpc/connect";
import {
  HistoryService,
  type WatchRoomRequest,
  type WatchRoomResponse,
} from "../rpc/gen/edgechat/v1/history_pb.js";
import { forwardedHeaders, onUpstreams, single, type Forwarding } from "./forward.ts";
import { unreachable } from "./retry.ts";

const method = HistoryService.method.watchRoom;

/**
 * WatchRoom through the gateway: relayed from one worker, and when that worker goes away
 * mid-stream, resumed on another from the last seq relayed (`since`), so that the client sees
 * every event once, in order, whichever upstream served it.
 */
export function watchRoom(forwarding: Forwarding) {
  return async function* (
    request: WatchRoomRequest,
    context: HandlerContext,
  ): AsyncGenerator<WatchRoomResponse> {
    let since = request.since;
    for (;;) {
      let serving = "";
      try {
        const answer = await onUpstreams(forwarding, method, (transport, upstream) => {
          serving = upstream;
          const resumed = { ...request, ...(since === undefined ? {} : { since }) };
          return transport.stream(
            method,
            context.signal,
            context.timeoutMs(),
            forwardedHeaders(context),
            single(resumed),
          );
        });
        for await (const message of answer.message) {
          if (message.event) since = message.event.seq;
          yield message;
        }
        return;
      } catch (error) {
        if (context.signal.aborted || !unreachable(error)) throw error;
        forwarding.upstreams.down(serving);
      }
    }
  };
}
