import { ApiError, type Delivery, type DeliveryStatus, type Webhook } from "../../client/index.ts";
import { poll } from "../admin/poll.ts";
import { errorText } from "../context.ts";
import { h, replace } from "../dom.ts";
import type { WebhookScope } from "./scope.ts";
import {
  attemptText,
  clockText,
  DELIVERY_STATUSES,
  deliveryChanged,
  deliveryDetail,
  mergeRefresh,
  replayable,
} from "./webhook-rules.ts";

const PAGE = 20;
/** The API's largest page: a refresh asks for as many as are shown, up to this. */
const MAX_PAGE = 100;
const REFRESH_MS = 3_000;

/** One delivery in the log, changed in place so that its open tries and focus survive refreshes. */
class DeliveryItem {
  readonly el: HTMLLIElement;
  delivery: Delivery;
  readonly #badge = h("span", { class: "badge", "data-testid": "delivery-status" });
  readonly #detail = h("p", { class: "hint delivery-detail", "data-testid": "delivery-detail" });
  readonly #summary = h("summary", { "data-testid": "delivery-tries" });
  readonly #tries = h("ol", { class: "tries" });
  readonly #replay: HTMLButtonElement;

  constructor(
    delivery: Delivery,
    showRoom: boolean,
    replay: (item: DeliveryItem) => void,
    openTries: Set<string>,
  ) {
    this.delivery = delivery;
    // Open tries stay open when the filter draws the delivery again.
    const tries = h("details", { open: openTries.has(delivery.id) }, this.#summary, this.#tries);
    tries.addEventListener("toggle", () =>
      tries.open ? openTries.add(delivery.id) : openTries.delete(delivery.id),
    );
    this.#replay = h(
      "button",
      { type: "button", "data-testid": "delivery-replay", on: { click: () => replay(this) } },
      "Replay",
    );
    const created = new Date(delivery.createdAt);
    this.el = h(
      "li",
      { class: "delivery", "data-delivery": delivery.id },
      h(
        "div",
        { class: "delivery-line" },
        this.#badge,
        h("span", { class: "mono" }, delivery.eventType),
        h(
          "span",
          { class: "hint" },
          showRoom ? `#${delivery.room} · event ${delivery.seq}` : `event ${delivery.seq}`,
        ),
        h(
          "time",
          { datetime: created.toISOString(), title: created.toLocaleString() },
          clockText(delivery.createdAt),
        ),
      ),
      h("div", { class: "row delivery-actions" }, this.#detail, this.#replay),
      tries,
    );
    this.#draw(Date.now());
  }

  update(delivery: Delivery, now: number): void {
    const changed = deliveryChanged(this.delivery, delivery);
    this.delivery = delivery;
    if (changed) this.#draw(now);
    // The next try's "in 3 s" moves on by itself.
    else this.#detail.textContent = deliveryDetail(delivery, now);
  }

  #draw(now: number): void {
    const d = this.delivery;
    this.el.dataset.status = d.status;
    this.#badge.textContent = d.status;
    this.#badge.className = `badge delivery-${d.status}`;
    this.#detail.textContent = deliveryDetail(d, now);
    this.#summary.textContent = `Tries (${d.attempts.length})`;
    this.#replay.hidden = !replayable(d.status);
    this.#replay.setAttribute("aria-label", `Replay ${d.eventType} event ${d.seq}`);
    // Newest try first, like the log. The receiver's answer is shown as text, never as HTML.
    replace(
      this.#tries,
      ...d.attempts
        .toReversed()
        .map((attempt) =>
          h(
            "li",
            { "data-testid": "delivery-try" },
            h(
              "span",
              { class: "try-line" },
              h("time", { datetime: new Date(attempt.at).toISOString() }, clockText(attempt.at)),
              ` · ${attemptText(attempt)}`,
            ),
            attempt.response
              ? h("pre", { class: "answer", "data-testid": "delivery-answer" }, attempt.response)
              : null,
          ),
        ),
      d.attempts.length ? null : h("li", { class: "hint" }, "No try yet."),
    );
  }
}

/**
 * One endpoint's delivery log (docs/integrations.md), newest first: a badge per status, what
 * happens next, each try with the receiver's answer, Replay; filtered by status, paged with
 * "Older", refreshed every 3 s while shown and the tab is visible (admin/poll.ts). Each refresh
 * also reports the endpoint itself (`onWebhook`), whose failures and status move with the log.
 */
export class DeliveryLogView {
  readonly el: HTMLElement;
  readonly #scope: WebhookScope;
  readonly #webhookId: string;
  readonly #onWebhook: (webhook: Webhook) => void;
  readonly #items = new Map<string, DeliveryItem>();
  readonly #openTries = new Set<string>();
  readonly #list = h("ol", { class: "deliveries", "data-testid": "deliveries" });
  readonly #filter: HTMLSelectElement;
  readonly #older = h(
    "button",
    { type: "button", "data-testid": "deliveries-older", hidden: true },
    "Older deliveries",
  );
  readonly #empty = h("p", { class: "hint", "data-testid": "deliveries-empty", hidden: true });
  // Not a live region: announcing it every 3 s would drown a screen reader.
  readonly #updated = h("span", { class: "hint", "data-testid": "deliveries-updated" });
  readonly #error = h("p", {
    class: "error",
    role: "alert",
    "data-testid": "deliveries-error",
    hidden: true,
  });
  readonly #poller: ReturnType<typeof poll>;
  #shown: { deliveries: Delivery[]; nextBefore: string | null } = {
    deliveries: [],
    nextBefore: null,
  };
  /** Bumped when the filter changes: answers to the old filter are dropped. */
  #generation = 0;

  constructor(scope: WebhookScope, webhook: Webhook, onWebhook: (webhook: Webhook) => void) {
    this.#scope = scope;
    this.#webhookId = webhook.id;
    this.#onWebhook = onWebhook;
    const filterId = `deliveries-filter-${webhook.id}`;
    this.#filter = h(
      "select",
      {
        id: filterId,
        "data-testid": "deliveries-filter",
        on: { change: () => this.#restart() },
      },
      h("option", { value: "" }, "All"),
      ...DELIVERY_STATUSES.map((status) => h("option", { value: status }, status)),
    );
    this.#older.addEventListener("click", () => void this.#more());
    this.el = h(
      "section",
      {
        class: "delivery-log",
        "aria-label": `Deliveries to ${webhook.url}`,
        "data-testid": "delivery-log",
      },
      h(
        "div",
        { class: "row log-controls" },
        h("h4", {}, "Deliveries"),
        h("label", { for: filterId }, "Status"),
        this.#filter,
        h(
          "button",
          {
            type: "button",
            "data-testid": "deliveries-refresh",
            on: { click: () => this.#poller.now() },
          },
          "Refresh",
        ),
        this.#updated,
      ),
      this.#error,
      this.#empty,
      this.#list,
      this.#older,
    );
    this.#poller = poll(() => this.#refresh(), REFRESH_MS);
  }

  /** Stops the refreshes (the log was closed, or the screen went). */
  dispose(): void {
    this.#poller.dispose();
  }

  /** Fetches the newest page again, as long as what is shown, and the endpoint; false stops. */
  async #refresh(): Promise<boolean> {
    const generation = this.#generation;
    const limit = Math.min(MAX_PAGE, Math.max(PAGE, this.#shown.deliveries.length));
    try {
      const [page, webhook] = await this.#scope.call((hooks) =>
        Promise.all([
          hooks.deliveries(this.#webhookId, { status: this.#status(), limit }),
          hooks.get(this.#webhookId),
        ]),
      );
      if (generation !== this.#generation) return true;
      this.#onWebhook(webhook);
      this.#show(mergeRefresh(this.#shown, page.deliveries, page.nextBefore));
      this.#error.hidden = true;
      this.#updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every 3 s.`;
      return true;
    } catch (error) {
      return this.#fail(error);
    }
  }

  async #more(): Promise<void> {
    const before = this.#shown.nextBefore;
    if (before === null) return;
    const generation = this.#generation;
    try {
      const page = await this.#scope.call((hooks) =>
        hooks.deliveries(this.#webhookId, { status: this.#status(), before, limit: PAGE }),
      );
      if (generation !== this.#generation) return;
      const known = new Set(this.#shown.deliveries.map((d) => d.id));
      this.#show({
        deliveries: [...this.#shown.deliveries, ...page.deliveries.filter((d) => !known.has(d.id))],
        nextBefore: page.nextBefore,
      });
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Another filter: the log starts over. */
  #restart(): void {
    this.#generation++;
    this.#show({ deliveries: [], nextBefore: null });
    this.#empty.hidden = true;
    // At once, even while a refresh of the old filter is under way (its answer is dropped).
    void this.#refresh();
  }

  #status(): DeliveryStatus | undefined {
    return (this.#filter.value || undefined) as DeliveryStatus | undefined;
  }

  /**
   * Draws `shown`, keyed by delivery: items that stay are changed in place and never moved (a
   * refresh only adds newer ones above), so that keyboard focus and open tries stay put.
   */
  #show(shown: { deliveries: Delivery[]; nextBefore: string | null }): void {
    this.#shown = shown;
    const now = Date.now();
    const ids = new Set(shown.deliveries.map((d) => d.id));
    for (const [id, item] of this.#items)
      if (!ids.has(id)) {
        item.el.remove();
        this.#items.delete(id);
      }
    let next: ChildNode | null = this.#list.firstChild;
    for (const delivery of shown.deliveries) {
      let item = this.#items.get(delivery.id);
      if (item) item.update(delivery, now);
      else {
        item = new DeliveryItem(
          delivery,
          this.#scope.instance,
          (it) => void this.#replay(it),
          this.#openTries,
        );
        this.#items.set(delivery.id, item);
      }
      if (item.el === next) next = next.nextSibling;
      else this.#list.insertBefore(item.el, next);
    }
    this.#older.hidden = shown.nextBefore === null;
    const status = this.#status();
    this.#empty.textContent = status ? `No ${status} deliveries.` : "No deliveries yet.";
    this.#empty.hidden = shown.deliveries.length > 0;
  }

  async #replay(item: DeliveryItem): Promise<void> {
    const { id } = item.delivery;
    try {
      const queued = await this.#scope.call((hooks) => hooks.replay(this.#webhookId, id));
      item.update(queued, Date.now());
      this.#error.hidden = true;
      this.#poller.now();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Shows why a call failed; answers whether refreshing still makes sense. */
  #fail(error: unknown): boolean {
    if (this.#scope.signedOut(error)) return false;
    this.#error.textContent = errorText(error);
    this.#error.hidden = false;
    // Gone, or no longer yours: asking again every 3 s would only repeat it.
    return !(error instanceof ApiError && (error.status === 403 || error.status === 404));
  }
}
