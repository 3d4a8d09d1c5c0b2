import type * as z from "zod";
import {
  Delivery,
  DeliveryPage,
  IssuedWebhookSecret,
  Webhook,
  WebhookList,
  type CreateWebhook,
  type DeliveryStatus,
  type UpdateWebhook,
} from "../protocol/index.ts";
import { queryOf, type ApiRequests } from "./requests.ts";

/**
 * One set of outgoing webhooks (docs/integrations.md): a room's, for its owner and admins
 * (`api.webhooks(room)`), or the instance's, every room's events, for admins
 * (`api.admin.webhooks`). The same calls for both; anyone else gets 403 `forbidden`.
 * @example
 * const { webhook, secret } = await api.webhooks("lobby").create({ url, eventTypes: "*" });
 * const { deliveries } = await api.webhooks("lobby").deliveries(webhook.id, { status: "dead" });
 */
export class WebhooksApi {
  readonly #requests: ApiRequests;
  readonly #base: string;
  /** `base` is the collection's path: `/api/rooms/<room>/webhooks` or `/api/admin/webhooks`. */
  constructor(requests: ApiRequests, base: string) {
    this.#requests = requests;
    this.#base = base;
  }

  /** The endpoints, oldest first, with their status and secrets' hints (never a secret). */
  list() {
    return this.#requests.call(WebhookList, "GET", this.#base);
  }

  /**
   * A new endpoint for `eventTypes` (a list, or `"*"` for every type) and its signing secret,
   * `whsec_…`, in `secret`: shown this once. The URL must be https and public.
   */
  create(input: z.input<typeof CreateWebhook>) {
    return this.#requests.call(IssuedWebhookSecret, "POST", this.#base, input);
  }

  get(id: string) {
    return this.#requests.call(Webhook, "GET", this.#one(id));
  }

  /** Changes its URL, event types, description or status (`enabled` again resets its failures). */
  update(id: string, patch: UpdateWebhook) {
    return this.#requests.call(Webhook, "PATCH", this.#one(id), patch);
  }

  /** Turns it on (its failure count starting over) or off; a disabled endpoint is sent nothing. */
  setEnabled(id: string, enabled: boolean) {
    return this.update(id, { status: enabled ? "enabled" : "disabled" });
  }

  /** Removes it and its delivery log; answers it as it was. */
  remove(id: string) {
    return this.#requests.call(Webhook, "DELETE", this.#one(id));
  }

  /**
   * A new signing secret, shown this once; the current one keeps signing beside it for
   * `overlapSeconds` (24 h when left out, at most 7 days, 0 to stop it at once).
   */
  rotateSecret(id: string, overlapSeconds?: number) {
    const body = overlapSeconds === undefined ? {} : { overlapSeconds };
    return this.#requests.call(IssuedWebhookSecret, "POST", `${this.#one(id)}/rotate-secret`, body);
  }

  /**
   * A page of its delivery log, newest first, each delivery with its tries; only those in
   * `status` if given. Pass the previous page's `nextBefore` as `before` for older ones.
   */
  deliveries(
    id: string,
    options: { status?: DeliveryStatus; before?: string; limit?: number } = {},
  ) {
    return this.#requests.call(
      DeliveryPage,
      "GET",
      `${this.#one(id)}/deliveries${queryOf(options)}`,
    );
  }

  delivery(id: string, deliveryId: string) {
    return this.#requests.call(Delivery, "GET", this.#delivery(id, deliveryId));
  }

  /**
   * Sends a delivery again, with the same `webhook-id` and signed with the current secrets:
   * answers it back at `pending`. The endpoint must be enabled (409 `conflict` otherwise).
   */
  replay(id: string, deliveryId: string) {
    return this.#requests.call(Delivery, "POST", `${this.#delivery(id, deliveryId)}/replay`);
  }

  #one(id: string): string {
    return `${this.#base}/${encodeURIComponent(id)}`;
  }

  #delivery(id: string, deliveryId: string): string {
    return `${this.#one(id)}/deliveries/${encodeURIComponent(deliveryId)}`;
  }
}
