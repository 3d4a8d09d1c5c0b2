import type {
  CreateSlashCommand,
  CustomSlashCommand,
  SlashResult,
  UpdateSlashCommand,
  UserRef,
} from "../protocol/index.ts";
import type { SlashTarget } from "./slash-call.ts";

/** How long a response_url lives, and how often it may be used: Slack's rule. */
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;
export const RESPONSE_URL_USES = 5;
/** How long a caller's clientId is remembered, as the room's idempotency keys are. */
export const INVOCATION_TTL_MS = 24 * 60 * 60 * 1000;

type CommandRow = {
  name: string;
  url: string;
  description: string;
  usage_hint: string;
  bot_id: string;
  bot_name: string | null;
  signing_secret: string;
  verification_token: string;
  created_by: string;
  created_at: number;
  updated_at: number;
};

/** A response_url's use: which command's bot answers, and to whom an ephemeral reply goes. */
export type ResponseUse = { bot: UserRef; caller: UserRef; command: string; usesLeft: number };

/**
 * A room hub's slash commands in its SQLite: the custom commands and their secrets, the
 * response_url tokens (their SHA-256 only), and which clientIds each caller has used.
 */
export class SlashStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  list(): CustomSlashCommand[] {
    return this.#rows("SELECT * FROM slash_commands ORDER BY name").map(wire);
  }

  get(name: string): CustomSlashCommand | undefined {
    const row = this.#rows("SELECT * FROM slash_commands WHERE name = ?", name)[0];
    return row && wire(row);
  }

  target(name: string): SlashTarget | undefined {
    const row = this.#rows("SELECT * FROM slash_commands WHERE name = ?", name)[0];
    return (
      row && {
        name: row.name,
        url: row.url,
        signingSecret: row.signing_secret,
        verificationToken: row.verification_token,
        bot: botOf(row),
      }
    );
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM slash_commands").one().n;
  }

  create(
    input: CreateSlashCommand,
    secrets: { botId: string; signingSecret: string; verificationToken: string },
    by: UserRef,
    now: number,
  ): void {
    this.#sql.exec(
      `INSERT INTO slash_commands (name, url, description, usage_hint, bot_id, bot_name,
         signing_secret, verification_token, created_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      input.name,
      input.url,
      input.description,
      input.usageHint,
      secrets.botId,
      input.botName ?? null,
      secrets.signingSecret,
      secrets.verificationToken,
      JSON.stringify(by),
      now,
      now,
    );
  }

  update(name: string, patch: UpdateSlashCommand, now: number): void {
    const columns = {
      url: patch.url,
      description: patch.description,
      usage_hint: patch.usageHint,
      bot_name: patch.botName,
    };
    for (const [column, value] of Object.entries(columns))
      if (value !== undefined)
        this.#sql.exec(`UPDATE slash_commands SET ${column} = ? WHERE name = ?`, value, name);
    this.#sql.exec("UPDATE slash_commands SET updated_at = ? WHERE name = ?", now, name);
  }

  /** Removes a command; its response_urls stop working with it. */
  remove(name: string): void {
    this.#sql.exec("DELETE FROM slash_commands WHERE name = ?", name);
    this.#sql.exec("DELETE FROM slash_responses WHERE command = ?", name);
  }

  // ---- invocations: a caller's clientId is answered once ----

  /**
   * Claims (caller, clientId) for a new invocation: undefined when it is new, else what the
   * first one answered (`accepted` while it is still running).
   */
  claim(userId: string, clientId: string, now: number): SlashResult | undefined {
    const known = this.#sql
      .exec<{ answer: string | null }>(
        "SELECT answer FROM slash_invocations WHERE user_id = ? AND client_id = ? AND at > ?",
        userId,
        clientId,
        now - INVOCATION_TTL_MS,
      )
      .toArray()[0];
    if (known) return known.answer === null ? { kind: "accepted" } : JSON.parse(known.answer);
    this.#sql.exec(
      "INSERT OR REPLACE INTO slash_invocations (user_id, client_id, answer, at) VALUES (?, ?, NULL, ?)",
      userId,
      clientId,
      now,
    );
    return undefined;
  }

  /** The answer of an invocation, for the caller's retries of the same clientId. */
  settle(userId: string, clientId: string, answer: SlashResult): void {
    this.#sql.exec(
      "UPDATE slash_invocations SET answer = ? WHERE user_id = ? AND client_id = ?",
      JSON.stringify(answer),
      userId,
      clientId,
    );
  }

  /** An invocation that failed before it called anything may be tried again with its clientId. */
  release(userId: string, clientId: string): void {
    this.#sql.exec(
      "DELETE FROM slash_invocations WHERE user_id = ? AND client_id = ? AND answer IS NULL",
      userId,
      clientId,
    );
  }

  // ---- response_url tokens ----

  addResponseUrl(tokenHash: string, command: string, caller: UserRef, now: number): void {
    this.#sql.exec(
      `INSERT INTO slash_responses (token_hash, command, user_id, user_name, expires_at, uses_left)
       VALUES (?, ?, ?, ?, ?, ?)`,
      tokenHash,
      command,
      caller.id,
      caller.name,
      now + RESPONSE_URL_TTL_MS,
      RESPONSE_URL_USES,
    );
  }

  /** Spends one use of a live token; undefined when it is unknown, expired or used up. */
  useResponseUrl(tokenHash: string, now: number): ResponseUse | undefined {
    const used = this.#sql
      .exec<{ command: string; user_id: string; user_name: string; uses_left: number }>(
        `UPDATE slash_responses SET uses_left = uses_left - 1
         WHERE token_hash = ? AND expires_at > ? AND uses_left > 0
         RETURNING command, user_id, user_name, uses_left`,
        tokenHash,
        now,
      )
      .toArray()[0];
    const row = used && this.#rows("SELECT * FROM slash_commands WHERE name = ?", used.command)[0];
    if (!used || !row) return undefined;
    return {
      bot: botOf(row),
      caller: { id: used.user_id, name: used.user_name },
      command: used.command,
      usesLeft: used.uses_left,
    };
  }

  /** Drops expired tokens and forgotten clientIds. */
  prune(now: number): void {
    this.#sql.exec("DELETE FROM slash_responses WHERE expires_at <= ?", now);
    this.#sql.exec("DELETE FROM slash_invocations WHERE at <= ?", now - INVOCATION_TTL_MS);
  }

  #rows(query: string, ...bindings: unknown[]): CommandRow[] {
    return this.#sql.exec<CommandRow>(query, ...bindings).toArray();
  }
}

const botOf = (row: CommandRow): UserRef => ({ id: row.bot_id, name: row.bot_name ?? row.name });

function wire(row: CommandRow): CustomSlashCommand {
  return {
    name: row.name,
    url: row.url,
    description: row.description,
    usageHint: row.usage_hint,
    bot: botOf(row),
    createdBy: JSON.parse(row.created_by) as UserRef,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
