import type { Command, CommandFrame, ModerationCommandType } from "../client/index.ts";

/** A command before the connection gives it a clientId: each member of the union loses it. */
export type Unsent<T> = T extends unknown ? Omit<T, "clientId"> : never;

/** Any command the socket carries (invitations go over HTTP), as the view asks for it. */
export type SocketCommand = Unsent<CommandFrame>;

/** The moderation commands aimed at one member: what the member panel's menus send. */
export type MemberCommand = Unsent<
  Extract<Command, { type: ModerationCommandType; userId: string }>
>;

/** The roles an invitation may give (ownership moves only by transfer). */
export type InviteRole = Extract<Command, { type: "invite" }>["role"];
