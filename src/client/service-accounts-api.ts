import type * as z from "zod";
import {
  IssuedKey,
  ServiceAccount,
  type CreateService,
  type ServiceScope,
} from "../protocol/index.ts";
import type { ApiRequests } from "./requests.ts";

/**
 * One set of service accounts and their API keys (docs/service-keys.md): every account, for
 * admins (`api.admin.serviceAccounts`, at `/api/admin/services`), or a registered user's own
 * bots (`api.bots`, at `/api/bots`, docs/integrations.md "Bots"). The same calls for both, as the
 * routes are; `List` is the list's answer, `Create` and `Scope` what the set accepts (a bot's
 * scope names its rooms one by one). An account outside the set is 404 `not_found`.
 * @example const { key } = await api.bots.create({ name: "deploybot", scope: { rooms: ["ops"], actions: ["post"], role: "member" } });
 */
export class ServiceAccountsApi<
  List extends z.ZodType,
  Create extends CreateService = CreateService,
  Scope extends ServiceScope = ServiceScope,
> {
  readonly #requests: ApiRequests;
  readonly #base: string;
  readonly #list: List;
  /** `base` is the set's path: `/api/admin/services` or `/api/bots`; `list`, its list's schema. */
  constructor(requests: ApiRequests, base: string, list: List) {
    this.#requests = requests;
    this.#base = base;
    this.#list = list;
  }

  /** the accounts, by name, with their scopes and keys (never a secret). */
  list() {
    return this.#requests.call(this.#list, "GET", this.#base);
  }

  /**
   * a new account and its first key, `ecsk_…`, in `key.secret`: shown this once, stored only
   * as a hash.
   */
  create(input: Create) {
    return this.#requests.call(IssuedKey, "POST", this.#base, input);
  }

  /** one account. */
  get(id: string) {
    return this.#requests.call(ServiceAccount, "GET", `${this.#base}/${id}`);
  }

  /** the account's new scope; its open sockets close and reconnect under it. */
  setScope(id: string, scope: Scope) {
    return this.#requests.call(ServiceAccount, "PATCH", `${this.#base}/${id}`, { scope });
  }

  /** disable (every key stops at once) or enable the account. */
  setDisabled(id: string, disabled: boolean) {
    const verb = disabled ? "disable" : "enable";
    return this.#requests.call(ServiceAccount, "POST", `${this.#base}/${id}/${verb}`);
  }

  /** one more key for the account, shown this once. */
  addKey(id: string) {
    return this.#requests.call(IssuedKey, "POST", `${this.#base}/${id}/keys`);
  }

  /** a new key, the old one working `overlapSeconds` more (default 24 h, at most 30 days). */
  rotateKey(id: string, keyId: string, overlapSeconds?: number) {
    const body = overlapSeconds === undefined ? {} : { overlapSeconds };
    const path = `${this.#base}/${id}/keys/${keyId}/rotate`;
    return this.#requests.call(IssuedKey, "POST", path, body);
  }

  /** revokes a key at once. */
  revokeKey(id: string, keyId: string) {
    return this.#requests.call(ServiceAccount, "DELETE", `${this.#base}/${id}/keys/${keyId}`);
  }

  /** deletes the account: every key stops, its sockets close. */
  delete(id: string) {
    return this.#requests.send("DELETE", `${this.#base}/${id}`);
  }
}
