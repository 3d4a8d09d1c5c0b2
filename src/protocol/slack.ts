import * as z from "zod";
import { RoomName, UserRef } from "./names.ts";

/**
 * Additions: the Slack bridge's wire types (docs/integrations.md, "Slack bridge"): a link between
 * a Slack channel and a room, made and removed by instance admins at `/api/admin/slack/links`.
 */

/** A Slack channel id: `C…` (public or private), or `G…` (a private channel made before 2021). */
export const SlackChannelId = z
  .string()
  .regex(
    /^[CG][A-Z0-9]{8,20}$/,
    "a Slack channel id is C or G and 8 to 20 of A-Z and 0-9 (the channel's details in Slack show it)",
  );

/** Which way a bridged message was going when it failed. */
export const SlackDirection = z.enum(["to_slack", "from_slack"]);

/** The last thing that went wrong on a link, for admins: Slack's error code, or the room's. */
export const SlackLinkError = z.object({
  direction: SlackDirection,
  /** Slack's code (`channel_not_found`, `not_in_channel`, `invalid_auth`, …) or the room's. */
  code: z.string(),
  message: z.string(),
  at: z.number(),
});
export type SlackLinkError = z.infer<typeof SlackLinkError>;

export const SlackLink = z.object({
  channel: SlackChannelId,
  room: RoomName,
  createdBy: UserRef,
  createdAt: z.number(),
  /** When a message last crossed, either way; null before the first. */
  lastMessageAt: z.number().nullable(),
  /** The last failure; it stays until the next one (compare `lastMessageAt`). */
  lastError: SlackLinkError.nullable(),
});
export type SlackLink = z.infer<typeof SlackLink>;

export const SlackLinkList = z.object({ links: z.array(SlackLink) });

export const CreateSlackLink = z.object({ channel: SlackChannelId, room: RoomName }).strict();
export type CreateSlackLink = z.infer<typeof CreateSlackLink>;
