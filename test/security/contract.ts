/**
 * An oracle of the wire contract, written by hand from /work/shared/PROTOCOL.md, docs/protocol.md,
 * docs/roles.md, docs/auth.md and docs/architecture.md, and for undo, redo and redaction from
 * the contract as the feature's brief words it (docs/audit.md, to come): "take back your own
 * last action … or apply again the action you undid last", "a new action empties your redo
 * stack", "an action that can no longer be taken back → conflict", "authors redact their own
 * messages, moderators/owner/admins anyone's; unknown message → not_found; already redacted →
 * no-op; others → forbidden", "a redacted message cannot be edited, reacted to, replied to or
 * restored". It deliberately imports nothing from
 * src/: the fuzz tests predict the server's answers with this model, so a mistake in the
 * product's own schemas cannot hide behind the same mistake in the prediction.
 *
 * Where the written contract does not decide (a guest name's format, a topic's length, the
 * order of two refusals, "characters" that are one code point but two UTF-16 units …), the
 * verdict is `unclear` and the oracle accepts every answer that a reasonable reading allows,
 * never a 5xx or `internal`.
 */

/** The contract's error codes and their HTTP statuses (PROTOCOL.md, "HTTP errors"). */
export const STATUS_OF = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;
export type Code = keyof typeof STATUS_OF;
export const isCode = (value: unknown): value is Code =>
  typeof value === "string" && Object.hasOwn(STATUS_OF, value);

/** Limits, as written: frames and HTTP bodies, message text, clientId, moderation numbers. */
export const CONTRACT = {
  frameBytes: 64 * 1024, // "A frame is at most 64 KiB"; architecture.md: "64 KiB body limit"
  textCodePoints: 4000, // "1 to 4000 characters (Unicode code points), not only white space"
  clientIdChars: 64, // "clientId (1 to 64 characters …)"
  reasonChars: 500, // a redaction's "reason: ≤ 500 chars, not only white space"
  passwordChars: [8, 256], // "Passwords: 8 to 256 characters"
  muteSeconds: [1, 30 * 24 * 60 * 60], // roles.md: "1 s to 30 days"
  slowModeSeconds: [0, 3600], // roles.md: "(0 to 3600)"
  /** Not written anywhere: a topic this short is surely fine, a longer one may be refused. */
  surelyFineTopicCodePoints: 100,
} as const;

export const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
/** "An emoji is one RGI emoji": Unicode's own definition, as the JS engine implements it. */
const ONE_EMOJI = /^\p{RGI_Emoji}$/v;
/** Unicode's White_Space property (not JS `trim`, which also strips U+FEFF and keeps U+0085). */
const ONLY_WHITE_SPACE = /^\p{White_Space}*$/u;
const ONLY_WHITE_SPACE_OR_BOM = /^[\p{White_Space}\uFEFF]*$/u;

export const COMMAND_TYPES = [
  "post",
  "edit",
  "delete",
  "react",
  "undo",
  "redo",
  "redact",
  "topic",
  "leave",
  "role",
  "kick",
  "ban",
  "unban",
  "mute",
  "unmute",
  "transfer",
  "slow_mode",
] as const;
export const SIGNAL_TYPES = ["typing", "read", "ping"] as const;
/** roles.md: only owners and moderators (or admins) may send these. */
export const MODERATION_TYPES: ReadonlySet<string> = new Set([
  "topic",
  "slow_mode",
  "role",
  "kick",
  "ban",
  "unban",
  "mute",
  "unmute",
  "transfer",
]);

// ---------------------------------------------------------------- verdicts

/** ok: valid by the contract; bad: invalid by it; unclear: the contract does not say. */
export type Verdict = "ok" | "bad" | "unclear";
const worst = (...verdicts: Verdict[]): Verdict =>
  verdicts.includes("bad") ? "bad" : verdicts.includes("unclear") ? "unclear" : "ok";

const codePoints = (s: string) => [...s].length;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const has = (o: Record<string, unknown>, key: string) => Object.hasOwn(o, key);

/** 1 to 64 "characters": code points and UTF-16 units agree except for astral characters. */
export function clientIdVerdict(v: unknown): Verdict {
  if (typeof v !== "string" || v.length === 0) return "bad";
  if (codePoints(v) > CONTRACT.clientIdChars) return "bad";
  return v.length > CONTRACT.clientIdChars ? "unclear" : "ok";
}

export function textVerdict(v: unknown): Verdict {
  if (typeof v !== "string") return "bad";
  const n = codePoints(v);
  if (n < 1 || n > CONTRACT.textCodePoints) return "bad";
  if (ONLY_WHITE_SPACE.test(v)) return "bad";
  // U+FEFF is not White_Space, but it is invisible and JS `trim` strips it: either reading holds.
  if (ONLY_WHITE_SPACE_OR_BOM.test(v)) return "unclear";
  return wellFormed(v);
}

/**
 * A lone surrogate (JSON's "\udfff") is text by JSON's reading and no Unicode by another: the
 * written contract does not say. The project refuses it (docs/protocol.md): unclear.
 */
const wellFormed = (v: string): Verdict => (v.isWellFormed() ? "ok" : "unclear");

/**
 * A redaction's reason: at most 500 "chars" (code points and UTF-16 units agree except for
 * astral characters), not only white space. The empty string is white space only by the vacuous
 * reading, or simply "no reason" by another: unclear.
 */
export function reasonVerdict(v: unknown): Verdict {
  if (typeof v !== "string") return "bad";
  if (codePoints(v) > CONTRACT.reasonChars) return "bad";
  if (v === "") return "unclear";
  if (ONLY_WHITE_SPACE.test(v)) return "bad";
  if (ONLY_WHITE_SPACE_OR_BOM.test(v)) return "unclear";
  return v.length > CONTRACT.reasonChars ? "unclear" : wellFormed(v);
}

/** A seq or messageId: a positive integer that JSON numbers carry exactly. */
export const seqVerdict = (v: unknown): Verdict =>
  typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? "ok" : "bad";

export const emojiVerdict = (v: unknown): Verdict =>
  typeof v === "string" && ONE_EMOJI.test(v) ? "ok" : "bad";

export function topicVerdict(v: unknown): Verdict {
  if (typeof v !== "string") return "bad";
  return codePoints(v) <= CONTRACT.surelyFineTopicCodePoints ? wellFormed(v) : "unclear";
}

/** User ids are opaque strings; their length is not written down. */
export function userIdVerdict(v: unknown): Verdict {
  if (typeof v !== "string") return "bad";
  return v.length >= 1 && v.length <= 64 ? "ok" : "unclear";
}

function rangeVerdict(v: unknown, [min, max]: readonly [number, number]): Verdict {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) return "bad";
  // Seconds are whole in every example; a fraction inside the range is not ruled out in words.
  return Number.isInteger(v) ? "ok" : "unclear";
}

export function passwordVerdict(v: unknown): Verdict {
  if (typeof v !== "string") return "bad";
  const [min, max] = CONTRACT.passwordChars;
  const byPoints = codePoints(v) >= min && codePoints(v) <= max;
  const byUnits = v.length >= min && v.length <= max;
  return byPoints && byUnits ? "ok" : byPoints || byUnits ? "unclear" : "bad";
}

export const usernameVerdict = (v: unknown): Verdict =>
  typeof v === "string" && USERNAME.test(v) ? "ok" : "bad";

/** Guest names: only the example "ada" is written; username-like names are surely fine. */
export function guestNameVerdict(v: unknown): Verdict {
  if (typeof v !== "string") return "bad";
  return USERNAME.test(v) ? "ok" : "unclear";
}

// ---------------------------------------------------------------- frames

/** A command reduced to the fields the contract defines (unknown fields are ignored). */
export type Command = { type: (typeof COMMAND_TYPES)[number]; clientId: string } & Record<
  string,
  unknown
>;

export type FrameVerdict =
  | { verdict: "bad"; why: string }
  | { verdict: "ok" | "unclear"; kind: "command"; command: Command; why?: string }
  | {
      verdict: "ok" | "unclear";
      kind: "signal";
      type: (typeof SIGNAL_TYPES)[number];
      why?: string;
    };

/** The documented fields of each command and signal, with their checks. */
const FIELDS: Record<
  string,
  Record<string, { check: (v: unknown) => Verdict; optional?: true }>
> = {
  post: {
    clientId: { check: clientIdVerdict },
    text: { check: textVerdict },
    replyTo: { check: seqVerdict, optional: true },
  },
  edit: {
    clientId: { check: clientIdVerdict },
    messageId: { check: seqVerdict },
    text: { check: textVerdict },
  },
  delete: { clientId: { check: clientIdVerdict }, messageId: { check: seqVerdict } },
  react: {
    clientId: { check: clientIdVerdict },
    messageId: { check: seqVerdict },
    emoji: { check: emojiVerdict },
    on: { check: (v) => (typeof v === "boolean" ? "ok" : "bad") },
  },
  // `{type:"undo", clientId}` / `{type:"redo", clientId}`: nothing but the clientId.
  undo: { clientId: { check: clientIdVerdict } },
  redo: { clientId: { check: clientIdVerdict } },
  // `{type:"redact", clientId, messageId, reason?}`.
  redact: {
    clientId: { check: clientIdVerdict },
    messageId: { check: seqVerdict },
    reason: { check: reasonVerdict, optional: true },
  },
  topic: { clientId: { check: clientIdVerdict }, topic: { check: topicVerdict } },
  leave: { clientId: { check: clientIdVerdict } },
  role: {
    clientId: { check: clientIdVerdict },
    userId: { check: userIdVerdict },
    role: { check: (v) => (v === "moderator" || v === "member" ? "ok" : "bad") },
  },
  kick: { clientId: { check: clientIdVerdict }, userId: { check: userIdVerdict } },
  ban: { clientId: { check: clientIdVerdict }, userId: { check: userIdVerdict } },
  unban: { clientId: { check: clientIdVerdict }, userId: { check: userIdVerdict } },
  unmute: { clientId: { check: clientIdVerdict }, userId: { check: userIdVerdict } },
  transfer: { clientId: { check: clientIdVerdict }, userId: { check: userIdVerdict } },
  mute: {
    clientId: { check: clientIdVerdict },
    userId: { check: userIdVerdict },
    seconds: { check: (v) => rangeVerdict(v, CONTRACT.muteSeconds) },
  },
  slow_mode: {
    clientId: { check: clientIdVerdict },
    seconds: { check: (v) => rangeVerdict(v, CONTRACT.slowModeSeconds) },
  },
  typing: {},
  // The brief contract: "moves the user's read marker"; seqs start at 1, so 0 ("nothing read")
  // is a reading the words neither allow nor forbid.
  read: {
    seq: { check: (v) => (v === 0 ? "unclear" : seqVerdict(v)) },
  },
  ping: {},
};

/** Classifies one parsed JSON value as a client frame. */
export function classifyFrame(json: unknown): FrameVerdict {
  if (!isObject(json)) return { verdict: "bad", why: "not a JSON object" };
  const type = json.type;
  if (typeof type !== "string" || !Object.hasOwn(FIELDS, type))
    return { verdict: "bad", why: `unknown type ${JSON.stringify(type)}` };
  const fields = FIELDS[type]!;
  const verdicts: Verdict[] = [];
  const normalized: Record<string, unknown> = { type };
  const unclear: string[] = [];
  for (const [name, { check, optional }] of Object.entries(fields)) {
    if (!has(json, name)) {
      if (optional) continue;
      return { verdict: "bad", why: `${type} without ${name}` };
    }
    const verdict = check(json[name]);
    if (verdict === "bad") return { verdict: "bad", why: `${type}.${name} is invalid` };
    if (verdict === "unclear") unclear.push(name);
    verdicts.push(verdict);
    normalized[name] = json[name];
  }
  const verdict = worst(...verdicts) as "ok" | "unclear";
  const why = unclear.length ? `${type}: unclear ${unclear.join(", ")}` : undefined;
  if ((SIGNAL_TYPES as readonly string[]).includes(type))
    return { verdict, kind: "signal", type: type as (typeof SIGNAL_TYPES)[number], why };
  return { verdict, kind: "command", command: normalized as Command, why };
}

/** A stable key of a command's meaning, to tell an exact repeat from a reused clientId. */
export const commandKey = (command: Command): string =>
  JSON.stringify(Object.entries(command).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * The clientId a refusal must echo: "Refusals are error frames carrying the command's clientId".
 * `required`: the frame is an object of a non-signal type with a well-formed clientId;
 * `optional`: we cannot tell (too large, binary), it is a signal, or the clientId itself is
 * unclear: absent or that value;
 * `absent`: no well-formed clientId to echo.
 */
export type Echo = { rule: "required" | "optional"; clientId: string } | { rule: "absent" };

export function echoOf(json: unknown): Echo {
  if (!isObject(json)) return { rule: "absent" };
  const verdict = clientIdVerdict(json.clientId);
  if (verdict === "bad") return { rule: "absent" };
  const clientId = json.clientId as string;
  const signal = (SIGNAL_TYPES as readonly unknown[]).includes(json.type);
  return { rule: signal || verdict === "unclear" ? "optional" : "required", clientId };
}

// ---------------------------------------------------------------- the room

/** A message as the oracle knows it; `changedAt`: the seq of its latest delete or restore known. */
type KnownMessage = {
  type: "message.posted";
  author: string;
  deleted: boolean;
  redacted: boolean;
  /** The seq of its `message.redacted`, once redacted. */
  redactedAt?: number;
  changedAt: number;
};
/** What the oracle may say about a seq of the room's log. */
type Known = KnownMessage | { type: "other"; what: string };

/**
 * One action a user may take back: "post → message.deleted, edit → message.edited back to the
 * previous text, delete → message.restored with the text it had, reaction added/removed → the
 * opposite". A redaction is not one of them (it is for good), nor is leaving or moderation.
 */
type Action =
  | { seq: number; kind: "posted" | "edited" | "deleted"; messageId: number }
  | { seq: number; kind: "reaction.added" | "reaction.removed"; messageId: number; emoji: string };

/** A user's undo stack (their actions) and redo stack (what they undid), tops last. */
type Stacks = { undo: Action[]; redo: Action[] };

/** How an ack's seq must look: exactly this, or at least this. */
export type SeqRule = { exact: number } | { atLeast: number };

/**
 * `settle`: the oracle cannot tell from the ack whether an event was logged (a reaction to a
 * message that may be in flight); the caller lets the room's events catch up with the acked seq
 * before the next prediction, and the model learns from them.
 */
export type Outcome =
  | { ok: true; seq: SeqRule; apply: (seq: number) => void; replay?: true; settle?: true }
  | { ok: false; code: Code };

/**
 * The room as the contract's rules see it, kept from what the test itself did and saw.
 *
 * `exact`: the test is the only writer (HTTP fuzzing), so the oracle knows `lastSeq` and every
 * seq's meaning. Otherwise (WebSocket fuzzing beside honest chatters) `lastSeq` is the highest
 * seq known to be stored, and a few seqs past it may be the chatters' messages in flight.
 *
 * Undo and redo are modelled exactly: each user's stacks, fed by the acks of their own commands
 * and by the events the test sees (each seq counted once). The oracle's users are plain members
 * or strangers, never muted and never moderators, so "a muted user may only undo/redo into a
 * message.deleted" and the `delete_any` power are not modelled here but in
 * undo-redact.test.ts, scene by scene.
 */
export class RoomModel {
  lastSeq = 0;
  readonly exact: boolean;
  readonly #log = new Map<number, Known>();
  readonly #members = new Set<string>();
  /** The seq of each user's latest membership change known, so a late event cannot undo it. */
  readonly #memberAt = new Map<string, number>();
  readonly #reactions = new Set<string>();
  readonly #keys = new Map<string, { seq: number; key: string }>();
  readonly #stacks = new Map<string, Stacks>();
  /** Seqs whose effect on the stacks is counted already (an ack, then its event). */
  readonly #stacked = new Set<number>();
  /** How many seqs past `lastSeq` may already be stored by others (not exact mode). */
  readonly inFlight: number;

  constructor(options: { exact: boolean; inFlight?: number }) {
    this.exact = options.exact;
    this.inFlight = options.exact ? 0 : (options.inFlight ?? 16);
  }

  /** An event the test saw (from the log or any socket): stored, with its meaning. */
  observe(event: { seq: number; type: string; actor: { id: string }; data?: unknown }): void {
    this.lastSeq = Math.max(this.lastSeq, event.seq);
    const data = (event.data ?? {}) as {
      messageId?: number;
      emoji?: string;
      undoes?: number;
      redoes?: number;
    };
    if (event.type === "message.posted") {
      const known = this.#log.get(event.seq);
      if (known?.type !== "message.posted")
        this.#log.set(event.seq, {
          type: "message.posted",
          author: event.actor.id,
          deleted: false,
          redacted: false,
          changedAt: event.seq,
        });
    } else {
      this.#log.set(event.seq, { type: "other", what: event.type });
    }
    if (typeof data.messageId === "number") {
      if (event.type === "message.deleted") this.#deleted(data.messageId, true, event.seq);
      if (event.type === "message.restored") this.#deleted(data.messageId, false, event.seq);
      if (event.type === "message.redacted") this.#redacted(data.messageId, event.seq);
    }
    if (event.type === "member.joined") this.#membership(event.actor.id, true, event.seq);
    if (event.type === "member.left") this.#membership(event.actor.id, false, event.seq);
    // The stacks, from the events: an action is pushed, `undoes`/`redoes` move it across.
    const actor = event.actor.id;
    const marks = { undoes: data.undoes, redoes: data.redoes };
    const id = event.type === "message.posted" ? event.seq : data.messageId;
    if (typeof id !== "number") return;
    if (marks.undoes !== undefined) this.#moved(actor, "undo", marks.undoes, event.seq);
    else if (marks.redoes !== undefined) this.#moved(actor, "redo", marks.redoes, event.seq);
    else if (event.type === "reaction.added" || event.type === "reaction.removed") {
      if (typeof data.emoji === "string")
        this.#acted(actor, { seq: event.seq, kind: event.type, messageId: id, emoji: data.emoji });
    } else if (event.type.startsWith("message.")) {
      const kind = event.type.slice("message.".length);
      if (kind === "posted" || kind === "edited" || kind === "deleted")
        this.#acted(actor, { seq: event.seq, kind, messageId: id });
    }
  }

  #membership(userId: string, member: boolean, seq: number): void {
    if ((this.#memberAt.get(userId) ?? 0) > seq) return;
    this.#memberAt.set(userId, seq);
    if (member) this.#members.add(userId);
    else this.#members.delete(userId);
  }

  /** A delete or restore of message `id` at `seq`, unless a later one is known already. */
  #deleted(id: number, deleted: boolean, seq: number): void {
    const known = this.#log.get(id);
    if (known?.type !== "message.posted" || known.changedAt > seq) return;
    known.deleted = deleted;
    known.changedAt = seq;
  }

  #redacted(id: number, seq: number): void {
    const known = this.#log.get(id);
    if (known?.type !== "message.posted" || known.redacted) return;
    known.redacted = true;
    known.redactedAt = seq;
  }

  #stacksOf(userId: string): Stacks {
    let stacks = this.#stacks.get(userId);
    if (!stacks) this.#stacks.set(userId, (stacks = { undo: [], redo: [] }));
    return stacks;
  }

  /** "A new action empties your redo stack." */
  #acted(userId: string, action: Action): void {
    if (this.#stacked.has(action.seq)) return;
    this.#stacked.add(action.seq);
    const stacks = this.#stacksOf(userId);
    stacks.undo.push(action);
    stacks.redo = [];
  }

  /** The action of seq `of` moves from one stack to the other (an undo or a redo at `seq`). */
  #moved(userId: string, which: "undo" | "redo", of: number, seq: number): void {
    if (this.#stacked.has(seq)) return;
    this.#stacked.add(seq);
    const stacks = this.#stacksOf(userId);
    const [from, to] = which === "undo" ? [stacks.undo, stacks.redo] : [stacks.redo, stacks.undo];
    const at = from.findIndex((a) => a.seq === of);
    if (at < 0) return;
    to.push(...from.splice(at, 1));
  }

  /** A seq known to be stored (an ack to someone else, a welcome's lastSeq). */
  stored(seq: number): void {
    this.lastSeq = Math.max(this.lastSeq, seq);
  }

  /** A socket of `userId` opened: a public room makes them a member (one member.joined). */
  connected(userId: string, welcomeLastSeq: number): void {
    if (!this.#members.has(userId)) {
      this.#membership(userId, true, welcomeLastSeq);
      this.#log.set(welcomeLastSeq, { type: "other", what: "member.joined" });
    }
    this.stored(welcomeLastSeq);
  }

  isMember(userId: string): boolean {
    return this.#members.has(userId);
  }

  /** Every seq whose meaning is known: ids to aim commands at. */
  knownSeqs(): number[] {
    return [...this.#log.keys()];
  }

  /** The messages of `userId` known to the model, deleted and redacted ones included. */
  messagesOf(userId: string): { id: number; deleted: boolean; redacted: boolean }[] {
    return [...this.#log]
      .filter(([, k]) => k.type === "message.posted" && k.author === userId)
      .map(([id, k]) => {
        const { deleted, redacted } = k as KnownMessage;
        return { id, deleted, redacted };
      });
  }

  /** `userId`'s reactions as "messageId emoji", sorted. */
  reactionsOf(userId: string): string[] {
    return [...this.#reactions]
      .filter((r) => r.startsWith(`${userId}\u0000`))
      .map((r) => r.split("\u0000").slice(1).join(" "))
      .sort();
  }

  /** How deep `userId`'s stacks are: for the tests' statistics. */
  stackDepths(userId: string): { undo: number; redo: number } {
    const stacks = this.#stacks.get(userId);
    return { undo: stacks?.undo.length ?? 0, redo: stacks?.redo.length ?? 0 };
  }

  /**
   * live / redacted (not deleted, but redacted) / gone (deleted, or not a message) / unknown
   * (may be a message stored by others).
   */
  #message(
    id: number,
  ):
    | { state: "live"; author: string }
    | { state: "redacted"; author: string }
    | { state: "gone" }
    | { state: "unknown" } {
    const known = this.#log.get(id);
    if (known?.type === "message.posted")
      return known.deleted
        ? { state: "gone" }
        : known.redacted
          ? { state: "redacted", author: known.author }
          : { state: "live", author: known.author };
    if (known) return { state: "gone" };
    if (this.exact) return { state: "gone" };
    return id <= this.lastSeq + this.inFlight ? { state: "unknown" } : { state: "gone" };
  }

  /**
   * Every answer the contract allows to `command` from `userId`, a plain member or a stranger
   * (these tests never act as owner, moderator or admin).
   */
  outcomes(userId: string, command: Command): Outcome[] {
    const key = `${userId}\u0000${command.clientId}`;
    const prior = this.#keys.get(key);
    if (prior) {
      // "A command repeated with the same user and clientId … is not applied again"; "a repeated
      // command is acked with its original seq".
      const replay: Outcome = {
        ok: true,
        seq: { exact: prior.seq },
        apply: () => {},
        replay: true,
      };
      if (prior.key === commandKey(command)) return [replay];
      // A reused clientId with another command breaks "unique per user": the server may take it
      // for the repeat, or refuse the new command on its own merits; it must not apply it.
      return [replay, ...this.#fresh(userId, command).filter((o) => !o.ok)];
    }
    return this.#fresh(userId, command);
  }

  #fresh(userId: string, command: Command): Outcome[] {
    const refuse = (code: Code): Outcome => ({ ok: false, code });
    if (MODERATION_TYPES.has(command.type)) return [refuse("forbidden")];
    const member = this.#members.has(userId);
    const remember = (seq: number) =>
      this.#keys.set(`${userId}\u0000${command.clientId}`, { seq, key: commandKey(command) });
    /** Seqs that `apply` gave meaning to, so their events do not count again. */
    const actedAt = (action: Action) => this.#acted(userId, action);
    /**
     * An ack that logs `events` (joining first if `join`), then runs `effect(seq)`. Beside
     * others' traffic (not exact) the oracle pins less: seqs at least past the known ones, and
     * only the acked seq's own meaning; joins and the rest arrive with the watched events.
     */
    const logs = (
      events: string[],
      effect: (seq: number) => void = () => {},
      join = !member && events.length > 0,
    ): Outcome => {
      const all = join ? ["member.joined", ...events] : events;
      const base = this.lastSeq;
      const seq: SeqRule = this.exact
        ? { exact: base + all.length }
        : { atLeast: base + (events.length > 0 && command.type !== "leave" ? 1 : 0) };
      return {
        ok: true,
        seq,
        apply: (acked) => {
          if (this.exact) {
            const first = acked - all.length + 1;
            all.forEach((type, i) => this.#log.set(first + i, { type: "other", what: type }));
            if (all.includes("member.joined")) this.#membership(userId, true, first);
          } else if (
            events.length > 0 &&
            (command.type === "post" || command.type === "edit" || command.type === "delete")
          ) {
            // Posting, editing or deleting makes a member (react may have been a no-op; whether
            // undo, redo or redact make a member is not written: the events will tell).
            this.#membership(userId, true, acked);
          }
          this.stored(acked);
          effect(acked);
          remember(acked);
        },
      };
    };
    /**
     * Undo, redo and redact by someone who is not a member now (a stranger, or someone who left
     * a public room): whether their event makes them a member again is not written.
     */
    const logsMaybeJoining = (events: string[], effect: (seq: number) => void): Outcome[] =>
      member || !this.exact
        ? [logs(events, effect, false)]
        : [logs(events, effect, false), logs(events, effect, true)];
    switch (command.type) {
      case "leave": {
        // Whoever was acked a leave is no member now; "leave when not a member" logs nothing.
        const left = (seq: number) => this.#membership(userId, false, seq);
        return [member ? logs(["member.left"], left) : logs([], left)];
      }
      case "post": {
        const post = logs(["message.posted"], (seq) => {
          this.#log.set(seq, {
            type: "message.posted",
            author: userId,
            deleted: false,
            redacted: false,
            changedAt: seq,
          });
          actedAt({ seq, kind: "posted", messageId: seq });
        });
        if (command.replyTo === undefined) return [post];
        const target = this.#message(command.replyTo as number);
        if (target.state === "live") return [post];
        if (target.state === "gone") return [refuse("not_found")];
        // "A redacted message cannot be … replied to": which refusal is not written.
        if (target.state === "redacted") return [refuse("not_found"), refuse("conflict")];
        return [post, refuse("not_found")];
      }
      case "edit":
      case "delete": {
        const id = command.messageId as number;
        const target = this.#message(id);
        const kind = command.type === "edit" ? "edited" : "deleted";
        const act = logs([`message.${kind}`], (seq) => {
          if (command.type === "delete") this.#deleted(id, true, seq);
          actedAt({ seq, kind, messageId: id });
        });
        if (target.state === "gone") return [refuse("not_found")];
        // Seqs in flight are the chatters' own messages, never this user's.
        if (target.state === "unknown") return [refuse("not_found"), refuse("forbidden")];
        if (target.state === "redacted") {
          // "A redacted message cannot be edited": which refusal is not written. Deleting one
          // is not named among what a redaction forbids: applied, or refused.
          const refusals = [refuse("not_found"), refuse("conflict")];
          if (target.author !== userId) return [refuse("forbidden"), ...refusals];
          return command.type === "edit" ? refusals : [act, ...refusals];
        }
        return target.author === userId ? [act] : [refuse("forbidden")];
      }
      case "react": {
        const id = command.messageId as number;
        const emoji = command.emoji as string;
        const reaction = `${userId}\u0000${id}\u0000${emoji}`;
        const set = (on: boolean) =>
          on ? this.#reactions.add(reaction) : this.#reactions.delete(reaction);
        const target = this.#message(id);
        if (target.state === "gone") return [refuse("not_found")];
        // "A redacted message cannot be … reacted to": which refusal is not written.
        if (target.state === "redacted") return [refuse("not_found"), refuse("conflict")];
        const on = command.on === true;
        const kind = on ? "reaction.added" : "reaction.removed";
        // Asking for the state that already holds is a no-op, acked with the current lastSeq.
        const act =
          target.state === "live" && this.#reactions.has(reaction) === on
            ? logs([])
            : logs([kind], (seq) => {
                set(on);
                actedAt({ seq, kind, messageId: id, emoji });
              });
        if (target.state === "unknown") {
          // The message may be one in flight; whatever was logged, the reaction is now as asked
          // (and the events will show whether it was an action).
          const either: Outcome = {
            ok: true,
            seq: { atLeast: this.lastSeq },
            settle: true,
            apply: (seq) => {
              set(on);
              this.stored(seq);
              remember(seq);
            },
          };
          return [either, refuse("not_found")];
        }
        return [act];
      }
      case "undo":
      case "redo":
        return this.#undoRedo(userId, command.type, logsMaybeJoining);
      case "redact":
        return this.#redact(userId, command.messageId as number, logs, logsMaybeJoining);
      default:
        throw new Error(`the oracle has no rule for ${command.type}`);
    }
  }

  /**
   * "Take back your own last action … or apply again the action you undid last"; "nothing to
   * undo/redo, or an action that can no longer be taken back (message redacted, deleted/restored
   * by someone else since, your reaction changed since) → conflict"; "undo/redo of a change to
   * someone else's message needs the delete_any power" (which the oracle's users never have).
   * A refused undo or redo leaves both stacks as they were. A reaction is the user's own, on
   * anyone's message (reacting needs no power), so undoing it needs none either.
   */
  #undoRedo(
    userId: string,
    which: "undo" | "redo",
    logsMaybeJoining: (events: string[], effect: (seq: number) => void) => Outcome[],
  ): Outcome[] {
    const refuse = (code: Code): Outcome => ({ ok: false, code });
    const stacks = this.#stacks.get(userId);
    const action = (which === "undo" ? stacks?.undo : stacks?.redo)?.at(-1);
    if (!action) return [refuse("conflict")];
    const undo = which === "undo";
    const moved = (seq: number) => this.#moved(userId, which, action.seq, seq);
    const known = this.#log.get(action.messageId);
    const message = known?.type === "message.posted" ? known : undefined;
    if (action.kind === "reaction.added" || action.kind === "reaction.removed") {
      // Undo of an added reaction (or redo of a removed one) takes it off; the other two put it on.
      const on = (action.kind === "reaction.added") !== undo;
      const reaction = `${userId}\u0000${action.messageId}\u0000${action.emoji}`;
      if (!message || message.deleted || message.redacted) return [refuse("conflict")];
      if (this.#reactions.has(reaction) === on) return [refuse("conflict")];
      return logsMaybeJoining([on ? "reaction.added" : "reaction.removed"], (seq) => {
        if (on) this.#reactions.add(reaction);
        else this.#reactions.delete(reaction);
        moved(seq);
      });
    }
    // posted: undo deletes, redo restores; deleted: undo restores, redo deletes; edited: an edit.
    const deletes = action.kind === "edited" ? undefined : (action.kind === "posted") === undo;
    const needsLive = deletes !== false;
    const conflict =
      !message || message.redacted || message.deleted === needsLive ? [refuse("conflict")] : [];
    const forbidden = message && message.author !== userId ? [refuse("forbidden")] : [];
    if (conflict.length || forbidden.length) return [...conflict, ...forbidden];
    const type =
      deletes === undefined ? "message.edited" : deletes ? "message.deleted" : "message.restored";
    return logsMaybeJoining([type], (seq) => {
      if (deletes !== undefined) this.#deleted(action.messageId, deletes, seq);
      moved(seq);
    });
  }

  /**
   * "Authors redact their own messages, moderators/owner/admins anyone's; unknown message →
   * not_found; already redacted → no-op (ack with the existing seq); others → forbidden."
   */
  #redact(
    userId: string,
    id: number,
    logs: (events: string[]) => Outcome,
    logsMaybeJoining: (events: string[], effect: (seq: number) => void) => Outcome[],
  ): Outcome[] {
    const refuse = (code: Code): Outcome => ({ ok: false, code });
    const known = this.#log.get(id);
    if (known?.type === "message.posted") {
      const others = known.author !== userId;
      if (known.redacted) {
        // "The existing seq": the redaction's, or the room's lastSeq as for every no-op. Which
        // of "already redacted" and "not yours" is checked first is not written.
        const noOp = logs([]);
        const again: Outcome = {
          ok: true,
          seq: { exact: known.redactedAt! },
          apply: noOp.ok ? noOp.apply : () => {},
        };
        return [noOp, again, ...(others ? [refuse("forbidden")] : [])];
      }
      if (others) return [refuse("forbidden")];
      const redact = logsMaybeJoining(["message.redacted"], (seq) => this.#redacted(id, seq));
      // A deleted message still has its text in the log; "unknown or deleted" is not_found
      // elsewhere: either reading.
      return known.deleted ? [...redact, refuse("not_found")] : redact;
    }
    if (known || this.exact) return [refuse("not_found")];
    // Seqs in flight are the chatters' own messages, never this user's.
    return id <= this.lastSeq + this.inFlight
      ? [refuse("not_found"), refuse("forbidden")]
      : [refuse("not_found")];
  }
}

/** Whether an acked seq fits its rule. */
export const seqFits = (seq: unknown, rule: SeqRule): boolean =>
  typeof seq === "number" &&
  Number.isSafeInteger(seq) &&
  seq >= 0 &&
  ("exact" in rule ? seq === rule.exact : seq >= rule.atLeast);

export const describeOutcome = (o: Outcome): string =>
  o.ok ? `ack ${"exact" in o.seq ? `= ${o.seq.exact}` : `>= ${o.seq.atLeast}`}` : o.code;

/** The contract's error body, checked by hand: `{"error": {"code", "message"}}`, no stack trace. */
export function errorBodyProblem(status: number, json: unknown, text: string): string | undefined {
  if (!isObject(json) || !isObject(json.error)) return "not the error body";
  const { code, message } = json.error;
  if (!isCode(code)) return `unknown code ${JSON.stringify(code)}`;
  if (STATUS_OF[code] !== status) return `code ${code} with status ${status}`;
  if (typeof message !== "string") return "no message";
  if (STACK.test(text)) return "stack-like message";
  return undefined;
}

export const STACK = /\bat \S+ \(|\.ts:\d+|\.js:\d+|Error:|\bstack\b/i;

// ---------------------------------------------------------------- the instance audit log

/** docs/audit.md, "Instance audit log": the actions an entry may have. */
export const AUDIT_ACTIONS = [
  "auth.signed_in",
  "auth.sign_in_failed",
  "auth.guest_signed_in",
  "auth.signed_out",
  "account.registered",
  "account.password_changed",
  "account.deleted",
  "account.sessions_ended",
  "account.banned",
  "account.unbanned",
  "account.deleted_by_admin",
  "room.created",
  "room.topic_changed",
  "room.slow_mode_changed",
  "room.ownership_transferred",
  "member.invited",
  "member.role_changed",
  "member.kicked",
  "member.banned",
  "member.unbanned",
  "member.muted",
  "member.unmuted",
  "message.deleted",
] as const;

const DIGITS = /^\d{1,15}$/;

/**
 * `GET /api/admin/audit`'s query, as docs/audit.md writes it: `actor` 1 to 64 characters
 * (surrounding white space ignored), `action` one of AUDIT_ACTIONS, `since`/`until`/`before`
 * plain non-negative integers (`before` at least 1, `since` not after `until`), `limit` 1 to 200.
 * Other parameters are ignored.
 */
export function auditQueryVerdict(params: Record<string, string>): Verdict {
  const verdicts: Verdict[] = [];
  if (has(params, "actor")) verdicts.push(actorVerdict(params.actor!));
  if (has(params, "action"))
    verdicts.push((AUDIT_ACTIONS as readonly string[]).includes(params.action!) ? "ok" : "bad");
  for (const key of ["since", "until", "before", "limit"])
    if (has(params, key) && !DIGITS.test(params[key]!)) verdicts.push("bad");
  const number = (key: string) =>
    DIGITS.test(params[key] ?? "") ? Number(params[key]) : undefined;
  const [since, until, before, limit] = ["since", "until", "before", "limit"].map(number);
  if (before !== undefined && before < 1) verdicts.push("bad");
  if (limit !== undefined && (limit < 1 || limit > 200)) verdicts.push("bad");
  if (since !== undefined && until !== undefined && since > until) verdicts.push("bad");
  return worst(...verdicts);
}

/** "White space" by Unicode or by JavaScript's trim: where they differ, either reading holds. */
function actorVerdict(raw: string): Verdict {
  const trimmed = raw.trim();
  const unicodeEmpty = /^[\p{White_Space}\uFEFF]*$/u.test(raw);
  if (trimmed.length === 0 || unicodeEmpty)
    return trimmed.length === 0 && unicodeEmpty ? "bad" : "unclear";
  const oddEdge = /^[\p{White_Space}\uFEFF\u180E]|[\p{White_Space}\uFEFF\u180E]$/u.test(raw);
  if (codePoints(trimmed) > 64) return oddEdge ? "unclear" : "bad";
  return trimmed.length > 64 || oddEdge ? "unclear" : "ok";
}

// ---------------------------------------------------------------- read queries

/** What the oracle knows of a room's log: the time of each event, oldest first (seq = index + 1). */
export type LogTimes = readonly number[];

/** A parameter of a read query: its rule, given the room's log. */
type QueryParam = { check: (raw: string, log: LogTimes) => Verdict };

/**
 * A query number as written: digits only (no sign, point, exponent or space). Leading zeros and
 * numbers past 15 digits are not ruled out in words: unclear.
 */
function queryNumber(raw: string, check: (n: number) => boolean): Verdict {
  if (!/^\d+$/.test(raw)) return "bad";
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) return raw.length > 15 ? "unclear" : "bad";
  const verdict: Verdict = check(n) ? "ok" : "bad";
  if (verdict === "ok" && (raw.length > 15 || (raw.length > 1 && raw.startsWith("0"))))
    return "unclear";
  return verdict;
}

/**
 * Read routes of a room with query parameters (GET /api/rooms/{room}<path>), and the rule of
 * each parameter (docs/protocol.md): the fuzz sends generated query strings to each, and
 * object-authz tries each as an outsider. Time travel: `at` a seq of the log, `atTime` a time
 * no earlier than its first event, exactly one of the two; `before` a seq; `limit` 1 to 200.
 */
export const ROOM_QUERY_ROUTES = {
  "/state": {
    params: {
      at: { check: (raw, log) => queryNumber(raw, (n) => n >= 1 && n <= log.length) },
      atTime: { check: (raw, log) => queryNumber(raw, (n) => n >= (log[0] ?? Infinity)) },
      before: { check: (raw) => queryNumber(raw, (n) => n >= 1) },
      limit: { check: (raw) => queryNumber(raw, (n) => n >= 1 && n <= 200) },
    } satisfies Record<string, QueryParam>,
    /** The combinations the contract refuses whatever the values. */
    together: (keys: readonly string[]): Verdict =>
      keys.includes("at") === keys.includes("atTime") ? "bad" : "ok",
    /** A valid query of any room that exists, for the authorization tests. */
    example: "?at=1",
  },
} as const;

/** The oracle's verdict on a query string's parameters for `route`, given the room's log. */
export function queryVerdict(
  route: keyof typeof ROOM_QUERY_ROUTES,
  params: readonly [string, string][],
  log: LogTimes,
): Verdict {
  const spec = ROOM_QUERY_ROUTES[route];
  const keys = params.map(([k]) => k);
  const known = (k: string): k is keyof typeof spec.params => Object.hasOwn(spec.params, k);
  const verdicts: Verdict[] = [spec.together(keys)];
  for (const [key, raw] of params) {
    // A repeated or unknown parameter: the contract does not say which value wins or whether it is refused.
    if (!known(key) || keys.indexOf(key) !== keys.lastIndexOf(key)) verdicts.push("unclear");
    else verdicts.push(spec.params[key].check(raw, log));
  }
  return worst(...verdicts);
}

/** The seq an `atTime` names: the last event at or before it. */
export const seqAtTimeOf = (atTime: number, log: LogTimes): number =>
  log.findLastIndex((at) => at <= atTime) + 1;

// ---------------------------------------------------------------- bots (docs/integrations.md, "Bots")

/**
 * docs/service-keys.md, "Scope": the actions a service, and so a bot, may be given (those a
 * moderator may take), and those of them that need the moderator role (docs/roles.md).
 */
export const SERVICE_ACTIONS = [
  "post",
  "edit",
  "delete",
  "react",
  "undo",
  "redo",
  "redact",
  "leave",
  "topic",
  "slow_mode",
  "invite",
  "mute",
  "unmute",
  "kick",
  "ban",
  "unban",
  "delete_any",
  "redact_any",
  "skip_slow_mode",
  "list_bans",
  // docs/automation.md, "Rules in the log": a moderator's.
  "save_rule",
  "delete_rule",
  "manage_rules",
] as const;
const MODERATORS_ACTIONS: ReadonlySet<string> = new Set([
  "topic",
  "slow_mode",
  "invite",
  "mute",
  "unmute",
  "kick",
  "ban",
  "unban",
  "delete_any",
  "redact_any",
  "skip_slow_mode",
  "list_bans",
  "save_rule",
  "delete_rule",
  "manage_rules",
]);

/** docs/integrations.md, "Bots": at most 10 per user, 1 to 20 rooms named one by one. */
export const BOTS = { perUser: 10, roomsMax: 20, overlapMaxSeconds: 30 * 24 * 60 * 60 } as const;

const hasOnlyKeys = (v: Record<string, unknown>, keys: readonly string[]) =>
  Object.keys(v).every((key) => keys.includes(key));

/**
 * A bot's scope as written: exactly `rooms` (1 to 20 room names; `"*"` is refused), `actions`
 * (at least one, each a service's), `role` (member or moderator; a moderator's action needs the
 * moderator role). Unknown fields are refused. Whether the rooms are the owner's is the room's
 * business, not the body's.
 */
export function botScopeVerdict(v: unknown): Verdict {
  if (!isObject(v) || !hasOnlyKeys(v, ["rooms", "actions", "role"])) return "bad";
  const { rooms, actions, role } = v;
  if (!Array.isArray(rooms) || rooms.length < 1 || rooms.length > BOTS.roomsMax) return "bad";
  if (!rooms.every((room) => typeof room === "string" && ROOM_NAME.test(room))) return "bad";
  if (!Array.isArray(actions) || actions.length < 1) return "bad";
  if (!actions.every((a) => (SERVICE_ACTIONS as readonly unknown[]).includes(a))) return "bad";
  if (role !== "member" && role !== "moderator") return "bad";
  if (role === "member" && actions.some((a) => MODERATORS_ACTIONS.has(a as string))) return "bad";
  return "ok";
}

/** `POST /api/bots`: exactly `name` (a username's format) and `scope`. */
export function createBotVerdict(v: unknown): Verdict {
  if (!isObject(v) || !hasOnlyKeys(v, ["name", "scope"])) return "bad";
  return usernameVerdict(v.name) === "ok" ? botScopeVerdict(v.scope) : "bad";
}

/** `PATCH /api/bots/{service}`: exactly `scope`. */
export function updateBotVerdict(v: unknown): Verdict {
  if (!isObject(v) || !hasOnlyKeys(v, ["scope"])) return "bad";
  return botScopeVerdict(v.scope);
}

/** A rotation's body: nothing, or `overlapSeconds`, whole seconds from 0 to 30 days. */
export function rotateVerdict(v: unknown): Verdict {
  if (!isObject(v) || !hasOnlyKeys(v, ["overlapSeconds"])) return "bad";
  const s = v.overlapSeconds;
  if (s === undefined) return "ok";
  return Number.isInteger(s) && (s as number) >= 0 && (s as number) <= BOTS.overlapMaxSeconds
    ? "ok"
    : "bad";
}
