/**
 * The fuzzers' generators (fast-check): plausible frames and bodies of every type, mutations of
 * them, random text and bytes, frames on both sides of 64 KiB, deep nesting. Whether a value is
 * valid is never decided here: the oracle (./contract.ts) judges each one as it is sent.
 */
import fc from "fast-check";
import { COMMAND_TYPES, CONTRACT, SIGNAL_TYPES, type RoomModel } from "./contract.ts";

/**
 * Values that depend on the room at the time of sending (a message that exists, one of the
 * sender's own) are generated as references and resolved just before the frame goes out.
 */
type Ref =
  | { $ref: "message" | "own"; pick: number }
  | { $ref: "next"; ahead: number } // just past the last known seq: maybe in flight, maybe nothing
  | { $ref: "far"; id: number };

export const messageRef: fc.Arbitrary<Ref> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ $ref: fc.constant("message" as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ $ref: fc.constant("own" as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      $ref: fc.constant("next" as const),
      ahead: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      $ref: fc.constant("far" as const),
      id: fc.integer({ min: 2 ** 40, max: Number.MAX_SAFE_INTEGER }),
    }),
  },
);

export const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\t\n ",
    "\u0000",
    "\u202e\u202d",
    "\ud800",
    "\udfff\ud800",
    "\ufeff",
    "👍",
    "👍🏽",
    "👩‍💻",
    "🇫🇷",
    "e\u0301",
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "__proto__",
    "constructor",
    "%s%s%n",
    "../../etc/passwd",
  ),
  fc.integer({ min: 3990, max: 4010 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 60, max: 70 }).map((n) => "c".repeat(n)),
);

const weirdNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1.5,
    0.1,
    1e308,
    -1e308,
    5e-324,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Nested arrays/objects, as deep as asked. */
export const nested = (depth: number, object: boolean) =>
  object
    ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`
    : `${"[".repeat(depth)}${"]".repeat(depth)}`;

export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdNumber,
  junkString,
  fc.constantFrom(null, true, false, [], {}, "1", [1], { seq: 1 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 1, max: 200 }).map((d) => JSON.parse(nested(d, d % 2 === 0))),
);

/** Message text: ordinary, blank by one reading or another, and around 4000 code points. */
export const text = fc.oneof(
  { weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      " ",
      "\t\n ",
      "\u00a0",
      "\u3000",
      "\u2028",
      "\ufeff",
      " \ufeff ",
      "\u200b",
      "\u180e",
      "e\u0301",
      "👩‍💻",
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 3995, max: 4005 }), fc.constantFrom("x", "é", "👍", " "))
      .map(([n, unit]) => unit.repeat(n)),
  },
);

export const clientId = fc.oneof(
  { weight: 4, arbitrary: fc.uuid() },
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 64 }) },
  { weight: 2, arbitrary: fc.nat({ max: 50 }).map((n) => `c${n}`) }, // reused ids
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 64 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "x".repeat(64),
      "x".repeat(65),
      "👍".repeat(32),
      "👍".repeat(33),
      "👍".repeat(65),
      " ",
    ),
  },
);

const emoji = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom("👍", "❤️", "😂", "🇫🇷", "👩‍💻", "👍🏽", "🎉") },
  { weight: 1, arbitrary: fc.constantFrom("👍👍", "a", "", "❤", ":+1:", "👍 ", "🏽") },
);

/** A redaction's reason: ordinary, blank by one reading or another, and around 500 characters. */
export const reason = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "\t\n ",
      "\u00a0",
      "\u0085",
      "\u3000",
      "\ufeff",
      " \ufeff ",
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 495, max: 505 }), fc.constantFrom("x", "é", "👍", " "))
      .map(([n, unit]) => unit.repeat(n)),
  },
  // 250 to 260 astral characters: under 500 code points, over 500 UTF-16 units.
  { weight: 1, arbitrary: fc.integer({ min: 245, max: 255 }).map((n) => "👍".repeat(n)) },
);

/** Frames of every type with plausible values: many valid, some not, the oracle tells which. */
export const plausibleFrame = (someone: () => fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ type: fc.constant("post"), clientId, text }) },
    {
      weight: 2,
      arbitrary: fc.record({ type: fc.constant("post"), clientId, text, replyTo: messageRef }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ type: fc.constant("edit"), clientId, messageId: messageRef, text }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ type: fc.constant("delete"), clientId, messageId: messageRef }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        type: fc.constant("react"),
        clientId,
        messageId: messageRef,
        emoji,
        on: fc.boolean(),
      }),
    },
    // Undo and redo: often, so that the stacks are deep and taken back and forth.
    { weight: 3, arbitrary: fc.record({ type: fc.constant("undo"), clientId }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant("redo"), clientId }) },
    {
      weight: 2,
      arbitrary: fc.record(
        { type: fc.constant("redact"), clientId, messageId: messageRef, reason },
        { requiredKeys: ["type", "clientId", "messageId"] },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("topic"),
        clientId,
        topic: fc.string({ unit: "grapheme", maxLength: 150 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant("leave"), clientId }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("role"),
        clientId,
        userId: someone(),
        role: fc.constantFrom("moderator", "member", "owner", "admin"),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constantFrom("kick", "ban", "unban", "unmute", "transfer"),
        clientId,
        userId: someone(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("mute"),
        clientId,
        userId: someone(),
        seconds: fc.oneof(fc.integer({ min: -5, max: 2_600_000 }), weirdNumber),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("slow_mode"),
        clientId,
        seconds: fc.oneof(fc.integer({ min: -5, max: 4000 }), weirdNumber),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ type: "typing" }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("read"),
        seq: fc.oneof(fc.nat({ max: 500 }), weirdNumber),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ type: "ping" }) },
  ) as fc.Arbitrary<Record<string, unknown>>;

const FIELDS = [
  "type",
  "clientId",
  "text",
  "replyTo",
  "messageId",
  "emoji",
  "on",
  "topic",
  "userId",
  "role",
  "seconds",
  "seq",
  "reason",
] as const;

export type Mutation =
  | { op: "set" | "extra"; key: string; value: unknown }
  | { op: "drop"; key: string }
  | { op: "type"; value: unknown }
  | { op: "wrap"; how: "array" | "string" | "nested" }
  | { op: "truncate"; at: number }
  | { op: "garbage"; tail: string }
  | { op: "proto" };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant("set" as const),
    key: fc.constantFrom(...FIELDS),
    value: weirdValue,
  }),
  fc.record({ op: fc.constant("drop" as const), key: fc.constantFrom(...FIELDS) }),
  fc.record({
    op: fc.constant("type" as const),
    value: fc.oneof(
      fc.constantFrom(
        ...COMMAND_TYPES,
        ...SIGNAL_TYPES,
        "invite",
        "POST",
        "Post",
        "post ",
        "",
        "welcome",
        "ack",
        "event",
        "__proto__",
      ),
      junkString,
    ),
  }),
  fc.record({
    op: fc.constant("extra" as const),
    key: fc.string({ maxLength: 12 }),
    value: weirdValue,
  }),
  fc.record({
    op: fc.constant("wrap" as const),
    how: fc.constantFrom("array", "string", "nested"),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("garbage" as const), tail: junkString }),
  fc.record({ op: fc.constant("proto" as const) }),
);

export function mutate(frame: Record<string, unknown>, m: Mutation): string {
  const copy: Record<string, unknown> = { ...frame };
  switch (m.op) {
    case "set":
    case "extra":
      copy[m.key] = m.value;
      return JSON.stringify(copy);
    case "drop":
      delete copy[m.key];
      return JSON.stringify(copy);
    case "type":
      copy.type = m.value;
      return JSON.stringify(copy);
    case "wrap":
      return m.how === "array"
        ? JSON.stringify([copy])
        : m.how === "string"
          ? JSON.stringify(JSON.stringify(copy))
          : JSON.stringify({ frame: copy, type: "post" });
    case "truncate": {
      const json = JSON.stringify(copy);
      return json.slice(0, m.at % json.length);
    }
    case "garbage":
      return JSON.stringify(copy) + m.tail;
    case "proto":
      return JSON.stringify(copy).replace(
        "{",
        '{"__proto__":{"admin":true,"type":"ban"},"constructor":{"prototype":{"admin":true}},',
      );
  }
}

/**
 * A frame or body to send, before its references are resolved: plausible (as is, mutated, or
 * padded with an unknown field to a given size on the wire), random, or an exact replay.
 */
export type Plan =
  | { kind: "plausible"; base: Record<string, unknown>; mutation?: Mutation; binary?: true }
  | { kind: "padded"; base: Record<string, unknown>; bytes: number }
  | { kind: "text"; data: string }
  | { kind: "bytes"; data: Uint8Array }
  | { kind: "replay"; pick: number };

/** Plausible frames or bodies, as generated (`asIs` of them) or mutated (`mutated`). */
export const plausible = (
  frames: fc.Arbitrary<Record<string, unknown>>,
  { asIs, mutated }: { asIs: number; mutated: number },
): fc.Arbitrary<Plan> =>
  fc.oneof(
    { weight: asIs, arbitrary: frames.map((base) => ({ kind: "plausible" as const, base })) },
    {
      weight: mutated,
      arbitrary: fc
        .tuple(frames, mutation)
        .map(([base, m]) => ({ kind: "plausible" as const, base, mutation: m })),
    },
  );

/** Everything the WebSocket fuzzer sends. */
export const framePlan = (someone: () => fc.Arbitrary<string>): fc.Arbitrary<Plan> =>
  fc.oneof(
    { weight: 20, arbitrary: plausible(plausibleFrame(someone), { asIs: 8, mutated: 12 }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("replay" as const), pick: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.jsonValue().map((v) => ({ kind: "text" as const, data: JSON.stringify(v) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: "binary", maxLength: 200 })
        .map((data) => ({ kind: "text" as const, data })),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 300 })
        .map((data) => ({ kind: "bytes" as const, data })),
    },
    {
      weight: 1,
      arbitrary: plausibleFrame(someone).map((base) => ({
        kind: "plausible" as const,
        base,
        binary: true as const,
      })),
    },
    {
      // A valid frame padded to either side of 64 KiB: only the size decides.
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.record({ type: fc.constant("post"), clientId: fc.uuid(), text: fc.constant("pad") }),
          fc.integer({ min: CONTRACT.frameBytes - 40, max: CONTRACT.frameBytes + 40 }),
        )
        .map(([base, bytes]) => ({ kind: "padded" as const, base, bytes })),
    },
    {
      // Strings around the 64 KiB limit in the text itself.
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.integer({ min: CONTRACT.frameBytes - 200, max: CONTRACT.frameBytes + 4096 }),
          fc.constantFrom("a", "é", "👍"),
          clientId,
        )
        .map(([bytes, unit, id]) => ({
          kind: "text" as const,
          data: JSON.stringify({
            type: "post",
            clientId: id,
            text: unit.repeat(Math.floor(bytes / Buffer.byteLength(unit))),
          }),
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 10, max: 30_000 }), fc.boolean(), fc.constantFrom(0, 1, 2))
        .map(([depth, object, where]) => ({
          kind: "text" as const,
          data:
            where === 0
              ? nested(depth, object)
              : where === 1
                ? `{"type":"post","clientId":"deep","text":${nested(depth, object)}}`
                : // Deep, but in a field the contract says to ignore.
                  `{"type":"post","clientId":"deep-${depth}","text":"deep","x":${nested(depth, object)}}`,
        })),
    },
  );

/** Replaces references with values from the room as it is now. */
export function resolve(value: unknown, model: RoomModel, userId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, model, userId));
  if (typeof value !== "object" || value === null) return value;
  const ref = value as Partial<Ref>;
  if (ref.$ref === "far") return (ref as { id: number }).id;
  if (ref.$ref === "next") return model.lastSeq + (ref as { ahead: number }).ahead;
  if (ref.$ref === "message" || ref.$ref === "own") {
    const pick = (ref as { pick: number }).pick;
    const pool = ref.$ref === "own" ? model.messagesOf(userId).map((m) => m.id) : model.knownSeqs();
    return pool.length ? pool[pick % pool.length] : pick + 1;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, model, userId)]));
}

/** A JSON text padded with an unknown field so that its UTF-8 size is exactly `bytes`. */
export function padTo(base: Record<string, unknown>, bytes: number): string {
  const bare = JSON.stringify({ ...base, pad: "" });
  return JSON.stringify({ ...base, pad: "x".repeat(Math.max(0, bytes - Buffer.byteLength(bare))) });
}
