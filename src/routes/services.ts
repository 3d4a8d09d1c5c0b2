import { bearer, router } from "../http/openapi.ts";
import { CreateService, ServiceList, UpdateScope } from "../protocol/index.ts";
import { mount } from "./service-accounts.ts";

/**
 * Service accounts and their API keys, for instance admins (docs/service-keys.md): every
 * account, whoever owns it, with any scope (`"*"` too). Mounted by admin.ts behind its
 * admins-only middleware; the routes themselves are service-accounts.ts's, as the bots' are.
 * Users manage their own bots, the same accounts, at bots.ts.
 */
export const services = router();

mount({
  router: services,
  base: "/api/admin/services",
  auth: { security: bearer },
  owner: () => undefined,
  kind: "service",
  schemas: { list: ServiceList, create: CreateService, update: UpdateScope },
  listed: (accounts) => ({ services: accounts }),
  words: {
    list: {
      summary: "The service accounts, with their scopes and keys",
      description:
        "Each key with its id, status, and when it was created, expires, was revoked and last " +
        "used (written at most once a minute). Never a secret or its hash.",
      answer: "the service accounts, by name",
    },
    create: {
      summary: "Create a service account and its first key",
      description:
        "The answer holds the key, `ecsk_<id>_<secret>`, this once: it is stored only as a " +
        'hash. The scope names rooms (or `"*"`), actions (those a moderator may take at most) ' +
        "and a role (member or moderator).",
    },
    one: "One service account",
    it: "a service account",
    key: "a key",
    answer: "the service account",
    scopeChange:
      "Takes effect at the next request; the service's open sockets close (4401) and reconnect " +
      "under the new scope.",
  },
});
