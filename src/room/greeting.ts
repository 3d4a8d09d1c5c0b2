import { LIMITS, type RoomEvent, type ServerFrame, type UserRef } from "../protocol/index.ts";

export type GreetingInput = {
  room: string;
  you: UserRef;
  lastSeq: number;
  online: UserRef[];
  readSeq: number | undefined;
  /** The seq the client resumes after (NaN without one). */
  since: number;
  /** The log's events with after < seq, at most `limit`. */
  range: (after: number, limit: number) => RoomEvent[];
};

/**
 * What a new socket gets before anything live: the welcome, then what it missed since `since`
 * (the newest 1000 at most, after a gap frame). Pure, so that the room and its fan-out shards
 * greet the same way.
 */
export function greetingFrames(input: GreetingInput): ServerFrame[] {
  const { lastSeq, since } = input;
  const welcome: ServerFrame = {
    type: "welcome",
    room: input.room,
    you: input.you,
    lastSeq,
    online: input.online,
    readSeq: input.readSeq,
  };
  if (!Number.isSafeInteger(since) || since < 0 || since >= lastSeq) return [welcome];
  const after = Math.max(since, lastSeq - LIMITS.resumeMax);
  const gap: ServerFrame[] =
    after > since ? [{ type: "gap", after: since, before: after + 1 }] : [];
  const missed = input
    .range(after, LIMITS.resumeMax)
    .map((event): ServerFrame => ({ type: "event", event }));
  return [welcome, ...gap, ...missed];
}
