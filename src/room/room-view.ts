import type { Role, RoomEvent } from "../protocol/index.ts";
import type { LoggedRule } from "../protocol/rules.ts";
import type { Attachment } from "../protocol/attachments.ts";

/** What the rules need to know of a room: read from its projections, or from memory in tests. */
export interface RoomView {
  /** The room's name: a service sees it only if its scope names it. */
  readonly name: string;
  readonly visibility: "public" | "private";
  readonly slowModeSeconds: number;
  readonly ownerId: string;
  /** undefined for someone who is not a member. */
  role(userId: string): Role | undefined;
  isBanned(userId: string): boolean;
  /** When the user's mute ends (ms), or 0. */
  mutedUntil(userId: string): number;
  /** When the user last posted (ms), or 0. */
  lastPostAt(userId: string): number;
  message(id: number): { authorId: string; deleted: boolean; redacted: boolean } | undefined;
  /** The text message `id` had just before event `seq`: its latest post, edit or restore. */
  textBefore(id: number, seq: number): string | undefined;
  /** The top of `userId`'s undo stack: their latest action not undone (undo.ts). */
  lastAction(userId: string): UndoableEvent | undefined;
  /** The top of their redo stack: the action they undid last, unless they acted since. */
  lastUndone(userId: string): UndoableEvent | undefined;
  hasReaction(messageId: number, emoji: string, userId: string): boolean;
  /** Invitations made since `since` (ms): how many, and when the oldest of them was. */
  invitesSince(since: number): { count: number; oldestAt: number };
  /** At most `count` invitations per `windowMs` (docs/limits.md). */
  readonly inviteLimit: { readonly count: number; readonly windowMs: number };
  /** The room's rule `id` as its last save logged it; undefined when there is none (or deleted). */
  rule(id: string): LoggedRule | undefined;
  /** How many rules the room has. */
  ruleCount(): number;
  /** Rule `id` as it was just before event `seq`: undefined when it did not exist then. */
  ruleBefore(id: string, seq: number): LoggedRule | undefined;
  /** Whether plugin `plugin` is on in this room. */
  pluginEnabled(plugin: string): boolean;
  /**
   * Upload `id` as the attachment it becomes when posted, if it is `userId`'s in this room,
   * complete and not posted yet (docs/attachments.md); undefined otherwise.
   */
  postableUpload(userId: string, id: string): Attachment | undefined;
}

/** The events that are actions a user can undo. */
export type UndoableEvent = Extract<
  RoomEvent,
  {
    type:
      | "message.posted"
      | "message.edited"
      | "message.deleted"
      | "message.restored"
      | "reaction.added"
      | "reaction.removed"
      | "rule.saved"
      | "rule.deleted";
  }
>;
