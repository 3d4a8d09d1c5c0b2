import type {
  ConnectionStatus,
  Ban,
  Member,
  MessagesPage,
  RoomEvent,
  ServerFrameOf,
  UserRef,
} from "../client/index.ts";
import { applyEvent } from "./chat-events.ts";
import {
  historyState,
  placeDivider,
  settle,
  step,
  withMembers,
  type ChatEffect,
  type ChatState,
  type Seen,
  type Step,
} from "./chat-model.ts";
import { emptyTimeline, mergePage } from "./timeline.ts";

export { initialChatState } from "./chat-model.ts";
export type {
  ChatEffect,
  ChatState,
  Ephemeral,
  Notice,
  PendingPost,
  Seen,
  Step,
} from "./chat-model.ts";

/**
 * One open room as a pure state machine: what the socket, the history pages and the compose box
 * did, and what the DOM side must show and do about it. No DOM, no SDK objects: `reduce` takes
 * the state and an action and returns the next state and the effects to run.
 */

export type ChatAction =
  | { type: "room-found"; topic: string; slowModeSeconds: number | undefined }
  | { type: "room-refused"; message: string }
  | { type: "status"; status: ConnectionStatus }
  | { type: "welcome"; you: UserRef; online: readonly UserRef[]; readSeq: number | undefined }
  | { type: "event"; event: RoomEvent; seen: Seen }
  /** The server could not replay everything missed: start the history over. */
  | { type: "gap" }
  /** The reader wants older history. */
  | { type: "older" }
  | { type: "page"; generation: number; page: MessagesPage; older: boolean }
  | { type: "page-failed"; generation: number; message: string }
  | { type: "load-ended"; generation: number; seen: Seen }
  /** The page was shown, scrolled or came into view; `lastSeq` is the connection's cursor. */
  | { type: "seen"; seen: Seen; lastSeq: number }
  | { type: "members"; members: readonly Member[] }
  | { type: "bans"; bans: readonly Ban[] }
  | { type: "members-failed"; message: string }
  | { type: "presence"; frame: ServerFrameOf<"presence"> }
  | { type: "admin"; admin: boolean }
  | { type: "error-frame"; message: string }
  | { type: "sending"; id: number; text: string; files?: number }
  | { type: "acked"; id: number; seq: number }
  | { type: "refused"; id: number; message: string }
  | { type: "dismissed"; id: number }
  /** A slash command's answer for you alone: from the route, or an `ephemeral` frame. */
  | { type: "ephemeral"; text: string; from: string; at: number; after: number }
  | { type: "ephemeral-dismissed"; id: number }
  | { type: "leaving" }
  | { type: "leave-refused" }
  /** The connection stopped for good (the SDK's `fatal`). */
  | { type: "fatal"; code: string; message: string };

export function reduce(state: ChatState, action: ChatAction): Step {
  switch (action.type) {
    case "room-found":
      // The newest page loads before the socket connects, so events wait for it.
      return fetchPage(
        {
          ...state,
          connection: "connecting",
          topic: action.topic,
          slowModeSeconds: action.slowModeSeconds,
        },
        undefined,
      );
    case "room-refused":
      return step(
        { ...state, fatal: { prefix: "Cannot open this room: ", message: action.message } },
        { kind: "forget-room" },
      );
    case "status":
      return step({
        ...state,
        connection: action.status,
        wasOpen: state.wasOpen || action.status === "open",
      });
    case "welcome": {
      const members = withMembers(state, {
        type: "welcome",
        you: action.you.id,
        online: action.online,
      });
      const next =
        members.readSeq === undefined
          ? placeDivider({ ...members, readSeq: action.readSeq ?? 0 })
          : members;
      return step(next, { kind: "load-members" }, { kind: "check-read" });
    }
    case "event":
      if (state.loading > 0) return step({ ...state, buffered: [...state.buffered, action.event] });
      return applyEvent(state, action.event, action.seen);
    case "gap":
      return fetchPage(
        {
          ...state,
          generation: state.generation + 1,
          timeline: emptyTimeline,
          notices: new Map(),
          ephemerals: [],
          dividerAt: undefined,
        },
        undefined,
      );
    case "older": {
      const before = state.timeline.nextBefore;
      return before === null || state.loading > 0 ? step(state) : fetchPage(state, before);
    }
    case "page": {
      if (action.generation !== state.generation) return step(state);
      const timeline = mergePage(state.timeline, action.page);
      return step(
        { ...state, timeline, pending: settle(state.pending, timeline), error: undefined },
        { kind: action.older ? "keep-place" : "scroll-to-bottom" },
      );
    }
    case "page-failed":
      if (action.generation !== state.generation) return step(state);
      return step({ ...state, error: `Could not load messages: ${action.message}` });
    case "load-ended":
      return loadEnded(
        action.generation === state.generation
          ? { ...state, history: historyState(state, false) }
          : state,
        action.seen,
      );
    case "seen": {
      const { seen, lastSeq } = action;
      if (state.connection === "starting" || !seen.visible || !seen.atBottom) return step(state);
      if (lastSeq <= state.readSent) return step(state);
      return step({ ...state, readSent: lastSeq }, { kind: "send-read", seq: lastSeq });
    }
    case "members":
      return step(withMembers(state, { type: "listed", members: action.members }));
    case "bans":
      return step(withMembers(state, { type: "bans", bans: action.bans }));
    case "members-failed":
      return step({ ...state, error: `Could not load the members: ${action.message}` });
    case "presence": {
      const next = withMembers(state, { type: "presence", frame: action.frame });
      const left = action.frame.left;
      return left ? step(next, { kind: "stop-typing", userId: left.id }) : step(next);
    }
    case "admin":
      return step(withMembers(state, { type: "admin", admin: action.admin }));
    case "error-frame":
      return step({ ...state, error: action.message });
    case "sending":
      return step(
        {
          ...state,
          pending: [
            ...state.pending,
            { id: action.id, text: action.text, ...(action.files ? { files: action.files } : {}) },
          ],
        },
        { kind: "scroll-to-bottom" },
      );
    case "acked": {
      const pending = state.pending.map((p) =>
        p.id === action.id ? { ...p, seq: action.seq } : p,
      );
      return step({ ...state, pending: settle(pending, state.timeline) });
    }
    case "refused":
      return step({
        ...state,
        pending: state.pending.map((p) =>
          p.id === action.id ? { ...p, error: action.message } : p,
        ),
      });
    case "dismissed":
      return step({ ...state, pending: state.pending.filter((p) => p.id !== action.id) });
    case "ephemeral": {
      const id = (state.ephemerals.at(-1)?.id ?? 0) + 1;
      const { text, from, at, after } = action;
      return step(
        { ...state, ephemerals: [...state.ephemerals, { id, text, from, at, after }] },
        { kind: "scroll-to-bottom" },
      );
    }
    case "ephemeral-dismissed":
      return step({ ...state, ephemerals: state.ephemerals.filter((e) => e.id !== action.id) });
    case "leaving":
      return step({ ...state, leaving: true });
    case "leave-refused":
      return step({ ...state, leaving: false });
    case "fatal":
      return fatal(state, action.code, action.message);
  }
}

function fetchPage(state: ChatState, before: number | undefined): Step {
  return step(
    { ...state, loading: state.loading + 1, history: historyState(state, true) },
    { kind: "fetch", generation: state.generation, before },
  );
}

/** When the last load lands, the events that waited for it apply in the order they came. */
function loadEnded(state: ChatState, seen: Seen): Step {
  const loading = Math.max(0, state.loading - 1);
  if (loading > 0) return step({ ...state, loading });
  let next: ChatState = { ...state, loading, buffered: [] };
  const effects: ChatEffect[] = [];
  for (const event of state.buffered) {
    const applied = applyEvent(next, event, seen);
    next = applied.state;
    effects.push(...applied.effects.filter((e) => e.kind !== "check-read"));
  }
  return { state: placeDivider(next), effects: [...effects, { kind: "check-read" }] };
}

function fatal(state: ChatState, code: string, message: string): Step {
  // An expired token or a revoked session: renew once and start over, else sign in.
  if (code === "unauthorized" || code === "4401")
    return step({ ...state, renewing: true }, { kind: "reauth" });
  if (code === "4403") {
    // Leaving a private room closes its sockets too: that is no removal.
    if (state.leaving) return step(state, { kind: "forget-room" });
    return step(state, { kind: "forget-room" }, { kind: "removed", reason: message });
  }
  return step({
    ...state,
    fatal: { prefix: "You were disconnected from this room: ", message },
  });
}

/** Whether to show "Reconnecting…": after the socket was open once, until it is again. */
export function reconnecting(state: ChatState): boolean {
  const { connection } = state;
  return (
    !state.fatal && state.wasOpen && (connection === "connecting" || connection === "reconnecting")
  );
}

/** Whether the compose box takes text: once the room is found, not while the session is renewed, never after a fatal stop. */
export function canCompose(state: ChatState): boolean {
  return state.connection !== "starting" && !state.fatal && !state.renewing;
}
