import {
  BotList,
  IssuedKey,
  ServiceAccount,
  type BotScope,
  type CreateBot,
} from "../protocol/index.ts";
import type { ApiRequests } from "./requests.ts";

/**
 * A registered user's own bots (`/api/bots`, docs/integrations.md "Bots"): service accounts in
 * rooms they own, with API keys. Someone else's bot is 404 `not_found`; guests and service keys
 * get 403 `forbidden`.
 * @example const { key } = await api.bots.create({ name: "deploybot", scope: { rooms: ["ops"], actions: ["post"], role: "member" } });
 */
export class BotsApi {
  readonly #requests: ApiRequests;
  constructor(requests: ApiRequests) {
    this.#requests = requests;
  }

  /** your bots, by name, with their scopes and keys (never a secret), and how many you may have. */
  list() {
    return this.#requests.call(BotList, "GET", "/api/bots");
  }

  /**
   * a new bot and its first key, `ecsk_…`, in `key.secret`: shown this once, stored only as
   * a hash. Every room of its scope must be one you own.
   */
  create(input: CreateBot) {
    return this.#requests.call(IssuedKey, "POST", "/api/bots", input);
  }

  /** one of your bots. */
  get(id: string) {
    return this.#requests.call(ServiceAccount, "GET", `/api/bots/${id}`);
  }

  /** your bot's new scope (rooms you own now); its open sockets close and reconnect under it. */
  setScope(id: string, scope: BotScope) {
    return this.#requests.call(ServiceAccount, "PATCH", `/api/bots/${id}`, { scope });
  }

  /** disable (every key stops at once) or enable your bot. */
  setDisabled(id: string, disabled: boolean) {
    const verb = disabled ? "disable" : "enable";
    return this.#requests.call(ServiceAccount, "POST", `/api/bots/${id}/${verb}`);
  }

  /** one more key for your bot, shown this once. */
  addKey(id: string) {
    return this.#requests.call(IssuedKey, "POST", `/api/bots/${id}/keys`);
  }

  /** a new key, the old one working `overlapSeconds` more (default 24 h, at most 30 days). */
  rotateKey(id: string, keyId: string, overlapSeconds?: number) {
    const body = overlapSeconds === undefined ? {} : { overlapSeconds };
    return this.#requests.call(IssuedKey, "POST", `/api/bots/${id}/keys/${keyId}/rotate`, body);
  }

  /** revokes your bot's key at once. */
  revokeKey(id: string, keyId: string) {
    return this.#requests.call(ServiceAccount, "DELETE", `/api/bots/${id}/keys/${keyId}`);
  }

  /** deletes your bot: every key stops, its sockets close. */
  delete(id: string) {
    return this.#requests.send("DELETE", `/api/bots/${id}`);
  }
}
