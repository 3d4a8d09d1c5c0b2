import { DurableObject } from "cloudflare:workers";
import {
  MAX_INCOMING_HOOKS,
  MAX_SLASH_COMMANDS,
  take,
  type Bucket,
  type CreateSlashCommand,
  type CustomSlashCommand,
  type IncomingHook,
  type SlashResult,
  type UpdateSlashCommand,
  type CreateWebhook,
  type Delivery,
  type DeliveryQuery,
  type Result,
  type RoomEvent,
  type SlackLinkError,
  type UpdateWebhook,
  type UserRef,
  type Webhook,
  type WebhookEventTypes,
} from "../protocol/index.ts";
import { integrationsConfig } from "../config.ts";
import type { AutomationFired } from "../protocol/automation-fired.ts";
import type { RuleInput } from "../protocol/automation.ts";
import type { InstanceRuleChange, InstanceRuleList } from "../protocol/instance-rules.ts";
import { DeliveryLog } from "./delivery-log.ts";
import type { Verdict } from "./delivery-outcome.ts";
import { migrateHub } from "./hub-schema.ts";
import {
  INSTANCE_HUB,
  intoSendBatches,
  type HubName,
  type IntegrationMessage,
} from "./queue-messages.ts";
import { IncomingHooks } from "./incoming-hooks.ts";
import { InstanceRules, type InstanceRulesPull } from "./instance-rules.ts";
import { newServiceId } from "../identity/service-key.ts";
import { randomHex, Webhooks, type PreparedTry } from "./webhooks.ts";
import { SLASH_RATE, type SlashStart } from "./slash-call.ts";
import { SlashStore, type ResponseUse } from "./slash-store.ts";
import {
  BRIDGED_TYPES,
  type BridgedEvent,
  type OutboundPlan,
  type SlackCall,
  type SlackIdentity,
} from "./slack-bridge.ts";
import type { SlackInbound } from "./slack-events.ts";
import {
  acceptForSlack,
  failInbound,
  failOutbound,
  finishInbound,
  finishOutbound,
  stepInbound,
  stepOutbound,
  type InboundStep,
} from "./slack-hub.ts";
import { SlackTables, type LinkRow } from "./slack-tables.ts";

const noCommand = { ok: false, error: { code: "not_found", message: "no such command" } } as const;
/**
 * The integrations of one room (`room:<name>`) or of the instance (`instance`), each in its own
 * object (docs/integrations.md): outgoing webhooks and their delivery log (`Webhooks`), incoming
 * webhooks (`IncomingHooks`), custom slash commands (`SlashStore`), and a room's Slack link and
 * message map (`SlackTables`, slack-hub.ts), and the instance's rules (`InstanceRules`). Thin:
 * every method hands over to those; the queue's consumers (consumer.ts, slack-consumer.ts) do the
 * sending. Every call names the hub, which the object does not otherwise know (the instance-only
 * parts, Slack's links and the instance's rules, are only ever called on the instance's hub).
 */
export class IntegrationHub extends DurableObject<Env> {
  readonly #webhooksOf = new Map<HubName, Webhooks>();
  readonly #deliveries: DeliveryLog;
  readonly #slash: SlashStore;
  /** Custom commands run per caller (memory only: losing it on eviction merely forgives). */
  readonly #slashBuckets = new Map<string, Bucket>();
  readonly #slack: SlackTables;
  readonly #rules: InstanceRules;
  #slashPrunedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrateHub(ctx.storage.sql);
    this.#deliveries = new DeliveryLog(ctx.storage.sql);
    this.#slash = new SlashStore(ctx.storage.sql);
    this.#slack = new SlackTables(ctx.storage.sql);
    this.#rules = new InstanceRules(ctx.storage);
  }

  // ---- Outgoing webhooks (webhooks.ts)

  async webhooks(hub: HubName): Promise<Webhook[]> {
    return this.#webhooks(hub).list(Date.now());
  }

  async webhook(hub: HubName, id: string): Promise<Result<Webhook>> {
    return this.#webhooks(hub).get(id, Date.now());
  }

  async createWebhook(
    hub: HubName,
    input: CreateWebhook,
    by: UserRef,
  ): Promise<Result<{ webhook: Webhook; secret: string }>> {
    return this.#webhooks(hub).create(input, by, Date.now());
  }

  async updateWebhook(hub: HubName, id: string, patch: UpdateWebhook): Promise<Result<Webhook>> {
    return this.#webhooks(hub).update(id, patch, Date.now());
  }

  async deleteWebhook(hub: HubName, id: string): Promise<Result<Webhook>> {
    return this.#webhooks(hub).remove(id, Date.now());
  }

  async rotateSecret(
    hub: HubName,
    id: string,
    overlapSeconds: number,
  ): Promise<Result<{ webhook: Webhook; secret: string }>> {
    return this.#webhooks(hub).rotateSecret(id, overlapSeconds, Date.now());
  }

  async deliveries(
    hub: HubName,
    webhookId: string,
    query: DeliveryQuery,
  ): Promise<Result<{ deliveries: Delivery[]; nextBefore: string | null }>> {
    return this.#webhooks(hub).deliveries(webhookId, query, Date.now());
  }

  async delivery(hub: HubName, webhookId: string, deliveryId: string): Promise<Result<Delivery>> {
    return this.#webhooks(hub).delivery(webhookId, deliveryId);
  }

  /** A delivery sent again, with the same `webhook-id`: back to pending, and onto the queue. */
  async replay(hub: HubName, webhookId: string, deliveryId: string): Promise<Result<Delivery>> {
    const replayed = this.#webhooks(hub).replay(webhookId, deliveryId, Date.now());
    if (replayed.ok) await this.#enqueue([{ kind: "delivery", hub, deliveryId }]);
    return replayed;
  }

  /**
   * The event types this hub's enabled endpoints want (the room feeds nothing else), and the
   * messages' while the room is linked to a Slack channel.
   */
  async wantedTypes(hub: HubName): Promise<WebhookEventTypes | []> {
    const endpoints = this.#webhooks(hub).wantedTypes();
    if (hub === INSTANCE_HUB || this.#slack.ownLink() === undefined || endpoints === "*")
      return endpoints;
    return [...new Set([...endpoints, ...BRIDGED_TYPES])];
  }

  /**
   * A room's committed events, from the queue: its webhooks' deliveries made and queued (see
   * `Webhooks.deliveriesFor`), and, in a room linked to Slack, what goes to Slack. Answers how
   * many deliveries were queued.
   */
  async accept(hub: HubName, room: string, events: readonly RoomEvent[]): Promise<number> {
    const pending = this.#webhooks(hub).deliveriesFor(room, events, Date.now());
    await this.#enqueue(pending.map((deliveryId) => ({ kind: "delivery", hub, deliveryId })));
    if (hub !== INSTANCE_HUB) {
      const toSlack = acceptForSlack(this.#slack, room, events);
      await this.#enqueue(toSlack.map((event) => ({ kind: "slack-out", room, event })));
    }
    return pending.length;
  }

  /** A rule's `webhook` action: its delivery made once per firing key and queued (docs/automation.md). */
  async automationFired(
    hub: HubName,
    room: string,
    fired: { webhookId: string; key: string; seq: number; payload: AutomationFired },
  ): Promise<Result<{ queued: boolean }>> {
    const made = this.#webhooks(hub).deliverFired(room, fired, Date.now());
    if (!made.ok) return made;
    if (made.value) await this.#enqueue([{ kind: "delivery", hub, deliveryId: made.value }]);
    return { ok: true, value: { queued: made.value !== undefined } };
  }

  async prepareTry(hub: HubName, deliveryId: string): Promise<PreparedTry | "skip"> {
    return this.#webhooks(hub).prepareTry(deliveryId, Date.now());
  }

  async recordTry(
    hub: HubName,
    deliveryId: string,
    attempt: Delivery["attempts"][number],
    verdict: Verdict,
  ): Promise<void> {
    const disableAfterMs = integrationsConfig(this.env).WEBHOOK_DISABLE_AFTER_SECONDS * 1000;
    this.#webhooks(hub).recordTry(deliveryId, attempt, verdict, disableAfterMs);
  }

  async markDead(hub: HubName, deliveryId: string): Promise<void> {
    this.#webhooks(hub).markDead(deliveryId, Date.now());
  }

  // ---- the instance's rules (the instance's hub only; instance-rules.ts) ----

  /** Every instance rule, for the admins' list. */
  async listInstanceRules(): Promise<InstanceRuleList> {
    return { rules: this.#rules.list(), version: this.#rules.version() };
  }

  /**
   * What a room pulls, at most every 30 s: the version, and the rules unless the room holds
   * that version already (`since`).
   */
  async instanceRules(since?: number): Promise<InstanceRulesPull> {
    return this.#rules.pull(since);
  }

  /** Creates (no id) or replaces an instance rule; `changed` is false when it was saved unchanged. */
  async saveInstanceRule(
    id: string | undefined,
    input: RuleInput,
    by: UserRef,
  ): Promise<Result<InstanceRuleChange & { changed: boolean }>> {
    const now = Date.now();
    const webhookExists = (webhookId: string) =>
      this.#webhooks(INSTANCE_HUB).get(webhookId, now).ok;
    return this.#rules.save(id, input, by, now, webhookExists);
  }

  async deleteInstanceRule(id: string): Promise<Result<InstanceRuleChange>> {
    return this.#rules.remove(id);
  }

  // ---- Slash commands (a room's hub only; docs/integrations.md) ----

  async slashCommands(_hub: HubName): Promise<CustomSlashCommand[]> {
    return this.#slash.list();
  }

  /** A new command, its bot's id and its secrets (shown this once). The URL was checked. */
  async createSlashCommand(
    _hub: HubName,
    input: CreateSlashCommand,
    by: UserRef,
  ): Promise<
    Result<{ command: CustomSlashCommand; signingSecret: string; verificationToken: string }>
  > {
    if (this.#slash.get(input.name))
      return { ok: false, error: { code: "conflict", message: `/${input.name} already exists` } };
    if (this.#slash.count() >= MAX_SLASH_COMMANDS)
      return {
        ok: false,
        error: { code: "conflict", message: `at most ${MAX_SLASH_COMMANDS} commands per room` },
      };
    // Slack's own lengths: a 32-hex signing secret would do; 64 costs nothing.
    const secrets = {
      botId: newServiceId(),
      signingSecret: randomHex(32),
      verificationToken: randomHex(12),
    };
    this.#slash.create(input, secrets, by, Date.now());
    const { signingSecret, verificationToken } = secrets;
    return {
      ok: true,
      value: { command: this.#slash.get(input.name)!, signingSecret, verificationToken },
    };
  }

  async updateSlashCommand(
    _hub: HubName,
    name: string,
    patch: UpdateSlashCommand,
  ): Promise<Result<CustomSlashCommand>> {
    if (!this.#slash.get(name)) return noCommand;
    this.#slash.update(name, patch, Date.now());
    return { ok: true, value: this.#slash.get(name)! };
  }

  async deleteSlashCommand(_hub: HubName, name: string): Promise<Result<CustomSlashCommand>> {
    const command = this.#slash.get(name);
    if (!command) return noCommand;
    this.#slash.remove(name);
    return { ok: true, value: command };
  }

  /**
   * The start of a custom command's run: unknown; already run with this clientId (its answer);
   * or what to call, its response_url (`responseHash`, the token's SHA-256) now live. Refused
   * `rate_limited` past SLASH_RATE for the caller.
   */
  async startSlash(
    _hub: HubName,
    run: { name: string; caller: UserRef; clientId: string; responseHash: string },
  ): Promise<Result<SlashStart>> {
    const now = Date.now();
    this.#pruneSlash(now);
    const target = this.#slash.target(run.name);
    if (!target) return { ok: true, value: { kind: "unknown" } };
    const answer = this.#slash.claim(run.caller.id, run.clientId, now);
    if (answer) return { ok: true, value: { kind: "repeat", answer } };
    const { allowed, bucket } = take(this.#slashBuckets.get(run.caller.id), SLASH_RATE, now);
    this.#slashBuckets.set(run.caller.id, bucket);
    if (!allowed) {
      this.#slash.release(run.caller.id, run.clientId);
      const retryAfter = 1 / SLASH_RATE.perSecond;
      const message = `at most ${SLASH_RATE.burst} custom commands in a row, then one a second`;
      return { ok: false, error: { code: "rate_limited", message, retryAfter } };
    }
    this.#slash.addResponseUrl(run.responseHash, run.name, run.caller, now);
    return { ok: true, value: { kind: "call", target } };
  }

  /** What a run answered, for retries of its clientId. */
  async settleSlash(
    _hub: HubName,
    caller: string,
    clientId: string,
    answer: SlashResult,
  ): Promise<void> {
    this.#slash.settle(caller, clientId, answer);
  }

  /** A run that failed on our side before it answered: its clientId may run again. */
  async releaseSlash(_hub: HubName, caller: string, clientId: string): Promise<void> {
    this.#slash.release(caller, clientId);
  }

  /** One use of a response_url (by its token's SHA-256); not_found when it cannot be used. */
  async useResponseUrl(_hub: HubName, responseHash: string): Promise<Result<ResponseUse>> {
    const use = this.#slash.useResponseUrl(responseHash, Date.now());
    return use
      ? { ok: true, value: use }
      : {
          ok: false,
          error: {
            code: "not_found",
            message: "no such response_url, or it expired or was used up",
          },
        };
  }

  #pruneSlash(now: number): void {
    if (now - this.#slashPrunedAt < 60_000) return;
    this.#slashPrunedAt = now;
    this.#slash.prune(now);
  }

  // ---- incoming webhooks (a room's hub only)

  async incomingHooks(hub: HubName): Promise<IncomingHook[]> {
    return this.#incoming(hub).list();
  }

  /** A new hook, its secret known to the worker only by the digest it hands over. */
  async createIncomingHook(
    hub: HubName,
    id: string,
    name: string,
    digest: string,
    by: UserRef,
  ): Promise<Result<IncomingHook>> {
    const hooks = this.#incoming(hub);
    if (hooks.usable() >= MAX_INCOMING_HOOKS)
      return {
        ok: false,
        error: {
          code: "conflict",
          message: `at most ${MAX_INCOMING_HOOKS} incoming webhooks in a room`,
        },
      };
    return { ok: true, value: hooks.create(id, name, newServiceId(), digest, by, Date.now()) };
  }

  async revokeIncomingHook(hub: HubName, id: string): Promise<Result<IncomingHook>> {
    const hook = this.#incoming(hub).revoke(id, Date.now());
    return hook
      ? { ok: true, value: hook }
      : { ok: false, error: { code: "not_found", message: "no such incoming webhook" } };
  }

  /** The hook these are the id and secret's digest of, if it still works. */
  async verifyIncomingHook(
    hub: HubName,
    id: string,
    digest: string,
  ): Promise<IncomingHook | undefined> {
    return this.#incoming(hub).verify(id, digest, Date.now());
  }

  #incoming(hub: HubName): IncomingHooks {
    if (!hub.startsWith("room:")) throw new Error("incoming webhooks belong to a room");
    return new IncomingHooks(this.ctx.storage.sql, hub.slice("room:".length));
  }

  // ---- the Slack bridge (slack-hub.ts): links in the instance's hub, the rest in the room's

  /** Every link, oldest first (the instance's hub). */
  async slackLinks(): Promise<LinkRow[]> {
    return this.#slack.links();
  }

  /** A new link in the instance's hub: one room per channel, one channel per room. */
  async createSlackLink(
    link: Omit<LinkRow, "lastMessageAt" | "lastError">,
  ): Promise<Result<LinkRow>> {
    const taken = this.#slack.linkByChannel(link.channel) ?? this.#slack.linkByRoom(link.room);
    if (taken)
      return {
        ok: false,
        error: {
          code: "conflict",
          message: `channel ${taken.channel} is linked to room ${taken.room}: remove that link first`,
        },
      };
    this.#slack.addLink(link);
    return { ok: true, value: this.#slack.linkByChannel(link.channel)! };
  }

  /** Removes a link from the instance's hub; the room it went to. */
  async removeSlackLink(channel: string): Promise<Result<LinkRow>> {
    const link = this.#slack.linkByChannel(channel);
    if (!link) return { ok: false, error: { code: "not_found", message: "no such Slack link" } };
    this.#slack.removeLink(channel);
    return { ok: true, value: link };
  }

  /** For an event from Slack, in one call to the instance's hub: its room, and our bot. */
  async slackRoute(
    channel: string,
    tokenHint: string,
  ): Promise<{ room?: string; identity?: SlackIdentity }> {
    const room = this.#slack.linkByChannel(channel)?.room;
    const identity = this.#slack.identity(tokenHint);
    return { ...(room !== undefined && { room }), ...(identity !== undefined && { identity }) };
  }

  async setSlackIdentity(tokenHint: string, identity: SlackIdentity): Promise<void> {
    this.#slack.setIdentity(tokenHint, identity, Date.now());
  }

  /** A room's hub takes its link (or forgets it, and its map, with null). */
  async setSlackLink(hub: HubName, link: Omit<LinkRow, "lastMessageAt" | "lastError"> | null) {
    this.#roomOnly(hub);
    this.ctx.storage.transactionSync(() => {
      this.#slack.clearRoom();
      if (link) this.#slack.addLink(link);
    });
  }

  /** The room's link as its hub knows it: when a message last crossed, the last failure. */
  async slackLink(hub: HubName): Promise<LinkRow | undefined> {
    this.#roomOnly(hub);
    return this.#slack.ownLink();
  }

  async slackInbound(
    hub: HubName,
    input: {
      inbound: SlackInbound;
      actorId: string;
      identity: SlackIdentity | undefined;
      attempt: number;
    },
  ): Promise<InboundStep> {
    this.#roomOnly(hub);
    return stepInbound(this.#slack, { ...input, now: Date.now() });
  }

  async setSlackAuthorName(hub: HubName, key: string, name: string): Promise<void> {
    this.#roomOnly(hub);
    this.#slack.setAuthorName(key, name, Date.now());
  }

  async slackInboundDone(hub: HubName, inbound: SlackInbound, actorId: string, seq: number) {
    this.#roomOnly(hub);
    finishInbound(this.#slack, inbound, actorId, seq, Date.now());
  }

  async slackInboundFailed(hub: HubName, inbound: SlackInbound, error: SlackLinkError) {
    this.#roomOnly(hub);
    failInbound(this.#slack, inbound, error, Date.now());
  }

  async slackOutbound(hub: HubName, event: BridgedEvent, attempt: number): Promise<OutboundPlan> {
    this.#roomOnly(hub);
    return stepOutbound(this.#slack, event, attempt, Date.now());
  }

  async slackOutboundDone(hub: HubName, messageId: number, call: SlackCall, ts: string) {
    this.#roomOnly(hub);
    finishOutbound(this.#slack, messageId, call, ts, Date.now());
  }

  async slackOutboundFailed(
    hub: HubName,
    messageId: number,
    call: SlackCall,
    error: { code: string; message: string; final: boolean },
  ) {
    this.#roomOnly(hub);
    failOutbound(this.#slack, messageId, call, error, Date.now());
  }

  #roomOnly(hub: HubName): void {
    if (!hub.startsWith("room:")) throw new Error("this belongs to a room's hub");
  }

  #webhooks(hub: HubName): Webhooks {
    let webhooks = this.#webhooksOf.get(hub);
    if (!webhooks) {
      const room = hub.startsWith("room:") ? hub.slice("room:".length) : undefined;
      webhooks = new Webhooks(this.ctx.storage, this.#deliveries, room);
      this.#webhooksOf.set(hub, webhooks);
    }
    return webhooks;
  }

  async #enqueue(messages: IntegrationMessage[]): Promise<void> {
    for (const batch of intoSendBatches(messages))
      await this.env.INTEGRATIONS.sendBatch(batch.map((body) => ({ body })));
  }
}
