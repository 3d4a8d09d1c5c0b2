import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import canonicalize from "canonicalize";
import * as z from "zod";

/**
 * The room log's hash chain (docs/audit.md): every event links to the one before it, so that a
 * changed byte, a removed event or a reordering breaks every link after it. Pure, shared by the
 * room, the SDK and the offline verifier.
 *
 * Canonical form: RFC 8785 (JSON Canonicalization Scheme), UTF-8, SHA-256, lower-case hex.
 *   contentHash = SHA-256(JCS(data))
 *   hash        = SHA-256(JCS({ v: 1, seq, id, type, at, actor: { id, name }, contentHash, prevHash,
 *                                 version }))   // `version` only when the data's version is not 1
 * The link covers the content's hash, not the content: a redacted event keeps its contentHash,
 * and the chain still verifies without the content.
 */
export const Hash = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 hash in lower-case hex");

/** The prevHash of the first event. */
export const GENESIS_HASH = "0".repeat(64);

const sha256Hex = (text: string) => bytesToHex(sha256(utf8ToBytes(text)));

function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("not JSON: cannot be canonicalized");
  return text;
}

export const contentHashOf = (data: unknown): string => sha256Hex(jcs(data));

/** What a link is computed from: the event's header, its content's hash and the previous hash. */
export type LinkFields = {
  seq: number;
  id: string;
  type: string;
  at: number;
  actor: { id: string; name: string };
  contentHash: string;
  prevHash: string;
  /** The version its data was written in (upcast.ts); absent means 1. */
  version?: number | undefined;
};

export function linkHash(e: LinkFields): string {
  const { seq, id, type, at, contentHash, prevHash } = e;
  const actor = { id: e.actor.id, name: e.actor.name };
  const version = e.version !== undefined && e.version !== 1 ? { version: e.version } : {};
  return sha256Hex(jcs({ v: 1, seq, id, type, at, actor, contentHash, prevHash, ...version }));
}

/**
 * An event as stored or exported: its link fields, its hash and its data. `redactedBy` names the
 * `message.redacted` event that emptied its text: its data no longer matches its content hash,
 * and the chain must hold that redaction for the event to verify.
 */
export type ChainedEvent = LinkFields & { hash: string; data?: unknown; redactedBy?: number };

/**
 * The types whose data carries a message's content (its text, its attachments, a voice
 * attachment's transcript): what a redaction empties.
 */
export const TEXT_EVENT_TYPES = [
  "message.posted",
  "message.edited",
  "message.restored",
  "message.transcribed",
] as const;

/** The fields besides `text` that a redaction removes (attachments.ts): content, not structure. */
export const REDACTED_FIELDS = ["attachments", "segments"] as const;

export type ChainVerdict =
  { ok: true; lastSeq: number; head: string } | { ok: false; seq: number; problem: string };

/** What `GET /api/rooms/{room}/audit/verify` answers. */
export const ChainReport = z.union([
  z.object({
    ok: z.literal(true),
    lastSeq: z.number().int().nonnegative(),
    head: Hash,
    /** How far the anchor kept outside the room says the log had reached (absent: no anchor yet). */
    anchoredSeq: z.number().int().nonnegative().optional(),
  }),
  z.object({ ok: z.literal(false), seq: z.number().int().positive(), problem: z.string() }),
]);
export type ChainReport = z.infer<typeof ChainReport>;

/**
 * A chain that verified, checked against the head anchored outside the room: the log must reach
 * the anchored seq (else its end was cut off) and hold the anchored hash there.
 */
export function checkAnchor(
  verdict: Extract<ChainVerdict, { ok: true }>,
  anchor: { lastSeq: number; head: string } | undefined,
  hashAt: (seq: number) => string | undefined,
): ChainReport {
  if (!anchor) return verdict;
  if (anchor.lastSeq > verdict.lastSeq)
    return {
      ok: false,
      seq: verdict.lastSeq + 1,
      problem: `the log ends at ${verdict.lastSeq}, but it had reached ${anchor.lastSeq}: events were cut off`,
    };
  if (hashAt(anchor.lastSeq) !== anchor.head)
    return {
      ok: false,
      seq: anchor.lastSeq,
      problem: "its hash differs from the head anchored outside the room",
    };
  return { ...verdict, anchoredSeq: anchor.lastSeq };
}

const messageIdOf = (e: ChainedEvent): unknown =>
  e.type === "message.posted" ? e.seq : (e.data as { messageId?: unknown } | undefined)?.messageId;

/**
 * Walks `events` (in the order given) from `from`: each must follow the previous seq, link to its
 * hash, carry the hash of its own fields, and data whose hash it carries — unless it is marked
 * redacted, and then a later `message.redacted` in the walk must redact its message.
 */
export function verifyChain(
  events: Iterable<ChainedEvent>,
  from: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): ChainVerdict {
  let last = from;
  /** Redactions claimed and not yet seen, by the seq of the redaction: the events claiming it. */
  const claims = new Map<number, ChainedEvent[]>();
  for (const e of events) {
    const broken = (problem: string): ChainVerdict => ({ ok: false, seq: e.seq, problem });
    if (e.seq !== last.seq + 1)
      return { ok: false, seq: last.seq + 1, problem: `event ${last.seq + 1} is missing` };
    if (e.prevHash !== last.hash) return broken("does not link to the event before it");
    if (e.redactedBy !== undefined) {
      const redactable = (TEXT_EVENT_TYPES as readonly string[]).includes(e.type);
      if (!redactable || !(e.redactedBy > e.seq))
        return broken("it is marked redacted, which it cannot be");
      claims.set(e.redactedBy, [...(claims.get(e.redactedBy) ?? []), e]);
    } else if (e.data === undefined || contentHashOf(e.data) !== e.contentHash)
      return broken("its content does not match its content hash");
    if (linkHash(e) !== e.hash) return broken("its fields do not match its hash");
    const claimed = claims.get(e.seq);
    if (claimed) {
      const redacted = e.type === "message.redacted" ? messageIdOf(e) : undefined;
      const wrong = claimed.find((c) => messageIdOf(c) !== redacted);
      if (wrong) return unredacted(wrong);
      claims.delete(e.seq);
    }
    last = { seq: e.seq, hash: e.hash };
  }
  // A redaction claimed beyond the end of the walk is one the log does not hold.
  const [open] = claims.values();
  if (open?.[0]) return unredacted(open[0]);
  return { ok: true, lastSeq: last.seq, head: last.hash };
}

const unredacted = (e: ChainedEvent): ChainVerdict => ({
  ok: false,
  seq: e.seq,
  problem: `it is marked redacted by event ${e.redactedBy}, which does not redact its message`,
});
