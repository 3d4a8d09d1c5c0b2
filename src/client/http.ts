import type * as z from "zod";
import {
  AdminRoomList,
  AdminUserDetail,
  AdminUserList,
  AuditChainReport,
  ChainReport,
  Overview,
  SessionsEnded,
  AuditPage,
  type AuditAction,
  ApiError,
  BacklogReport,
  ErrorBody,
  EventsPage,
  Me,
  BanList,
  MemberList,
  MessagesPage,
  Posted,
  ReplicaReport,
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
  IssuedKey,
  ServiceAccount,
  ServiceList,
  type CreateService,
  type ServiceScope,
} from "../protocol/index.ts";
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
  readonly baseUrl: string;
  readonly token: string | undefined;
  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
  }

  withToken(token: string): EdgechatApi {
    return new EdgechatApi(this.baseUrl, token);
  }

  signInGuest(name: string) {
    return this.#call(Session, "POST", "/api/auth/guest", { name });
  }

  /** Registers and signs in; browsers get the refresh token as an HttpOnly cookie. */
  register(username: string, password: string) {
    return this.#call(Session, "POST", "/api/auth/register", { username, password });
  }

  login(username: string, password: string) {
    return this.#call(Session, "POST", "/api/auth/login", { username, password });
  }

  /**
   * A new access token (and a rotated refresh token) for the session: from the cookie in a
   * browser, or from `refreshToken` for clients that keep it themselves.
   */
  refresh(refreshToken?: string) {
    return this.#call(
      Session,
      "POST",
      "/api/auth/refresh",
      refreshToken === undefined ? undefined : { refreshToken },
    );
  }

  /** Ends the session of the refresh cookie (or of `refreshToken`). */
  logout(refreshToken?: string) {
    return this.#send(
      "POST",
      "/api/auth/logout",
      refreshToken === undefined ? undefined : { refreshToken },
    );
  }

  /** Ends every session of the user and opens a new one. */
  changePassword(currentPassword: string, newPassword: string) {
    return this.#call(Session, "POST", "/api/auth/password", { currentPassword, newPassword });
  }

  deleteAccount(password: string) {
    return this.#send("DELETE", "/api/auth/account", { password });
  }

  /** The signed-in user, and whether they are an instance admin. */
  me() {
    return this.#call(Me, "GET", "/api/auth/me");
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
    return this.#call(SearchResults, "GET", `/api/search?${query}`);
  }

  /** Admins: each database node's health and lag (503 without Postgres). */
  replicas() {
    return this.#call(ReplicaReport, "GET", "/api/admin/replicas");
  }

  /** Admins: events not yet flushed to Postgres, per room (503 without Postgres). */
  backlog() {
    return this.#call(BacklogReport, "GET", "/api/admin/backlog");
  }

  /**
   * Admins: the live overview (docs/observability.md): the numbers `/metrics` has, now and over
   * the last hour in windows, and the busiest rooms.
   */
  overview() {
    return this.#call(Overview, "GET", "/api/admin/overview");
  }

  /**
   * Admins: the rooms the instance knows, with their sockets and recent activity: those whose
   * name starts with `q`, sorted by activity (the default), sockets or name, at most `limit`.
   */
  adminRooms(options: { q?: string; sort?: "activity" | "sockets" | "name"; limit?: number } = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options))
      if (value !== undefined && value !== "") query.set(key, String(value));
    const search = query.size > 0 ? `?${query}` : "";
    return this.#call(AdminRoomList, "GET", `/api/admin/rooms${search}`);
  }

  /**
   * Admins: registered accounts whose name starts with `prefix` (case-insensitively), in name
   * order; pass the previous page's `nextAfter` as `after` for the next page.
   */
  adminUsers(options: { prefix?: string; after?: string; limit?: number } = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options))
      if (value !== undefined && value !== "") query.set(key, String(value));
    const search = query.size > 0 ? `?${query}` : "";
    return this.#call(AdminUserList, "GET", `/api/admin/users${search}`);
  }

  /** Admins: one account, its ban and its open sessions. */
  adminUser(username: string) {
    return this.#call(AdminUserDetail, "GET", `/api/admin/users/${encodeURIComponent(username)}`);
  }

  /** Admins: ends every session of the account (its sockets close with 4401). */
  endUserSessions(username: string) {
    return this.#call(
      SessionsEnded,
      "DELETE",
      `/api/admin/users/${encodeURIComponent(username)}/sessions`,
    );
  }

  /** Admins: bans the account instance-wide (sessions end at once, sign-in refused). */
  banUser(username: string, reason?: string) {
    return this.#call(
      AdminUserDetail,
      "POST",
      `/api/admin/users/${encodeURIComponent(username)}/ban`,
      reason ? { reason } : {},
    );
  }

  /** Admins: lifts an instance ban. */
  unbanUser(username: string) {
    return this.#call(
      AdminUserDetail,
      "POST",
      `/api/admin/users/${encodeURIComponent(username)}/unban`,
    );
  }

  /** Admins: deletes the account (no password needed); its name becomes free. */
  deleteUser(username: string) {
    return this.#send("DELETE", `/api/admin/users/${encodeURIComponent(username)}`);
  }

  /**
   * Admins: a page of the instance audit log, newest first; pass the previous page's
   * `nextBefore` as `before` for older entries. Times in ms since the epoch, inclusive.
   */
  auditLog(
    filter: {
      actor?: string;
      action?: AuditAction;
      since?: number;
      until?: number;
      before?: number;
      limit?: number;
    } = {},
  ) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter))
      if (value !== undefined && value !== "") query.set(key, String(value));
    const search = query.size > 0 ? `?${query}` : "";
    return this.#call(AuditPage, "GET", `/api/admin/audit${search}`);
  }

  /** Admins: the instance audit log's hash chain, recomputed from the log itself. */
  verifyAuditLog() {
    return this.#call(AuditChainReport, "GET", "/api/admin/audit/verify");
  }

  /** Admins: the service accounts, with their scopes and keys (never a secret). */
  services() {
    return this.#call(ServiceList, "GET", "/api/admin/services");
  }

  /**
   * Admins: a new service account and its first key, `ecsk_…`, in `key.secret`: shown this
   * once, stored only as a hash (docs/service-keys.md).
   * @example const { key } = await admin.createService({ name: "deploybot", scope: { rooms: ["ops"], actions: ["post"], role: "member" } });
   */
  createService(input: CreateService) {
    return this.#call(IssuedKey, "POST", "/api/admin/services", input);
  }

  /** Admins: a service account's new scope; its open sockets close and reconnect under it. */
  setServiceScope(id: string, scope: ServiceScope) {
    return this.#call(ServiceAccount, "PATCH", `/api/admin/services/${id}`, { scope });
  }

  /** Admins: disable (every key stops at once) or enable a service account. */
  setServiceDisabled(id: string, disabled: boolean) {
    const verb = disabled ? "disable" : "enable";
    return this.#call(ServiceAccount, "POST", `/api/admin/services/${id}/${verb}`);
  }

  /** Admins: one more key for a service account, shown this once. */
  addServiceKey(id: string) {
    return this.#call(IssuedKey, "POST", `/api/admin/services/${id}/keys`);
  }

  /** Admins: a new key, the old one working `overlapSeconds` more (default 24 h, at most 30 days). */
  rotateServiceKey(id: string, keyId: string, overlapSeconds?: number) {
    const body = overlapSeconds === undefined ? {} : { overlapSeconds };
    return this.#call(IssuedKey, "POST", `/api/admin/services/${id}/keys/${keyId}/rotate`, body);
  }

  /** Admins: revokes a key at once. */
  revokeServiceKey(id: string, keyId: string) {
    return this.#call(ServiceAccount, "DELETE", `/api/admin/services/${id}/keys/${keyId}`);
  }

  /** Owners and admins: the room's hash chain recomputed and checked against its anchor. */
  verifyRoom(room: string) {
    return this.#call(ChainReport, "GET", `/api/rooms/${encodeURIComponent(room)}/audit/verify`);
  }

  createRoom(room: Partial<CreateRoom> & { name: string }) {
    return this.#call(RoomInfo, "POST", "/api/rooms", room);
  }

  /**
   * A page of the public rooms; pass the previous page's `nextCursor` as `cursor` for the next
   * one (it keeps the sort and prefix).
   */
  listRooms(options: { limit?: number; cursor?: string; sort?: RoomSort; prefix?: string } = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options))
      if (value !== undefined && value !== "") query.set(key, String(value));
    const search = query.size > 0 ? `?${query}` : "";
    return this.#call(RoomList, "GET", `/api/rooms${search}`);
  }

  getRoom(room: string) {
    return this.#call(RoomInfo, "GET", `/api/rooms/${encodeURIComponent(room)}`);
  }

  events(room: string, after = 0, limit = 100) {
    return this.#call(
      EventsPage,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/events?after=${after}&limit=${limit}`,
    );
  }

  messages(room: string, options: { before?: number; limit?: number } = {}) {
    const query = new URLSearchParams({ limit: String(options.limit ?? 50) });
    if (options.before !== undefined) query.set("before", String(options.before));
    return this.#call(
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
    return this.#call(RoomStateAt, "GET", `/api/rooms/${encodeURIComponent(room)}/state?${query}`);
  }

  postMessage(room: string, body: { text: string; clientId: string; replyTo?: number }) {
    return this.#call(Posted, "POST", `/api/rooms/${encodeURIComponent(room)}/messages`, body);
  }

  members(room: string) {
    return this.#call(MemberList, "GET", `/api/rooms/${encodeURIComponent(room)}/members`);
  }

  /** Who is banned: for the room's moderators and owner. */
  bans(room: string) {
    return this.#call(BanList, "GET", `/api/rooms/${encodeURIComponent(room)}/bans`);
  }

  invite(room: string, username: string, role: Exclude<Role, "owner"> = "member") {
    return this.#call(Posted, "POST", `/api/rooms/${encodeURIComponent(room)}/members`, {
      username,
      role,
    });
  }

  /** Any room command over HTTP (moderation included); resolves with the seq of its event. */
  command(room: string, frame: CommandFrame) {
    return this.#call(Posted, "POST", `/api/rooms/${encodeURIComponent(room)}/commands`, frame);
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

  /** Calls the API and parses the answer with `schema`: what the server says is checked, not trusted. */
  async #call<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<z.output<S>> {
    return schema.parse(await this.#fetch(method, path, body));
  }

  /** Calls the API for an answer without a body (204). */
  async #send(method: string, path: string, body?: unknown): Promise<void> {
    await this.#fetch(method, path, body);
  }

  /** The answer's JSON (undefined without one); a non-2xx answer throws the contract's ApiError. */
  async #fetch(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // The refresh cookie lives on /api/auth: sent to the same origin only.
      credentials: "same-origin",
    });
    const json: unknown = await response.json().catch(() => undefined);
    if (response.ok) return json;
    const error = ErrorBody.safeParse(json);
    const retry = Number(response.headers.get("retry-after") ?? Number.NaN);
    const retryAfter = Number.isFinite(retry) && retry >= 0 ? retry : undefined;
    const { status } = response;
    if (error.success)
      throw new ApiError(error.data.error.code, error.data.error.message, { status, retryAfter });
    throw new ApiError("internal", `HTTP ${status}`, { status, retryAfter });
  }
}
