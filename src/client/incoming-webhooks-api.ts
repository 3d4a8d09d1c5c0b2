import type * as z from "zod";
import {
  IncomingHook,
  IncomingHookList,
  IssuedIncomingHook,
  type CreateIncomingHook,
} from "../protocol/index.ts";
import type { ApiRequests } from "./requests.ts";

/**
 * A room's incoming webhooks (docs/integrations.md, "Incoming webhooks"), for its owner and
 * admins (`api.incomingWebhooks(room)`): secret URLs that post Slack-compatible bodies into the
 * room as a bot of the hook's own. Anyone else gets 403 `forbidden` (404 in a private room they
 * cannot see).
 * @example
 * const { hook, url } = await api.incomingWebhooks("ops").create({ name: "CI" });
 * await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"Build #42 passed"}' });
 * await api.incomingWebhooks("ops").revoke(hook.id);
 */
export class IncomingWebhooksApi {
  readonly #requests: ApiRequests;
  readonly #base: string;
  constructor(requests: ApiRequests, room: string) {
    this.#requests = requests;
    this.#base = `/api/rooms/${encodeURIComponent(room)}/incoming-webhooks`;
  }

  /** The room's hooks, oldest first, revoked ones included; never their URLs. */
  list() {
    return this.#requests.call(IncomingHookList, "GET", this.#base);
  }

  /**
   * A new hook named `name` (its messages' author, unless a body says `username`) and its URL,
   * secret included, in `url`: shown this once. 409 `conflict` past 20 working hooks in a room.
   */
  create(input: z.input<typeof CreateIncomingHook>) {
    return this.#requests.call(IssuedIncomingHook, "POST", this.#base, input);
  }

  /** Revokes it at once (its URL answers 404 from now on); answers it with its `revokedAt`. */
  revoke(id: string) {
    return this.#requests.call(IncomingHook, "DELETE", `${this.#base}/${encodeURIComponent(id)}`);
  }
}
