import type { SlackLinkError, UserRef } from "../protocol/index.ts";
import type { MappedMessage, SlackIdentity } from "./slack-bridge.ts";

/** How long a Slack event's id is remembered, to drop Slack's retries (minutes apart) of it. */
export const SEEN_EVENTS_MS = 2 * 60 * 60 * 1000;
/** How long a Slack person's name is used before users.info is asked again. */
export const NAME_TTL_MS = 60 * 60 * 1000;

/** A link as its hub keeps it: the instance's all of them, a room's its own. */
export type LinkRow = {
  channel: string;
  room: string;
  createdBy: UserRef;
  createdAt: number;
  linkedSeq: number;
  lastMessageAt: number | null;
  lastError: SlackLinkError | null;
};

/** A Slack author as the room knows them: the bridge's actor id, and a name while it is fresh. */
export type AuthorRow = {
  key: string;
  actorId: string;
  slackUser: string | null;
  name: string | null;
  fetchedAt: number | null;
};

type RawLink = {
  channel: string;
  room: string;
  created_by: string;
  created_at: number;
  linked_seq: number;
  last_message_at: number | null;
  last_error: string | null;
};

type RawMessage = {
  seq: number;
  ts: string | null;
  thread_ts: string | null;
  origin: MappedMessage["origin"];
  author_id: string | null;
  author_name: string | null;
  state: MappedMessage["state"];
  claimed_until: number | null;
};

type RawAuthor = {
  key: string;
  actor_id: string;
  slack_user: string | null;
  name: string | null;
  fetched_at: number | null;
};

/**
 * The Slack bridge's tables in an IntegrationHub (hub-schema.ts): `slack_links` (the instance's
 * hub: channel → room for every link; a room's hub: its own link and its status), and in a room's
 * hub `slack_messages` (the ts ↔ seq map, with each message's origin), `slack_authors` (Slack
 * people as the room's authors, their names cached), `slack_events` (event ids carried out); in
 * the instance's, `slack_identity` (the bot, from auth.test, per token).
 */
export class SlackTables {
  readonly #sql: SqlStorage;
  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  // ---- links

  links(): LinkRow[] {
    return this.#sql
      .exec<RawLink>("SELECT * FROM slack_links ORDER BY created_at, channel")
      .toArray()
      .map(linkOf);
  }

  linkByChannel(channel: string): LinkRow | undefined {
    const row = this.#sql.exec<RawLink>("SELECT * FROM slack_links WHERE channel = ?", channel);
    return row.toArray().map(linkOf)[0];
  }

  linkByRoom(room: string): LinkRow | undefined {
    const row = this.#sql.exec<RawLink>("SELECT * FROM slack_links WHERE room = ?", room);
    return row.toArray().map(linkOf)[0];
  }

  /** The room's hub's one link (a room has at most one). */
  ownLink(): LinkRow | undefined {
    return this.#sql.exec<RawLink>("SELECT * FROM slack_links LIMIT 1").toArray().map(linkOf)[0];
  }

  addLink(link: Omit<LinkRow, "lastMessageAt" | "lastError">): void {
    this.#sql.exec(
      `INSERT INTO slack_links (channel, room, created_by, created_at, linked_seq)
       VALUES (?, ?, ?, ?, ?)`,
      link.channel,
      link.room,
      JSON.stringify(link.createdBy),
      link.createdAt,
      link.linkedSeq,
    );
  }

  removeLink(channel: string): void {
    this.#sql.exec("DELETE FROM slack_links WHERE channel = ?", channel);
  }

  /** A room's hub forgets its link and everything about its messages (a new link starts over). */
  clearRoom(): void {
    this.#sql.exec("DELETE FROM slack_links");
    this.#sql.exec("DELETE FROM slack_messages");
    this.#sql.exec("DELETE FROM slack_events");
  }

  noteMessage(now: number): void {
    this.#sql.exec("UPDATE slack_links SET last_message_at = ?", now);
  }

  noteError(error: SlackLinkError): void {
    this.#sql.exec("UPDATE slack_links SET last_error = ?", JSON.stringify(error));
  }

  // ---- the ts ↔ seq map

  messageBySeq(seq: number): MappedMessage | undefined {
    const rows = this.#sql.exec<RawMessage>("SELECT * FROM slack_messages WHERE seq = ?", seq);
    return rows.toArray().map(messageOf)[0];
  }

  messageByTs(ts: string): MappedMessage | undefined {
    const rows = this.#sql.exec<RawMessage>("SELECT * FROM slack_messages WHERE ts = ?", ts);
    return rows.toArray().map(messageOf)[0];
  }

  /** A room message to be posted; true when it is new (a redelivered event finds it there). */
  addPending(seq: number, authorId: string, authorName: string): boolean {
    const cursor = this.#sql.exec(
      `INSERT OR IGNORE INTO slack_messages (seq, origin, author_id, author_name, state)
       VALUES (?, 'room', ?, ?, 'pending')`,
      seq,
      authorId,
      authorName,
    );
    return cursor.rowsWritten > 0;
  }

  /** A Slack message now in the room. */
  addFromSlack(seq: number, ts: string, threadTs: string | undefined, authorId: string): void {
    this.#sql.exec(
      `INSERT OR IGNORE INTO slack_messages (seq, ts, thread_ts, origin, author_id, state)
       VALUES (?, ?, ?, 'slack', ?, 'posted')`,
      seq,
      ts,
      threadTs ?? null,
      authorId,
    );
  }

  claim(seq: number, until: number): void {
    this.#sql.exec("UPDATE slack_messages SET claimed_until = ? WHERE seq = ?", until, seq);
  }

  /** The room message is in Slack at `ts` (a restore's new ts replaces the old one). */
  posted(seq: number, ts: string, threadTs: string | undefined): void {
    this.#sql.exec(
      `UPDATE slack_messages SET ts = ?, thread_ts = ?, state = 'posted', claimed_until = NULL
       WHERE seq = ?`,
      ts,
      threadTs ?? null,
      seq,
    );
  }

  setState(seq: number, state: MappedMessage["state"]): void {
    this.#sql.exec(
      "UPDATE slack_messages SET state = ?, claimed_until = NULL WHERE seq = ?",
      state,
      seq,
    );
  }

  // ---- authors

  author(key: string): AuthorRow | undefined {
    const rows = this.#sql.exec<RawAuthor>("SELECT * FROM slack_authors WHERE key = ?", key);
    return rows.toArray().map(authorOf)[0];
  }

  authorById(actorId: string): AuthorRow | undefined {
    const rows = this.#sql.exec<RawAuthor>(
      "SELECT * FROM slack_authors WHERE actor_id = ?",
      actorId,
    );
    return rows.toArray().map(authorOf)[0];
  }

  /** Whether a room user id is a bridged Slack author's: their events are not sent back. */
  isBridgeAuthor(actorId: string): boolean {
    return this.authorById(actorId) !== undefined;
  }

  addAuthor(key: string, actorId: string, slackUser: string | undefined): void {
    this.#sql.exec(
      "INSERT OR IGNORE INTO slack_authors (key, actor_id, slack_user) VALUES (?, ?, ?)",
      key,
      actorId,
      slackUser ?? null,
    );
  }

  setAuthorName(key: string, name: string, now: number): void {
    this.#sql.exec(
      "UPDATE slack_authors SET name = ?, fetched_at = ? WHERE key = ?",
      name,
      now,
      key,
    );
  }

  // ---- event ids carried out

  seen(eventId: string, now: number): boolean {
    return (
      this.#sql
        .exec(
          "SELECT 1 FROM slack_events WHERE event_id = ? AND at > ?",
          eventId,
          now - SEEN_EVENTS_MS,
        )
        .toArray().length > 0
    );
  }

  markSeen(eventId: string, now: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO slack_events (event_id, at) VALUES (?, ?)",
      eventId,
      now,
    );
  }

  pruneSeen(now: number): void {
    this.#sql.exec("DELETE FROM slack_events WHERE at <= ?", now - SEEN_EVENTS_MS);
  }

  // ---- the bot's identity (the instance's hub)

  identity(tokenHint: string): SlackIdentity | undefined {
    const row = this.#sql
      .exec<{ team_id: string; user_id: string; bot_id: string | null }>(
        "SELECT team_id, user_id, bot_id FROM slack_identity WHERE token_hint = ?",
        tokenHint,
      )
      .toArray()[0];
    if (row === undefined) return undefined;
    return {
      teamId: row.team_id,
      userId: row.user_id,
      ...(row.bot_id !== null && { botId: row.bot_id }),
    };
  }

  setIdentity(tokenHint: string, identity: SlackIdentity, now: number): void {
    // One token at a time: a new token (the app reinstalled) replaces what the old one said.
    this.#sql.exec("DELETE FROM slack_identity");
    this.#sql.exec(
      `INSERT INTO slack_identity (token_hint, team_id, user_id, bot_id, fetched_at)
       VALUES (?, ?, ?, ?, ?)`,
      tokenHint,
      identity.teamId,
      identity.userId,
      identity.botId ?? null,
      now,
    );
  }
}

function linkOf(row: RawLink): LinkRow {
  return {
    channel: row.channel,
    room: row.room,
    createdBy: JSON.parse(row.created_by) as UserRef,
    createdAt: row.created_at,
    linkedSeq: row.linked_seq,
    lastMessageAt: row.last_message_at,
    lastError: row.last_error === null ? null : (JSON.parse(row.last_error) as SlackLinkError),
  };
}

function messageOf(row: RawMessage): MappedMessage {
  return {
    seq: row.seq,
    ts: row.ts,
    threadTs: row.thread_ts,
    origin: row.origin,
    authorId: row.author_id,
    authorName: row.author_name,
    state: row.state,
    claimedUntil: row.claimed_until,
  };
}

function authorOf(row: RawAuthor): AuthorRow {
  return {
    key: row.key,
    actorId: row.actor_id,
    slackUser: row.slack_user,
    name: row.name,
    fetchedAt: row.fetched_at,
  };
}
