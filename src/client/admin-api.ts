import {
  AdminRoomList,
  AdminUserDetail,
  AdminUserList,
  AuditChainReport,
  AuditPage,
  BacklogReport,
  Overview,
  ReplicaReport,
  ServiceList,
  SessionsEnded,
  SlackLink,
  SlackLinkList,
  type AuditAction,
  type CreateService,
  type ServiceScope,
} from "../protocol/index.ts";
import { InstanceRulesApi } from "./instance-rules-api.ts";
import { queryOf, type ApiRequests } from "./requests.ts";
import { ServiceAccountsApi } from "./service-accounts-api.ts";
import { WebhooksApi } from "./webhooks-api.ts";
import { AdminPluginsApi } from "./plugins-api.ts";

/**
 * The instance admins' calls (`/api/admin/…`): the database and the flush, the live overview and
 * the rooms by activity, accounts, the instance audit log, service accounts and their keys, and
 * the instance's outgoing webhooks (`webhooks`), rules (`rules`) and plugins (`plugins`). Anyone
 * else gets 403 `forbidden`.
 * @example const { rooms } = await api.admin.rooms({ sort: "activity" });
 */
export class AdminApi {
  readonly #requests: ApiRequests;
  /** The instance's outgoing webhooks: every room's events (docs/integrations.md). */
  readonly webhooks: WebhooksApi;
  /** The instance's rules, for every room they name (docs/automation.md, "Instance rules"). */
  readonly rules: InstanceRulesApi;
  /** Every service account and its keys (docs/service-keys.md): the bots' calls, for all. */
  readonly serviceAccounts: ServiceAccountsApi<typeof ServiceList>;
  /** The instance's plugins: install, versions, on and off, try (docs/plugins.md). */
  readonly plugins: AdminPluginsApi;
  constructor(requests: ApiRequests) {
    this.#requests = requests;
    this.plugins = new AdminPluginsApi(requests);
    this.webhooks = new WebhooksApi(requests, "/api/admin/webhooks");
    this.rules = new InstanceRulesApi(requests);
    this.serviceAccounts = new ServiceAccountsApi(requests, "/api/admin/services", ServiceList);
  }

  /** each database node's health and lag (503 without Postgres). */
  replicas() {
    return this.#requests.call(ReplicaReport, "GET", "/api/admin/replicas");
  }

  /** events not yet flushed to Postgres, per room (503 without Postgres). */
  backlog() {
    return this.#requests.call(BacklogReport, "GET", "/api/admin/backlog");
  }

  /**
   * the live overview (docs/observability.md): the numbers `/metrics` has, now and over
   * the last hour in windows, and the busiest rooms.
   */
  overview() {
    return this.#requests.call(Overview, "GET", "/api/admin/overview");
  }

  /**
   * the rooms the instance knows, with their sockets and recent activity: those whose
   * name starts with `q`, sorted by activity (the default), sockets or name, at most `limit`.
   */
  rooms(options: { q?: string; sort?: "activity" | "sockets" | "name"; limit?: number } = {}) {
    return this.#requests.call(AdminRoomList, "GET", `/api/admin/rooms${queryOf(options)}`);
  }

  /**
   * registered accounts whose name starts with `prefix` (case-insensitively), in name
   * order; pass the previous page's `nextAfter` as `after` for the next page.
   */
  users(options: { prefix?: string; after?: string; limit?: number } = {}) {
    return this.#requests.call(AdminUserList, "GET", `/api/admin/users${queryOf(options)}`);
  }

  /** one account, its ban and its open sessions. */
  user(username: string) {
    return this.#requests.call(
      AdminUserDetail,
      "GET",
      `/api/admin/users/${encodeURIComponent(username)}`,
    );
  }

  /** ends every session of the account (its sockets close with 4401). */
  endUserSessions(username: string) {
    return this.#requests.call(
      SessionsEnded,
      "DELETE",
      `/api/admin/users/${encodeURIComponent(username)}/sessions`,
    );
  }

  /** bans the account instance-wide (sessions end at once, sign-in refused). */
  banUser(username: string, reason?: string) {
    return this.#requests.call(
      AdminUserDetail,
      "POST",
      `/api/admin/users/${encodeURIComponent(username)}/ban`,
      reason ? { reason } : {},
    );
  }

  /** lifts an instance ban. */
  unbanUser(username: string) {
    return this.#requests.call(
      AdminUserDetail,
      "POST",
      `/api/admin/users/${encodeURIComponent(username)}/unban`,
    );
  }

  /** deletes the account (no password needed); its name becomes free. */
  deleteUser(username: string) {
    return this.#requests.send("DELETE", `/api/admin/users/${encodeURIComponent(username)}`);
  }

  /**
   * a page of the instance audit log, newest first; pass the previous page's
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
    return this.#requests.call(AuditPage, "GET", `/api/admin/audit${queryOf(filter)}`);
  }

  /** the instance audit log's hash chain, recomputed from the log itself. */
  verifyAuditLog() {
    return this.#requests.call(AuditChainReport, "GET", "/api/admin/audit/verify");
  }

  // The service accounts' calls by their older names: the same as `serviceAccounts`'.

  /** the service accounts, with their scopes and keys (never a secret). */
  services() {
    return this.serviceAccounts.list();
  }

  /**
   * a new service account and its first key, `ecsk_…`, in `key.secret`: shown this
   * once, stored only as a hash (docs/service-keys.md).
   * @example const { key } = await admin.createService({ name: "deploybot", scope: { rooms: ["ops"], actions: ["post"], role: "member" } });
   */
  createService(input: CreateService) {
    return this.serviceAccounts.create(input);
  }

  /** a service account's new scope; its open sockets close and reconnect under it. */
  setServiceScope(id: string, scope: ServiceScope) {
    return this.serviceAccounts.setScope(id, scope);
  }

  /** disable (every key stops at once) or enable a service account. */
  setServiceDisabled(id: string, disabled: boolean) {
    return this.serviceAccounts.setDisabled(id, disabled);
  }

  /** one more key for a service account, shown this once. */
  addServiceKey(id: string) {
    return this.serviceAccounts.addKey(id);
  }

  /** a new key, the old one working `overlapSeconds` more (default 24 h, at most 30 days). */
  rotateServiceKey(id: string, keyId: string, overlapSeconds?: number) {
    return this.serviceAccounts.rotateKey(id, keyId, overlapSeconds);
  }

  /** revokes a key at once. */
  revokeServiceKey(id: string, keyId: string) {
    return this.serviceAccounts.revokeKey(id, keyId);
  }

  /** deletes a service account: every key stops, its sockets close. */
  deleteService(id: string) {
    return this.serviceAccounts.delete(id);
  }

  /** the Slack bridge's links, each channel and its room, with the last failure (404 while off). */
  slackLinks() {
    return this.#requests.call(SlackLinkList, "GET", "/api/admin/slack/links");
  }

  /** links a Slack channel (`C…`) to a room: messages cross both ways from now on. */
  linkSlack(channel: string, room: string) {
    return this.#requests.call(SlackLink, "POST", "/api/admin/slack/links", { channel, room });
  }

  /** unlinks a Slack channel from its room. */
  unlinkSlack(channel: string) {
    return this.#requests.call(
      SlackLink,
      "DELETE",
      `/api/admin/slack/links/${encodeURIComponent(channel)}`,
    );
  }
}
