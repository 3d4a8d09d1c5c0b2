import { BotList, type BotScope, type CreateBot } from "../protocol/index.ts";
import type { ApiRequests } from "./requests.ts";
import { ServiceAccountsApi } from "./service-accounts-api.ts";

/**
 * A registered user's own bots (`/api/bots`, docs/integrations.md "Bots"): service accounts in
 * rooms they own, with API keys; the calls of every set of service accounts
 * (service-accounts-api.ts). `list()` says how many you may have (`max`); every room of a scope
 * must be one you own. Someone else's bot is 404 `not_found`; guests and service keys get 403
 * `forbidden`.
 * @example const { key } = await api.bots.create({ name: "deploybot", scope: { rooms: ["ops"], actions: ["post"], role: "member" } });
 */
export class BotsApi extends ServiceAccountsApi<typeof BotList, CreateBot, BotScope> {
  constructor(requests: ApiRequests) {
    super(requests, "/api/bots", BotList);
  }
}
