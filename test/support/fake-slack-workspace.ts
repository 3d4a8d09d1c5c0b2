/**
 * The state of the fake Slack (test/support/fake-slack.ts): one workspace, its users, its
 * channels and their messages, and the rules of chat.postMessage, chat.update, chat.delete,
 * users.info and auth.test as Slack's method pages give them. Each change returns the message
 * event Slack would send to the app's request URL for it, for the Events API side to send.
 */

/** The longest text Slack takes in a message; longer is refused with `msg_too_long`. */
export const MAX_MESSAGE_TEXT = 40_000;

export type FakeUser = { name: string; displayName: string; realName?: string };

export type FakeIdentity = {
  teamId: string;
  appId: string;
  botUserId: string;
  botId: string;
  /** The bot user's name (the manifest's `bot_user.display_name`). */
  botName: string;
};

export type FakeChannels = {
  /** Public channels (`channel_type: "channel"`, event `message.channels`). */
  public: readonly string[];
  /** Private channels (`channel_type: "group"`, event `message.groups`). */
  private: readonly string[];
  /** Channels the bot was never invited to: posting there is `not_in_channel`. */
  withoutBot: readonly string[];
};

/** A message as Slack keeps it and sends it in events (`conversations.history`'s shape). */
export type SlackMessage = {
  type: "message";
  subtype?: "bot_message";
  user?: string;
  bot_id?: string;
  app_id?: string;
  username?: string;
  icons?: { image_48: string };
  bot_profile?: { id: string; app_id: string; name: string; team_id: string; deleted: false };
  client_msg_id?: string;
  text: string;
  ts: string;
  team: string;
  thread_ts?: string;
  parent_user_id?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  edited?: { user: string; ts: string };
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
};

/** The inner `event` of an `event_callback`: one of Slack's message events. */
export type MessageEvent = Record<string, unknown> & {
  type: "message";
  channel: string;
  ts: string;
  event_ts: string;
  channel_type: "channel" | "group";
};

export type Args = Record<string, unknown>;

/** A method's answer: Slack's body for `ok: true`, or its error code (and extra fields). */
export type MethodResult =
  | { ok: true; body: Record<string, unknown>; event?: MessageEvent }
  | { ok: false; error: string; extra?: Record<string, unknown>; violation?: string };

const refuse = (error: string, extra?: Record<string, unknown>): MethodResult =>
  extra === undefined ? { ok: false, error } : { ok: false, error, extra };

/** `invalid_arguments` as Slack words it for a missing required argument: a client's bug. */
const missing = (field: string): MethodResult => ({
  ok: false,
  error: "invalid_arguments",
  extra: { response_metadata: { messages: [`[ERROR] missing required field: ${field}`] } },
  violation: `no ${field}, which the method requires`,
});

/** A string argument; anything else (absent, a number, an object) counts as absent. */
const text = (args: Args, field: string): string | undefined => {
  const value = args[field];
  return typeof value === "string" && value !== "" ? value : undefined;
};

/** `blocks` or `attachments`: a JSON array, or (in a form) its JSON text, with something in it. */
const nonEmptyList = (value: unknown): boolean => {
  if (typeof value === "string") {
    try {
      return nonEmptyList(JSON.parse(value));
    } catch {
      return false;
    }
  }
  return Array.isArray(value) && value.length > 0;
};

const hasContent = (args: Args) =>
  text(args, "text") !== undefined || nonEmptyList(args.blocks) || nonEmptyList(args.attachments);

/** Message metadata as chat.postMessage takes it: an object, or (in a form) its JSON text. */
function metadataOf(value: unknown): SlackMessage["metadata"] | "invalid" | undefined {
  if (value === undefined) return undefined;
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return "invalid";
    }
  }
  const candidate = parsed as { event_type?: unknown; event_payload?: unknown } | null;
  const valid =
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.event_type === "string" &&
    typeof candidate.event_payload === "object" &&
    candidate.event_payload !== null;
  return valid ? (parsed as SlackMessage["metadata"]) : "invalid";
}

export class FakeWorkspace {
  readonly identity: FakeIdentity;
  readonly #users: Map<string, FakeUser>;
  readonly #channels: FakeChannels;
  /** Every channel's live messages, oldest first; a deleted one is gone. */
  readonly #messages = new Map<string, SlackMessage[]>();
  #lastMicros = 0;

  constructor(identity: FakeIdentity, users: Record<string, FakeUser>, channels: FakeChannels) {
    this.identity = identity;
    this.#users = new Map(Object.entries(users));
    this.#channels = channels;
  }

  /** The channel's live messages as Slack keeps them, edits applied, deletes gone (copies). */
  messages(channel: string): SlackMessage[] {
    return structuredClone(this.#messages.get(channel) ?? []);
  }

  /** `"channel"` for a public channel, `"group"` for a private one, undefined if unknown. */
  channelType(channel: string): "channel" | "group" | undefined {
    if (this.#channels.public.includes(channel) || this.#channels.withoutBot.includes(channel))
      return "channel";
    if (this.#channels.private.includes(channel)) return "group";
    return undefined;
  }

  /** A new `ts`, `<unix seconds>.<6 digits>`, later than every one before it in the workspace. */
  nextTs(): string {
    this.#lastMicros = Math.max(Date.now() * 1000, this.#lastMicros + 1);
    const seconds = Math.floor(this.#lastMicros / 1_000_000);
    return `${seconds}.${String(this.#lastMicros % 1_000_000).padStart(6, "0")}`;
  }

  authTest(): MethodResult {
    const { teamId, botUserId, botId, botName } = this.identity;
    return {
      ok: true,
      body: {
        url: "https://edgechat-test.slack.com/",
        team: "edgechat test",
        user: botName,
        team_id: teamId,
        user_id: botUserId,
        bot_id: botId,
        is_enterprise_install: false,
      },
    };
  }

  usersInfo(args: Args): MethodResult {
    const id = text(args, "user");
    if (id === undefined) return missing("user");
    if (id === this.identity.botUserId) return { ok: true, body: { user: this.#botUser() } };
    const user = this.#users.get(id);
    if (user === undefined) return refuse("user_not_found");
    const realName = user.realName ?? user.displayName;
    return {
      ok: true,
      body: {
        user: {
          id,
          team_id: this.identity.teamId,
          name: user.name,
          deleted: false,
          real_name: realName,
          profile: {
            display_name: user.displayName,
            display_name_normalized: user.displayName,
            real_name: realName,
            real_name_normalized: realName,
            team: this.identity.teamId,
          },
          is_bot: false,
          is_app_user: false,
        },
      },
    };
  }

  /** chat.postMessage with the bot token. `customize` is false without `chat:write.customize`. */
  postMessage(args: Args, customize: boolean): MethodResult {
    const channel = text(args, "channel");
    if (channel === undefined || this.channelType(channel) === undefined)
      return refuse("channel_not_found");
    const refused = this.#refusePost(channel, args);
    if (refused !== undefined) return refused;
    const metadata = metadataOf(args.metadata);
    if (metadata === "invalid") return refuse("invalid_metadata_format");
    const message = this.#botMessage(args, customize);
    if (metadata !== undefined) message.metadata = metadata;
    this.#store(channel, message);
    const { metadata: _kept, ...echoed } = message;
    return {
      ok: true,
      body: { channel, ts: message.ts, message },
      event: this.#event(channel, { ...echoed }),
    };
  }

  /** chat.update of a message: only the bot's own, as bot tokens may edit nothing else. */
  update(args: Args): MethodResult {
    const found = this.#findForChange(args, "cant_update_message");
    if (!found.ok) return found.refused;
    if (!hasContent(args)) return refuse("no_text");
    const newText = text(args, "text") ?? "";
    if (newText.length > MAX_MESSAGE_TEXT) return refuse("msg_too_long");
    const { channel, message } = found;
    const previous = structuredClone(message);
    const eventTs = this.nextTs();
    message.text = newText;
    message.edited = { user: this.identity.botUserId, ts: eventTs };
    return {
      ok: true,
      body: { channel, ts: message.ts, text: newText, message: structuredClone(message) },
      event: this.#changed(channel, message, previous, eventTs),
    };
  }

  /** chat.delete of a message: only the bot's own. */
  delete(args: Args): MethodResult {
    const found = this.#findForChange(args, "cant_delete_message");
    if (!found.ok) return found.refused;
    const { channel, message } = found;
    this.#remove(channel, message.ts);
    return {
      ok: true,
      body: { channel, ts: message.ts },
      event: this.#deleted(channel, message, this.nextTs()),
    };
  }

  /** A person posts in Slack's client: the message and the event Slack sends for it. */
  userPosts(channel: string, user: string, body: string, threadTs?: string): MessageEvent {
    if (this.channelType(channel) === undefined) throw new Error(`no channel ${channel}`);
    const message: SlackMessage = {
      type: "message",
      user,
      client_msg_id: crypto.randomUUID(),
      text: body,
      ts: this.nextTs(),
      team: this.identity.teamId,
    };
    if (threadTs !== undefined) this.#inThread(channel, message, threadTs);
    this.#store(channel, message);
    return this.#event(channel, { ...message });
  }

  /** A person edits their message: `message_changed`, as Slack sends it. */
  userEdits(channel: string, ts: string, body: string): MessageEvent {
    const message = this.#live(channel, ts);
    if (message?.user === undefined) throw new Error(`no message ${ts} by a person in ${channel}`);
    const previous = structuredClone(message);
    const eventTs = this.nextTs();
    message.text = body;
    message.edited = { user: message.user, ts: eventTs };
    return this.#changed(channel, message, previous, eventTs);
  }

  /** A person deletes a message: `message_deleted`, as Slack sends it. */
  userDeletes(channel: string, ts: string): MessageEvent {
    const message = this.#live(channel, ts);
    if (message === undefined) throw new Error(`no message ${ts} in ${channel}`);
    this.#remove(channel, ts);
    return this.#deleted(channel, message, this.nextTs());
  }

  #botUser() {
    const { botUserId, teamId, botName, botId, appId } = this.identity;
    return {
      id: botUserId,
      team_id: teamId,
      name: botName,
      deleted: false,
      real_name: botName,
      profile: { display_name: "", real_name: botName, bot_id: botId, api_app_id: appId },
      is_bot: true,
      is_app_user: false,
    };
  }

  #refusePost(channel: string, args: Args): MethodResult | undefined {
    if (this.#channels.withoutBot.includes(channel)) return refuse("not_in_channel");
    if (!hasContent(args)) return refuse("no_text");
    if ((text(args, "text") ?? "").length > MAX_MESSAGE_TEXT) return refuse("msg_too_long");
    return undefined;
  }

  /**
   * The bot's new message. With a custom `username` or `icon_url` Slack keeps it as a
   * `bot_message` with that name and no `user` (as chat.postMessage's documented answer shows);
   * plainly, as a message of the bot user with no subtype.
   */
  #botMessage(args: Args, customize: boolean): SlackMessage {
    const { teamId, appId, botId, botUserId, botName } = this.identity;
    const username = customize ? text(args, "username") : undefined;
    const iconUrl = customize ? text(args, "icon_url") : undefined;
    const message: SlackMessage = {
      type: "message",
      text: text(args, "text") ?? "",
      ts: this.nextTs(),
      bot_id: botId,
      app_id: appId,
      team: teamId,
      bot_profile: { id: botId, app_id: appId, name: botName, team_id: teamId, deleted: false },
    };
    if (username !== undefined || iconUrl !== undefined) {
      message.subtype = "bot_message";
      message.username = username ?? botName;
      if (iconUrl !== undefined) message.icons = { image_48: iconUrl };
    } else message.user = botUserId;
    const threadTs = text(args, "thread_ts");
    if (threadTs !== undefined) this.#inThread(text(args, "channel")!, message, threadTs);
    return message;
  }

  /** A reply: its thread_ts and parent_user_id, and the parent's reply counts. */
  #inThread(channel: string, reply: SlackMessage, threadTs: string): void {
    reply.thread_ts = threadTs;
    const parent = this.#live(channel, threadTs);
    if (parent === undefined) return;
    reply.parent_user_id = parent.user ?? this.identity.botUserId;
    parent.thread_ts = parent.ts;
    parent.reply_count = (parent.reply_count ?? 0) + 1;
    const replier = reply.user ?? this.identity.botUserId;
    parent.reply_users = [...new Set([...(parent.reply_users ?? []), replier])];
    parent.latest_reply = reply.ts;
  }

  #findForChange(
    args: Args,
    notYours: string,
  ): { ok: true; channel: string; message: SlackMessage } | { ok: false; refused: MethodResult } {
    const channel = text(args, "channel");
    if (channel === undefined || this.channelType(channel) === undefined)
      return { ok: false, refused: refuse("channel_not_found") };
    const ts = text(args, "ts");
    if (ts === undefined) return { ok: false, refused: missing("ts") };
    const message = this.#live(channel, ts);
    if (message === undefined) return { ok: false, refused: refuse("message_not_found") };
    if (message.bot_id !== this.identity.botId) return { ok: false, refused: refuse(notYours) };
    return { ok: true, channel, message };
  }

  #live(channel: string, ts: string): SlackMessage | undefined {
    return this.#messages.get(channel)?.find((message) => message.ts === ts);
  }

  #store(channel: string, message: SlackMessage): void {
    const list = this.#messages.get(channel) ?? [];
    list.push(message);
    this.#messages.set(channel, list);
  }

  #remove(channel: string, ts: string): void {
    const list = this.#messages.get(channel) ?? [];
    this.#messages.set(
      channel,
      list.filter((message) => message.ts !== ts),
    );
  }

  #event(channel: string, fields: Record<string, unknown> & { ts: string }): MessageEvent {
    return {
      ...fields,
      type: "message",
      channel,
      event_ts: fields.ts,
      channel_type: this.channelType(channel) ?? "channel",
    };
  }

  #changed(
    channel: string,
    message: SlackMessage,
    previous: SlackMessage,
    eventTs: string,
  ): MessageEvent {
    const { metadata: _now, ...shown } = structuredClone(message);
    const { metadata: _before, ...shownBefore } = previous;
    return this.#event(channel, {
      subtype: "message_changed",
      hidden: true,
      message: shown,
      previous_message: shownBefore,
      ts: eventTs,
    });
  }

  #deleted(channel: string, message: SlackMessage, eventTs: string): MessageEvent {
    const { metadata: _gone, ...shown } = message;
    return this.#event(channel, {
      subtype: "message_deleted",
      hidden: true,
      deleted_ts: message.ts,
      previous_message: shown,
      ts: eventTs,
    });
  }
}
