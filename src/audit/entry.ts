import {
  contentHashOf,
  GENESIS_HASH,
  linkHash,
  verifyChain,
  type AuditEntry,
  type AuditEntryInput,
  type AuditTarget,
  type ChainedEvent,
  type ChainVerdict,
} from "../protocol/index.ts";

/** Where the log's chain has reached: its last seq and that entry's hash. */
export type ChainHead = { seq: number; hash: string };
export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** A target without absent keys, so that it hashes the same before storing and after reading. */
export function cleanTarget(target: AuditTarget): AuditTarget {
  return Object.fromEntries(Object.entries(target).filter(([, value]) => value !== undefined));
}

/**
 * The hashed content of an entry (docs/audit.md, canonical form): the link fields of chain.ts
 * carry seq, id, action (as `type`), at and actor; everything else an admin relies on (what was
 * targeted, from where, the details) goes into the content, so that the link covers it too.
 */
export const auditContentOf = (entry: Pick<AuditEntry, "target" | "ip" | "data">) => ({
  target: cleanTarget(entry.target),
  ip: entry.ip,
  data: entry.data,
});

/** Numbers and chains `input` after `head`: the entry the log stores and serves. */
export function chainEntry(input: AuditEntryInput, head: ChainHead, id: string): AuditEntry {
  const seq = head.seq + 1;
  const { at, action, ip, data } = input;
  const actor = { id: input.actor.id, name: input.actor.name };
  const target = cleanTarget(input.target);
  const contentHash = contentHashOf(auditContentOf({ target, ip, data }));
  const prevHash = head.hash;
  const hash = linkHash({ seq, id, type: action, at, actor, contentHash, prevHash });
  return { seq, id, at, actor, action, target, ip, data, contentHash, prevHash, hash };
}

/** An entry as chain.ts walks it: the action is the link's `type`, the content its data. */
export function asChained(entry: AuditEntry): ChainedEvent {
  const { seq, id, action, at, actor, contentHash, prevHash, hash } = entry;
  return {
    seq,
    id,
    type: action,
    at,
    actor,
    contentHash,
    prevHash,
    hash,
    data: auditContentOf(entry),
  };
}

/** Recomputes every content hash and link, in seq order (verifyChain of chain.ts). */
export function verifyAuditChain(entries: Iterable<AuditEntry>): ChainVerdict {
  function* chained() {
    for (const entry of entries) yield asChained(entry);
  }
  return verifyChain(chained());
}
