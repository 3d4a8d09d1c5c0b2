import type { ConnectionStatus, RoomEvent } from "../client/index.ts";
import {
  emptyMembers,
  reduceMembers,
  type MembersAction,
  type MembersState,
} from "./members-state.ts";
import { emptyTimeline, type Timeline } from "./timeline.ts";

/**
 * The state of one open room and the effects its transitions ask for (chat-state.ts reduces
 * actions to them; chat-events.ts says what each room event does). Plain data: no DOM, no SDK.
 */

/** A line for an event that is no message (someone joined, a topic, a moderation). */
export type Notice = { readonly seq: number; readonly at: number; readonly text: string };

/** The top of the message list: "Load older" (busy or not), or the beginning-of-room line. */
export type HistoryState = {
  readonly hasOlder: boolean;
  readonly loading: boolean;
  readonly beginning: boolean;
};

/**
 * A slash command's answer for you alone (docs/integrations.md): shown after the event that was
 * newest when it came (`after`), never stored; gone with a reload.
 */
export type Ephemeral = {
  readonly id: number;
  readonly after: number;
  readonly at: number;
  readonly text: string;
  readonly from: string;
};

/** A post on its way: `seq` once acked (it goes when its message shows), `error` once refused. */
export type PendingPost = {
  readonly id: number;
  readonly text: string;
  /** How many files it carries (uploaded before it is posted). */
  readonly files?: number;
  readonly seq?: number;
  readonly error?: string;
};

export type ChatState = {
  /** "starting" until the room is found and a connection exists. */
  readonly connection: "starting" | ConnectionStatus;
  /** Whether the socket was ever open: only then is a reconnect worth a banner. */
  readonly wasOpen: boolean;
  /** Why the room cannot be used any more; the view stops for good. */
  readonly fatal: { readonly prefix: string; readonly message: string } | undefined;
  /** The last failure to show above the messages (a page, the members, an error frame). */
  readonly error: string | undefined;
  readonly topic: string;
  readonly slowModeSeconds: number | undefined;
  /** Your read marker as the welcome frame said it: where the unread divider goes. */
  readonly readSeq: number | undefined;
  /** The last read marker sent, so each is sent once. */
  readonly readSent: number;
  /** The message the "new messages" divider stands before. */
  readonly dividerAt: number | undefined;
  /** History loads in flight; live events wait in `buffered` until they land, then replay in order. */
  readonly loading: number;
  /**
   * The top of the list as the last load's start or end left it: "Load older" (busy or not), or
   * the beginning-of-room line once all history is in and the list holds something. Live events
   * do not change it.
   */
  readonly history: HistoryState;
  /** Bumped when a gap starts the history over: pages of an older generation are dropped. */
  readonly generation: number;
  readonly buffered: readonly RoomEvent[];
  readonly timeline: Timeline;
  readonly notices: ReadonlyMap<number, Notice>;
  readonly pending: readonly PendingPost[];
  readonly ephemerals: readonly Ephemeral[];
  /** You asked to leave: the socket's closing is then no removal to announce. */
  readonly leaving: boolean;
  /**
   * The session is being renewed: this view is about to be replaced, so it takes no more text
   * (a message typed now would go to a socket that no longer exists).
   */
  readonly renewing: boolean;
  readonly members: MembersState;
};

export const initialChatState: ChatState = {
  connection: "starting",
  wasOpen: false,
  fatal: undefined,
  error: undefined,
  topic: "",
  slowModeSeconds: undefined,
  readSeq: undefined,
  readSent: 0,
  dividerAt: undefined,
  loading: 0,
  history: { hasOlder: false, loading: false, beginning: false },
  renewing: false,
  generation: 0,
  buffered: [],
  timeline: emptyTimeline,
  notices: new Map(),
  pending: [],
  ephemerals: [],
  leaving: false,
  members: emptyMembers,
};

/** What the page looked like when an action happened, measured by the DOM side. */
export type Seen = { readonly visible: boolean; readonly atBottom: boolean };

export type ChatEffect =
  /** Load a page of history: the newest, or the one before `before`. */
  | { kind: "fetch"; generation: number; before: number | undefined }
  | { kind: "scroll-to-bottom" }
  /** An older page was prepended: keep the reader's place while drawing it. */
  | { kind: "keep-place" }
  /** Measure the page and send a read marker if the newest message is in view (a `seen` action). */
  | { kind: "check-read" }
  | { kind: "send-read"; seq: number }
  | { kind: "load-members" }
  /** Load the member list again shortly: an event changed it in ways it does not tell. */
  | { kind: "reload-members" }
  | { kind: "stop-typing"; userId: string }
  /** The token was refused: renew it and start over, or sign in. */
  | { kind: "reauth" }
  /** Drop the room from this browser's list of rooms. */
  | { kind: "forget-room" }
  /** You were removed: back to the room list, saying why. */
  | { kind: "removed"; reason: string };

export type Step = { state: ChatState; effects: ChatEffect[] };

/** A transition's outcome, with the effects in the order they are to run. */
export const step = (state: ChatState, ...effects: ChatEffect[]): Step => ({ state, effects });

/** The state with a members action applied; the same object when nobody changed. */
export function withMembers(state: ChatState, action: MembersAction): ChatState {
  const members = reduceMembers(state.members, action);
  return members === state.members ? state : { ...state, members };
}

/** Pending posts whose message is shown are done. */
export function settle(
  pending: readonly PendingPost[],
  timeline: Timeline,
): readonly PendingPost[] {
  const done = pending.filter((p) => p.seq !== undefined && timeline.messages.has(p.seq));
  return done.length ? pending.filter((p) => !done.includes(p)) : pending;
}

/** The divider goes once, before the first message by someone else after the read marker. */
export function placeDivider(state: ChatState): ChatState {
  const { readSeq, timeline, dividerAt } = state;
  const you = state.members.you;
  if (readSeq === undefined || !timeline.loaded || you === undefined || dividerAt !== undefined)
    return state;
  let first: number | undefined;
  for (const m of timeline.messages.values())
    if (m.id > readSeq && m.author.id !== you && (first === undefined || m.id < first))
      first = m.id;
  return first === undefined ? state : { ...state, dividerAt: first };
}

/** The top of the list for `state`'s history, `loading` or not. */
export function historyState(state: ChatState, loading: boolean): HistoryState {
  const hasOlder = state.timeline.nextBefore !== null;
  const empty = state.timeline.messages.size === 0 && state.notices.size === 0;
  return { hasOlder, loading, beginning: !hasOlder && !empty };
}
