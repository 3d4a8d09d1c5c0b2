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
 *   hash        = SHA-256(JCS({ v: 1, seq, id, type, at, actor: { id, name }, contentHash, prevHash }))
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
};

export function linkHash(e: LinkFields): string {
  const { seq, id, type, at, contentHash, prevHash } = e;
  const actor = { id: e.actor.id, name: e.actor.name };
  return sha256Hex(jcs({ v: 1, seq, id, type, at, actor, contentHash, prevHash }));
}

/** An event as stored or exported: its link fields, its hash and its data (absent if redacted). */
export type ChainedEvent = LinkFields & { hash: string; data?: unknown };

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

/**
 * Walks `events` (in the order given) from `from`: each must follow the previous seq, link to its
 * hash, carry the hash of its own fields, and (unless redacted) data whose hash it carries.
 */
export function verifyChain(
  events: Iterable<ChainedEvent>,
  from: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): ChainVerdict {
  let last = from;
  for (const e of events) {
    const broken = (problem: string): ChainVerdict => ({ ok: false, seq: e.seq, problem });
    if (e.seq !== last.seq + 1)
      return { ok: false, seq: last.seq + 1, problem: `event ${last.seq + 1} is missing` };
    if (e.prevHash !== last.hash) return broken("does not link to the event before it");
    if (e.data !== undefined && contentHashOf(e.data) !== e.contentHash)
      return broken("its content does not match its content hash");
    if (linkHash(e) !== e.hash) return broken("its fields do not match its hash");
    last = { seq: e.seq, hash: e.hash };
  }
  return { ok: true, lastSeq: last.seq, head: last.hash };
}
