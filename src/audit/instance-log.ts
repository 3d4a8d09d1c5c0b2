import { DurableObject } from "cloudflare:workers";
import * as z from "zod";
import {
  AuditEntryInput,
  checkAnchor,
  type AuditEntry,
  type ChainReport,
} from "../protocol/index.ts";
import { uuidv7 } from "../protocol/uuid.ts";
import { verifyAuditChain } from "./entry.ts";
import { pageOf, type AuditFilter } from "./filter.ts";
import { FLUSH_DELAY_MS, type CursorOutbox, type OutboxState } from "../cursor-outbox.ts";
import { auditOutbox, type AuditSink } from "./outbox.ts";
import { AuditStore } from "./store.ts";

const Inputs = z.array(AuditEntryInput).max(1000);

/**
 * The AuditAnchor object that keeps this log's head outside it, as each room's does for the
 * room: "@" cannot begin a room name, so it is nobody else's.
 */
export const INSTANCE_ANCHOR = "@instance-audit-log";

/**
 * The instance-wide audit log (docs/audit.md): one object for the instance, an append-only,
 * hash-chained table of who did what, mirrored to Postgres when there is one. Thin: the chain
 * is entry.ts, the queries filter.ts and store.ts, the mirror outbox.ts.
 */
export class InstanceAudit extends DurableObject<Env> {
  readonly #store: AuditStore;
  readonly #outbox: CursorOutbox<AuditEntry>;

  /** `sink`: where the outbox mirrors the log (Postgres), wired by the worker's entry. */
  constructor(ctx: DurableObjectState, env: Env, sink?: AuditSink) {
    super(ctx, env);
    this.#store = new AuditStore(ctx.storage.sql);
    this.#outbox = auditOutbox(ctx.storage.sql, this.#store, sink);
  }

  /** Appends entries (each checked against the schema); returns the last seq. */
  async record(inputs: readonly AuditEntryInput[]): Promise<number> {
    const valid = Inputs.parse(inputs);
    const stored = this.ctx.storage.transactionSync(() =>
      this.#store.append(valid, (at) => uuidv7(at)),
    );
    if (stored.length === 0) return this.#store.head.seq;
    // Entries are few (sign-ins, moderation): the head is anchored at every record.
    const { seq, hash } = this.#store.head;
    await this.#anchor().advance({ lastSeq: seq, head: hash });
    if (this.#outbox.enabled) await this.#flushBy(Date.now() + FLUSH_DELAY_MS);
    return seq;
  }

  /** A page of entries passing `filter`, newest first. */
  async list(filter: AuditFilter): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> {
    return pageOf(this.#store.list(filter), filter.limit);
  }

  /**
   * Recomputes every content hash and link from the stored rows, then checks the head anchored
   * outside this object: entries cut off the end are caught there.
   */
  async verify(): Promise<ChainReport> {
    const verdict = verifyAuditChain(this.#store.all());
    if (!verdict.ok) return verdict;
    const anchored = await this.#anchor().read();
    return checkAnchor(verdict, anchored, (seq) => this.#store.hashAt(seq));
  }

  #anchor() {
    return this.env.AUDIT_ANCHOR.getByName(INSTANCE_ANCHOR);
  }

  /** How far the Postgres mirror has reached. */
  async backlog(): Promise<{ lastSeq: number } & OutboxState> {
    return { lastSeq: this.#store.head.seq, ...this.#outbox.state() };
  }

  override async alarm(): Promise<void> {
    const next = await this.#outbox.flush(Date.now());
    if (next !== undefined) await this.#flushBy(next);
  }

  /** Points the alarm at `due` unless it already fires earlier. */
  async #flushBy(due: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due) await this.ctx.storage.setAlarm(due);
  }
}
