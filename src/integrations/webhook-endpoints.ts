import type {
  CreateWebhook,
  DisabledReason,
  EventType,
  RoomEvent,
  UserRef,
  Webhook,
  WebhookEventTypes,
} from "../protocol/index.ts";
import { failingTooLong } from "./delivery-outcome.ts";

type WebhookRow = {
  id: string;
  url: string;
  description: string;
  event_types: string;
  created_by: string;
  created_at: number;
  disabled_at: number | null;
  disabled_reason: DisabledReason | null;
  failures_in_a_row: number;
  failing_since: number | null;
  last_success_at: number | null;
  last_failure_at: number | null;
};

/** How many characters of a secret its owner is shown, to tell two apart. */
const HINT_CHARS = "whsec_".length + 4;

/** The outgoing webhooks of one hub and their signing secrets, in its SQLite. */
export class WebhookEndpoints {
  readonly #sql: SqlStorage;
  readonly #room: string | undefined;

  /** `room`: the room the hub belongs to, undefined for the instance's. */
  constructor(sql: SqlStorage, room: string | undefined) {
    this.#sql = sql;
    this.#room = room;
  }

  list(now: number): Webhook[] {
    return this.#rows("SELECT * FROM webhooks ORDER BY created_at, id").map((row) =>
      this.#wire(row, now),
    );
  }

  get(id: string, now: number): Webhook | undefined {
    const row = this.#rows("SELECT * FROM webhooks WHERE id = ?", id)[0];
    return row && this.#wire(row, now);
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM webhooks").one().n;
  }

  create(id: string, input: CreateWebhook, secret: string, by: UserRef, now: number): void {
    this.#sql.exec(
      `INSERT INTO webhooks (id, url, description, event_types, created_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      id,
      input.url,
      input.description,
      JSON.stringify(input.eventTypes),
      JSON.stringify(by),
      now,
    );
    this.addSecret(id, secret, now);
  }

  update(
    id: string,
    patch: { url?: string; description?: string; eventTypes?: WebhookEventTypes },
  ): void {
    if (patch.url !== undefined)
      this.#sql.exec("UPDATE webhooks SET url = ? WHERE id = ?", patch.url, id);
    if (patch.description !== undefined)
      this.#sql.exec("UPDATE webhooks SET description = ? WHERE id = ?", patch.description, id);
    if (patch.eventTypes !== undefined)
      this.#sql.exec(
        "UPDATE webhooks SET event_types = ? WHERE id = ?",
        JSON.stringify(patch.eventTypes),
        id,
      );
  }

  /** Enables (its failure count starting over) or disables an endpoint. */
  setStatus(id: string, enabled: boolean, reason: DisabledReason, now: number): void {
    if (enabled)
      this.#sql.exec(
        `UPDATE webhooks SET disabled_at = NULL, disabled_reason = NULL,
           failures_in_a_row = 0, failing_since = NULL WHERE id = ?`,
        id,
      );
    else
      this.#sql.exec(
        "UPDATE webhooks SET disabled_at = ?, disabled_reason = ? WHERE id = ? AND disabled_at IS NULL",
        now,
        reason,
        id,
      );
  }

  remove(id: string): void {
    this.#sql.exec("DELETE FROM webhooks WHERE id = ?", id);
    this.#sql.exec("DELETE FROM webhook_secrets WHERE webhook_id = ?", id);
  }

  addSecret(id: string, secret: string, now: number): void {
    this.#sql.exec(
      "INSERT INTO webhook_secrets (webhook_id, secret, created_at) VALUES (?, ?, ?)",
      id,
      secret,
      now,
    );
  }

  /** Rotation: the secrets that sign today keep signing until `until`, beside the new one. */
  expireSecrets(id: string, until: number): void {
    this.#sql.exec(
      `UPDATE webhook_secrets SET expires_at = min(coalesce(expires_at, ?), ?)
       WHERE webhook_id = ?`,
      until,
      until,
      id,
    );
  }

  /** The secrets that sign a try at `now`, newest first. */
  signingSecrets(id: string, now: number): string[] {
    return this.#sql
      .exec<{ secret: string }>(
        `SELECT secret FROM webhook_secrets WHERE webhook_id = ? AND (expires_at IS NULL OR expires_at > ?)
         ORDER BY created_at DESC`,
        id,
        now,
      )
      .toArray()
      .map((row) => row.secret);
  }

  /** The enabled endpoints, with what they want and since when. */
  targets(): WebhookTarget[] {
    return this.#rows("SELECT * FROM webhooks WHERE disabled_at IS NULL").map((row) => ({
      id: row.id,
      types: parseTypes(row),
      createdAt: row.created_at,
    }));
  }

  /** The event types any enabled endpoint wants: the room feeds nothing else to the queue. */
  wantedTypes(): WebhookEventTypes | [] {
    const wanted = new Set<EventType>();
    for (const { types } of this.targets()) {
      if (types === "*") return "*";
      for (const type of types) wanted.add(type);
    }
    return [...wanted];
  }

  /** A 2xx: the failure streak ends. */
  noteSuccess(id: string, now: number): void {
    this.#sql.exec(
      `UPDATE webhooks SET failures_in_a_row = 0, failing_since = NULL, last_success_at = ?
       WHERE id = ?`,
      now,
      id,
    );
  }

  /** A failed try; answers whether the endpoint is now disabled for failing too long. */
  noteFailure(id: string, now: number, disableAfterMs: number): boolean {
    const row = this.#sql
      .exec<{ failures_in_a_row: number; failing_since: number | null }>(
        `UPDATE webhooks SET failures_in_a_row = failures_in_a_row + 1,
           failing_since = coalesce(failing_since, ?), last_failure_at = ?
         WHERE id = ? RETURNING failures_in_a_row, failing_since`,
        now,
        now,
        id,
      )
      .toArray()[0];
    if (!row || !failingTooLong(row.failures_in_a_row, row.failing_since, now, disableAfterMs))
      return false;
    this.setStatus(id, false, "failing", now);
    return true;
  }

  isEnabled(id: string): boolean {
    return (
      this.#sql.exec("SELECT 1 FROM webhooks WHERE id = ? AND disabled_at IS NULL", id).toArray()
        .length > 0
    );
  }

  url(id: string): string | undefined {
    return this.#rows("SELECT * FROM webhooks WHERE id = ?", id)[0]?.url;
  }

  #rows(query: string, ...bindings: unknown[]): WebhookRow[] {
    return this.#sql.exec<WebhookRow>(query, ...bindings).toArray();
  }

  #wire(row: WebhookRow, now: number): Webhook {
    const secrets = this.#sql
      .exec<{ secret: string; created_at: number; expires_at: number | null }>(
        `SELECT secret, created_at, expires_at FROM webhook_secrets
         WHERE webhook_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC`,
        row.id,
        now,
      )
      .toArray();
    return {
      id: row.id,
      ...(this.#room !== undefined && { room: this.#room }),
      url: row.url,
      description: row.description,
      eventTypes: parseTypes(row),
      status: row.disabled_at === null ? "enabled" : "disabled",
      disabledReason: row.disabled_reason,
      createdBy: JSON.parse(row.created_by) as UserRef,
      createdAt: row.created_at,
      failuresInARow: row.failures_in_a_row,
      lastSuccessAt: row.last_success_at,
      lastFailureAt: row.last_failure_at,
      secrets: secrets.map((s) => ({
        hint: s.secret.slice(0, HINT_CHARS),
        createdAt: s.created_at,
        expiresAt: s.expires_at,
      })),
    };
  }
}

const parseTypes = (row: WebhookRow) => JSON.parse(row.event_types) as WebhookEventTypes;

/** An enabled endpoint, as the feed matches events to it. */
export type WebhookTarget = { id: string; types: WebhookEventTypes; createdAt: number };

/** Whether `target` receives `event`: a type it wants, logged after it was created. */
export const receives = (target: WebhookTarget, event: RoomEvent): boolean =>
  target.createdAt <= event.at && (target.types === "*" || target.types.includes(event.type));
