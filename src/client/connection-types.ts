import type { RoomEvent, ServerFrameOf, UserRef } from "../protocol/index.ts";
import type { BackoffOptions } from "./backoff.ts";

/** What a RoomConnection (connection.ts) is told and what it tells: its options and its events. */

export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "closed";

export type ConnectionEvents = {
  status: ConnectionStatus;
  welcome: ServerFrameOf<"welcome">;
  /** Each room event exactly once, in seq order. */
  event: RoomEvent;
  /** More was missed than the server replays: page `after`..`before` in over HTTP. */
  gap: ServerFrameOf<"gap">;
  presence: ServerFrameOf<"presence">;
  typing: UserRef;
  /** A slash command's answer for you alone (docs/integrations.md): shown, never logged. */
  ephemeral: ServerFrameOf<"ephemeral">;
  /** An error frame that answers no pending command (a malformed frame, a signal). */
  error: ServerFrameOf<"error">;
  /** The client stopped for good: the token was refused, the room is gone, or you were removed. */
  fatal: { code: string; message: string };
  /**
   * The room was too busy for a command (`overloaded`, or `rate_limited` with a wait): the client
   * holds every command for `retryAfterMs`, then sends what waits, oldest first.
   */
  overloaded: { clientId: string; code: "overloaded" | "rate_limited"; retryAfterMs: number };
  /**
   * An event that does not link to the one before it (its `prevHash` is not the hash this client
   * had for seq − 1): the room's log was altered, or something between rewrote it (docs/audit.md).
   */
  chainBroken: { seq: number };
};

export type ConnectionOptions = {
  baseUrl: string;
  room: string;
  /** The access token, or a function that returns the current one (read at every connect). */
  token: string | (() => string);
  /** Resume after this seq: the events after it are replayed before live ones. */
  since?: number;
  /** The hash of event `since`, if the app kept it: the replay is then checked to link to it. */
  sinceHash?: string;
  backoff?: BackoffOptions;
  /** Sends a ping this often and reconnects when no pong follows within the same time. */
  heartbeatMs?: number;
  WebSocket?: typeof WebSocket;
};
