import * as z from "zod";

/** Limits of the v1 wire contract, its "Names and values" (docs/protocol.md). */
export const LIMITS = {
  messageCodePoints: 4000,
  topicCodePoints: 200,
  frameBytes: 64 * 1024,
  clientIdChars: 64,
  eventsPageDefault: 100,
  eventsPageMax: 1000,
  resumeMax: 1000,
} as const;

const codePoints = (s: string) => [...s].length;
/** Unicode's White_Space (U+0085 NEXT LINE included, which String.trim keeps) and the BOM. */
const ONLY_WHITE_SPACE = /^[\p{White_Space}\uFEFF]*$/u;

export const RoomName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    "a room name is 1-64 of a-z, 0-9, _ and -, starting with a letter or digit",
  );

export const Username = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,32}$/, "a name is 3-32 of A-Z, a-z, 0-9, _, . and -");

export const UserId = z.string().min(1).max(64);

export const ClientId = z.string().min(1).max(LIMITS.clientIdChars);

/** A positive event number: seq starts at 1. */
export const Seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * Text that goes into the log must be valid Unicode: a lone surrogate (JSON's "\udfff") has no
 * UTF-8 form, and the chain's canonical JSON (RFC 8785, src/protocol/chain.ts) refuses it.
 */
const wellFormed = (what: string) =>
  [(s: string) => s.isWellFormed(), `${what} is not valid Unicode (a lone surrogate)`] as const;

export const MessageText = z
  .string()
  .refine(...wellFormed("text"))
  .refine((s) => codePoints(s) >= 1, "text is empty")
  .refine(
    (s) => codePoints(s) <= LIMITS.messageCodePoints,
    `text is longer than ${LIMITS.messageCodePoints} characters`,
  )
  .refine((s) => !ONLY_WHITE_SPACE.test(s), "text is only white space");

/** Why a message was redacted, for the record (optional). */
export const RedactionReason = z
  .string()
  .max(500, "a reason is at most 500 characters")
  .refine(...wellFormed("reason"))
  .refine((s) => !ONLY_WHITE_SPACE.test(s), "reason is only white space");

export const Topic = z
  .string()
  .refine(...wellFormed("topic"))
  .refine(
    (s) => codePoints(s) <= LIMITS.topicCodePoints,
    `topic is longer than ${LIMITS.topicCodePoints} characters`,
  );

/** Exactly one emoji as Unicode defines it (RGI), skin tones and ZWJ sequences included. */
export const Emoji = z
  .string()
  .max(64)
  .regex(/^\p{RGI_Emoji}$/v, "not a single emoji");

export const Visibility = z.enum(["public", "private"]);
export type Visibility = z.infer<typeof Visibility>;

/** A member's role in a room, highest first. */
export const Role = z.enum(["owner", "moderator", "member"]);
export type Role = z.infer<typeof Role>;

/** Passwords: 8 to 256 characters (the v1 wire contract, Accounts). */
export const Password = z
  .string()
  .min(8, "a password has at least 8 characters")
  .max(256, "a password has at most 256 characters");

/**
 * The most fan-out shards a room may have: objects that each hold a slice of a big room's
 * sockets and relay its events to them (docs/scaling.md).
 */
export const MAX_FANOUT_SHARDS = 16;
export const FanoutShards = z.number().int().min(0).max(MAX_FANOUT_SHARDS);

/** The longest mute and the slowest slow mode a moderator may set. */
export const MAX_MUTE_SECONDS = 30 * 24 * 60 * 60;
export const MAX_SLOW_MODE_SECONDS = 60 * 60;

export const UserRef = z.object({ id: UserId, name: z.string() });
export type UserRef = z.infer<typeof UserRef>;
