import type { ServiceImpl } from "@connectrpc/connect";
import { asQuery, parseOr400, unwrap } from "../../http/openapi.ts";
import { roomEventStream } from "../../http/room-stream.ts";
import { EventsQuery, RoomParam, StateAtQuery, WsQuery } from "../../protocol/index.ts";
import { millis, seq, timestamp, toEvent, toMember, toMessage, toVisibility } from "../convert.ts";
import { callOf } from "../context.ts";
import type { HistoryService } from "../gen/edgechat/v1/history_pb.js";
import { idOf } from "./ids.ts";

/** HistoryService (proto/edgechat/v1/history.proto): the log paged, watched live, and the past. */
export const history: ServiceImpl<typeof HistoryService> = {
  async listEvents(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    const query = asQuery(EventsQuery, {
      after: idOf(request.after, "after"),
      limit: request.pageSize || undefined,
    });
    const page = unwrap(await call.room(request.room).events(actor, query.after, query.limit));
    return { events: page.events.map(toEvent), lastSeq: seq(page.lastSeq) };
  },

  /**
   * The room's events as they are committed, through the room's own GraphQL socket (as GraphQL's
   * SSE does: one way for the room to serve every live reader, hibernating in between), until the
   * client goes away or the deadline passes (the handler's signal).
   */
  async *watchRoom(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    const { room } = parseOr400(RoomParam, { room: request.room });
    const since =
      request.since === undefined
        ? undefined
        : asQuery(WsQuery, { since: idOf(request.since, "since") }).since;
    const events = await roomEventStream(call.hono.env, room, since, actor);
    const iterator = events[Symbol.asyncIterator]();
    const stop = () => void iterator.return?.();
    context.signal.addEventListener("abort", stop, { once: true });
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield { event: toEvent(next.value) };
      }
    } finally {
      context.signal.removeEventListener("abort", stop);
      stop();
    }
  },

  async getStateAt(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    const { moment } = request;
    const query = asQuery(StateAtQuery, {
      at: moment.case === "atSeq" ? idOf(moment.value, "at_seq") : undefined,
      atTime: moment.case === "atTime" ? millis(moment.value) : undefined,
      before: request.pageToken || undefined,
      limit: request.pageSize || undefined,
    });
    // StateAtQuery has made sure there is exactly one.
    const at = query.at === undefined ? { atTime: query.atTime! } : { at: query.at };
    const page = { before: query.before, limit: query.limit };
    const state = unwrap(await call.room(request.room).stateAt(actor, at, page));
    return {
      seq: seq(state.seq),
      at: timestamp(state.at),
      name: state.room.name,
      topic: state.room.topic,
      visibility: toVisibility(state.room.visibility),
      slowModeSeconds: state.room.slowModeSeconds,
      ownerId: state.room.ownerId,
      members: state.members.map(toMember),
      messages: state.messages.map((message) => toMessage(message, state.room.name)),
      nextPageToken: state.nextBefore === null ? "" : String(state.nextBefore),
    };
  },
};
