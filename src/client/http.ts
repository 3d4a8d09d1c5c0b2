import type * as z from "zod";
import {
  ChainReport,
  EventsPage,
  Me,
  BanList,
  MemberList,
  MessagesPage,
  Posted,
  RoomInfo,
  RoomList,
  RoomStateAt,
  SearchResults,
  Session,
  type ClientFrame,
  type CreateRoom,
  type Moment,
  type Role,
  type RoomSort,
} from "../protocol/index.ts";
import { AdminApi } from "./admin-api.ts";
import { BotsApi } from "./bots-api.ts";
import { IncomingWebhooksApi } from "./incoming-webhooks-api.ts";
import { SlashApi } from "./slash-api.ts";
import { RemindersApi } from "./reminders-api.ts";
import { ApiRequests, queryOf } from "./requests.ts";
import { WebhooksApi } from "./webhooks-api.ts";
import { availablePlugins, RoomPluginsApi } from "./plugins-api.ts";
import { RulesApi } from "./rules-api.ts";
import { UploadsApi, type UploadOptions } from "./uploads-api.ts";
import { graphqlRequest, type TypedDocument, type VariablesOf } from "./graphql/request.ts";

/** Any command frame (one with a clientId), as POST /api/rooms/{room}/commands takes it. */
export type CommandFrame = Extract<ClientFrame, { clientId: string }>;

/**
 * The REST half of the SDK: sign-in, the room directory, history and posting.
 * @example
 * const api = new EdgechatApi("http://localhost:8787");
 * const { token } = await api.signInGuest("ada");
 * await api.withToken(token).createRoom({ name: "lobby" });
 */
export class EdgechatApi {
  readonly #requests: ApiRequests;
  /** The instance admins' calls (admin-api.ts). */
  readonly admin: AdminApi;
  /** A registered user's own bots (bots-api.ts). */
  readonly bots: BotsApi;
  /** Slash commands: running them, completion, a room's custom ones (slash-api.ts). */
  readonly slash: SlashApi;
  constructor(baseUrl: string, token?: string) {
    this.#requests = new ApiRequests(baseUrl, token);
    this.admin = new AdminApi(this.#requests);
    this.bots = new BotsApi(this.#requests);
    this.slash = new SlashApi(this.#requests);
  }

  get baseUrl(): string {
    return this.#requests.baseUrl;
  }

  get token(): string | undefined {
    return this.#requests.token;
  }

  withToken(token: string): EdgechatApi {
    return new EdgechatApi(this.baseUrl, token);
  }

  signInGuest(name: string) {
    return this.#requests.call(Session, "POST", "/api/auth/guest", { name });
  }

  /** Registers and signs in; browsers get the refresh token as an HttpOnly cookie. */
  register(username: string, password: string) {
    return this.#requests.call(Session, "POST", "/api/auth/register", { username, password });
  }

  login(username: string, password: string) {
    return this.#requests.call(Session, "POST", "/api/auth/login", { username, password });
  }

  /**
   * A new access token (and a rotated refresh token) for the session: from the cookie in a
   * browser, or from `refreshToken` for clients that keep it themselves.
   */
  refresh(refreshToken?: string) {
    return this.#requests.call(
      Session,
      "POST",
      "/api/auth/refresh",
      refreshToken === undefined ? undefined : { refreshToken },
    );
  }

  /** Ends the session of the refresh cookie (or of `refreshToken`). */
  logout(refreshToken?: string) {
    return this.#requests.send(
      "POST",
      "/api/auth/logout",
      refreshToken === undefined ? undefined : { refreshToken },
    );
  }

  /** Ends every session of the user and opens a new one. */
  changePassword(currentPassword: string, newPassword: string) {
    return this.#requests.call(Session, "POST", "/api/auth/password", {
      currentPassword,
      newPassword,
    });
  }

  deleteAccount(password: string) {
    return this.#requests.send("DELETE", "/api/auth/account", { password });
  }

  /** The signed-in user, and whether they are an instance admin. */
  me() {
    return this.#requests.call(Me, "GET", "/api/auth/me");
  }

  /**
   * Full-text search over every room you may read (needs Postgres: 503 `unavailable` without).
   * `room` + `seq` ask for read-your-writes: the results include that room's events up to `seq`.
   */
  search(
    q: string,
    options: { limit?: number; offset?: number; room?: string; seq?: number; lsn?: string } = {},
  ) {
    const query = new URLSearchParams({ q, limit: String(options.limit ?? 20) });
    if (options.offset) query.set("offset", String(options.offset));
    if (options.room !== undefined && options.seq !== undefined) {
      query.set("room", options.room);
      query.set("seq", String(options.seq));
    }
    if (options.lsn !== undefined) query.set("lsn", options.lsn);
    return this.#requests.call(SearchResults, "GET", `/api/search?${query}`);
  }

  /**
   * Anyone signed in: the plugins rooms may turn on (the instance runs them), each one's
   * manifest with its hooks and slash commands (docs/plugins.md).
   * @example const { plugins } = await api.plugins();
   */
  plugins() {
    return availablePlugins(this.#requests);
  }

  /**
   * A room's plugins: which are on, and (owners, admins) turning one on or off.
   * @example await api.roomPlugins("lobby").set("poll", true);
   */
  roomPlugins(room: string): RoomPluginsApi {
    return new RoomPluginsApi(this.#requests, room);
  }

  /**
   * Owners and admins: the room's outgoing webhooks and their delivery logs (webhooks-api.ts).
   * @example const { webhooks } = await api.webhooks("lobby").list();
   */
  webhooks(room: string): WebhooksApi {
    return new WebhooksApi(this.#requests, `/api/rooms/${encodeURIComponent(room)}/webhooks`);
  }

  /**
   * Moderators, owners and admins: the room's automation rules, each save and delete an event in
   * its log (rules-api.ts).
   * @example const { rules } = await api.rules("ops").list();
   */
  rules(room: string): RulesApi {
    return new RulesApi(this.#requests, `/api/rooms/${encodeURIComponent(room)}/rules`);
  }

  /**
   * Owners and admins: the room's incoming webhooks, secret URLs that post into it
   * (incoming-webhooks-api.ts).
   * @example const { hook, url } = await api.incomingWebhooks("ops").create({ name: "CI" });
   */
  incomingWebhooks(room: string): IncomingWebhooksApi {
    return new IncomingWebhooksApi(this.#requests, room);
  }

  /**
   * Your reminders in a room, and its `here` ones for its moderators (reminders-api.ts).
   * @example const { reminders } = await api.reminders("ops").list();
   */
  reminders(room: string): RemindersApi {
    return new RemindersApi(this.#requests, room);
  }

  /**
   * A room's uploads and attachments: the raw routes, and `upload` with retries and resume
   * (uploads-api.ts, docs/attachments.md).
   */
  uploads(room: string): UploadsApi {
    return new UploadsApi(this.#requests, room);
  }

  /**
   * Uploads a file or recording into a room, resuming after dropped connections; answers the
   * attachment to post.
   * @example
   * const voice = await api.upload("lobby", blob, { kind: "voice", durationMs: 3600, waveform });
   * await room.post("", { attachments: [voice.id] });
   */
  upload(room: string, blob: Blob, options: UploadOptions) {
    return this.uploads(room).upload(blob, options);
  }

  /** Owners and admins: the room's hash chain recomputed and checked against its anchor. */
  verifyRoom(room: string) {
    return this.#requests.call(
      ChainReport,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/audit/verify`,
    );
  }

  createRoom(room: Partial<CreateRoom> & { name: string }) {
    return this.#requests.call(RoomInfo, "POST", "/api/rooms", room);
  }

  /**
   * A page of the public rooms; pass the previous page's `nextCursor` as `cursor` for the next
   * one (it keeps the sort and prefix).
   */
  listRooms(options: { limit?: number; cursor?: string; sort?: RoomSort; prefix?: string } = {}) {
    return this.#requests.call(RoomList, "GET", `/api/rooms${queryOf(options)}`);
  }

  getRoom(room: string) {
    return this.#requests.call(RoomInfo, "GET", `/api/rooms/${encodeURIComponent(room)}`);
  }

  events(room: string, after = 0, limit = 100) {
    return this.#requests.call(
      EventsPage,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/events?after=${after}&limit=${limit}`,
    );
  }

  messages(room: string, options: { before?: number; limit?: number } = {}) {
    const query = new URLSearchParams({ limit: String(options.limit ?? 50) });
    if (options.before !== undefined) query.set("before", String(options.before));
    return this.#requests.call(
      MessagesPage,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/messages?${query}`,
    );
  }

  /**
   * The room as it was at a past moment: `{ at }` a seq or `{ atTime }` ms (the last event at or
   * before it), with a page of its messages as they were then (newest first).
   * @example await api.stateAt("lobby", { atTime: Date.parse("2025-01-01T12:00Z") })
   */
  stateAt(room: string, moment: Moment, options: { before?: number; limit?: number } = {}) {
    const query = new URLSearchParams({ limit: String(options.limit ?? 50) });
    if ("at" in moment) query.set("at", String(moment.at));
    else query.set("atTime", String(moment.atTime));
    if (options.before !== undefined) query.set("before", String(options.before));
    return this.#requests.call(
      RoomStateAt,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/state?${query}`,
    );
  }

  /**
   * Posts a message: text, attachments (ids of your complete uploads in the room, from
   * `upload`), or both.
   */
  postMessage(
    room: string,
    body: { text?: string; clientId: string; replyTo?: number; attachments?: string[] },
  ) {
    return this.#requests.call(
      Posted,
      "POST",
      `/api/rooms/${encodeURIComponent(room)}/messages`,
      body,
    );
  }

  members(room: string) {
    return this.#requests.call(MemberList, "GET", `/api/rooms/${encodeURIComponent(room)}/members`);
  }

  /** Who is banned: for the room's moderators and owner. */
  bans(room: string) {
    return this.#requests.call(BanList, "GET", `/api/rooms/${encodeURIComponent(room)}/bans`);
  }

  invite(room: string, username: string, role: Exclude<Role, "owner"> = "member") {
    return this.#requests.call(Posted, "POST", `/api/rooms/${encodeURIComponent(room)}/members`, {
      username,
      role,
    });
  }

  /** Any room command over HTTP (moderation included); resolves with the seq of its event. */
  command(room: string, frame: CommandFrame) {
    return this.#requests.call(
      Posted,
      "POST",
      `/api/rooms/${encodeURIComponent(room)}/commands`,
      frame,
    );
  }

  /**
   * Runs a typed GraphQL document (src/client/graphql/) with this token: its data, typed, or
   * the contract's ApiError of its first error.
   * @example const { me } = await api.graphql(YourRoomsDocument, { first: 10 });
   */
  graphql<Result, Variables>(
    document: TypedDocument<Result, Variables>,
    ...variables: VariablesOf<Variables>
  ): Promise<Result> {
    return graphqlRequest(this.baseUrl, this.token, document, ...variables);
  }
}
