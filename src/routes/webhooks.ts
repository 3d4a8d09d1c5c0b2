import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../http/api-error.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { signedIn } from "../http/authenticate.ts";
import { bearer, errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { INSTANCE_HUB, roomHub, type HubName } from "../integrations/queue-messages.ts";
import { recordAudit } from "./audit-log.ts";
import { checkOutboundUrl } from "../integrations/outbound-url.ts";
import {
  type AuditAction,
  type AuditData,
  CreateWebhook,
  Delivery,
  DeliveryId,
  DeliveryPage,
  DeliveryQuery,
  IssuedWebhookSecret,
  refusal,
  RoomName,
  RotateWebhookSecret,
  UpdateWebhook,
  Webhook,
  WebhookId,
  WebhookList,
} from "../protocol/index.ts";

/**
 * Outgoing webhooks (docs/integrations.md): a room's, for its owner (and admins), at
 * `/api/rooms/{room}/webhooks`; the instance's, for admins, at `/api/admin/webhooks` (mounted by
 * admin.ts behind its admins-only middleware). The same routes for both, on the hub each names.
 */
export const roomWebhooks = router();
export const instanceWebhooks = router();

type Scope = {
  router: typeof roomWebhooks;
  base: string;
  params: z.ZodObject;
  /** The hub the request is about, once its caller may manage it. */
  hub: (c: Context<AppEnv>) => Promise<HubName>;
  auth: { security: typeof bearer; middleware?: typeof signedIn.middleware };
  what: string;
};

const ROOM: Scope = {
  router: roomWebhooks,
  base: "/api/rooms/{room}/webhooks",
  params: z.object({ room: RoomName }),
  hub: async (c) => {
    const room = c.req.param("room")!;
    const standing = unwrap(await c.env.ROOM.getByName(room).standing(c.var.user));
    const denied = refusal(standing, "integrations");
    if (denied) throw ApiError.from(denied);
    return roomHub(room);
  },
  auth: signedIn,
  what: "the room's",
};

const INSTANCE: Scope = {
  router: instanceWebhooks,
  base: "/api/admin/webhooks",
  params: z.object({}),
  hub: async () => INSTANCE_HUB,
  auth: { security: bearer },
  what: "the instance's (every room's events)",
};

const hubOf = (c: Context<AppEnv>, hub: HubName) => c.env.INTEGRATIONS_HUB.getByName(hub);

/** The URL guard, with the deployment's loopback setting: a 400 that names the rule. */
function checkedUrl(c: Context<AppEnv>, url: string): string {
  const checked = checkOutboundUrl(url, { allowLoopback: settings(c).WEBHOOK_ALLOW_LOOPBACK });
  if (!checked.ok) throw new ApiError("bad_request", `url: ${checked.reason}`);
  return checked.url.href;
}

/** The room's events now go to its hub's endpoints: tell the room which types they want. */
export async function tellRoom(c: Context<AppEnv>, hub: HubName): Promise<void> {
  if (hub === INSTANCE_HUB) return;
  const types = await hubOf(c, hub).wantedTypes(hub);
  await c.env.ROOM.getByName(hub.slice("room:".length)).setIntegrationTypes(types);
}

/**
 * Records a change to a webhook in the instance audit log: the room (none for the instance's),
 * the webhook's id and its URL's host (a whole URL may carry a receiver's token).
 */
function record(
  c: Context<AppEnv>,
  hub: HubName,
  action: AuditAction,
  webhook: Pick<Webhook, "id" | "url">,
  data: AuditData = {},
): void {
  recordAudit(c, {
    action,
    actor: c.var.user,
    ...(hub !== INSTANCE_HUB && { target: { room: hub.slice("room:".length) } }),
    data: { webhook: webhook.id, host: new URL(webhook.url).host, ...data },
  });
}

const One = z.object({ webhook: WebhookId });
const OneDelivery = z.object({ webhook: WebhookId, delivery: DeliveryId });

function mount(scope: Scope): void {
  const { router: r, base } = scope;
  const one = `${base}/{webhook}`;
  const params = (extra: z.ZodObject) => scope.params.extend(extra.shape);

  r.openapi(
    createRoute({
      method: "get",
      path: base,
      summary: `List ${scope.what} outgoing webhooks`,
      ...scope.auth,
      request: { params: scope.params },
      responses: {
        200: json(WebhookList, "the endpoints, oldest first; never a secret"),
        ...errors("unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      return c.json({ webhooks: await hubOf(c, hub).webhooks(hub) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: "post",
      path: base,
      summary: `Add an outgoing webhook to ${scope.what} events`,
      description:
        "The answer holds the signing secret (`whsec_…`) this once. Deliveries are signed per " +
        "Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The URL must " +
        "be https and public: private, loopback and link-local addresses are refused.",
      ...scope.auth,
      request: { params: scope.params, ...jsonBody(CreateWebhook) },
      responses: {
        201: json(IssuedWebhookSecret, "created; the secret is shown this once"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      const input = c.req.valid("json");
      const created = unwrap(
        await hubOf(c, hub).createWebhook(
          hub,
          { ...input, url: checkedUrl(c, input.url) },
          {
            id: c.var.user.id,
            name: c.var.user.name,
          },
        ),
      );
      await tellRoom(c, hub);
      record(c, hub, "webhook.created", created.webhook, { types: typesOf(created.webhook) });
      return c.json(created, 201);
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: one,
      summary: "One outgoing webhook",
      ...scope.auth,
      request: { params: params(One) },
      responses: {
        200: json(Webhook, "the endpoint"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      return c.json(unwrap(await hubOf(c, hub).webhook(hub, c.req.param("webhook")!)), 200);
    },
  );

  r.openapi(
    createRoute({
      method: "patch",
      path: one,
      summary: "Change an outgoing webhook: its URL, event types, description, or status",
      description:
        "`status: enabled` turns a disabled endpoint back on, its failure count starting over; " +
        "replay the deliveries it missed from its delivery log.",
      ...scope.auth,
      request: { params: params(One), ...jsonBody(UpdateWebhook) },
      responses: {
        200: json(Webhook, "the endpoint"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      const patch = c.req.valid("json");
      const url = patch.url === undefined ? {} : { url: checkedUrl(c, patch.url) };
      const webhook = c.req.param("webhook")!;
      const updated = unwrap(await hubOf(c, hub).updateWebhook(hub, webhook, { ...patch, ...url }));
      await tellRoom(c, hub);
      record(c, hub, "webhook.changed", updated, {
        types: typesOf(updated),
        status: updated.status,
      });
      return c.json(updated, 200);
    },
  );

  r.openapi(
    createRoute({
      method: "delete",
      path: one,
      summary: "Remove an outgoing webhook and its delivery log",
      ...scope.auth,
      request: { params: params(One) },
      responses: {
        200: json(Webhook, "the endpoint as it was"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      const removed = unwrap(await hubOf(c, hub).deleteWebhook(hub, c.req.param("webhook")!));
      await tellRoom(c, hub);
      record(c, hub, "webhook.deleted", removed);
      return c.json(removed, 200);
    },
  );

  r.openapi(
    createRoute({
      method: "post",
      path: `${one}/rotate-secret`,
      summary: "Rotate an outgoing webhook's signing secret",
      description:
        "A new secret, shown this once; the current one keeps signing beside it (two " +
        "`v1,` signatures in `webhook-signature`) for `overlapSeconds` (24 h by default, at " +
        "most 7 days), so that the receiver can switch without losing a delivery.",
      ...scope.auth,
      request: { params: params(One), ...jsonBody(RotateWebhookSecret) },
      responses: {
        201: json(IssuedWebhookSecret, "the new secret, shown this once"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      const { overlapSeconds } = c.req.valid("json");
      const webhook = c.req.param("webhook")!;
      const rotated = unwrap(await hubOf(c, hub).rotateSecret(hub, webhook, overlapSeconds));
      record(c, hub, "webhook.secret_rotated", rotated.webhook, { overlapSeconds });
      return c.json(rotated, 201);
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: `${one}/deliveries`,
      summary: "An outgoing webhook's delivery log, newest first",
      description:
        "Each delivery with its status and every try (time, HTTP status or error, duration, the " +
        "first 1 KiB of the answer). Kept 7 days, at most 10,000 per room.",
      ...scope.auth,
      request: { params: params(One), query: DeliveryQuery },
      responses: {
        200: json(DeliveryPage, "a page of deliveries"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      const webhook = c.req.param("webhook")!;
      return c.json(
        unwrap(await hubOf(c, hub).deliveries(hub, webhook, c.req.valid("query"))),
        200,
      );
    },
  );

  r.openapi(
    createRoute({
      method: "get",
      path: `${one}/deliveries/{delivery}`,
      summary: "One delivery and its tries",
      ...scope.auth,
      request: { params: params(OneDelivery) },
      responses: {
        200: json(Delivery, "the delivery"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      const webhook = c.req.param("webhook")!;
      const delivery = c.req.param("delivery")!;
      return c.json(unwrap(await hubOf(c, hub).delivery(hub, webhook, delivery)), 200);
    },
  );

  r.openapi(
    createRoute({
      method: "post",
      path: `${one}/deliveries/{delivery}/replay`,
      summary: "Send a delivery again",
      description:
        "With the same `webhook-id`, so that a receiver that dedupes on it applies it once; " +
        "signed anew with the current secrets. The endpoint must be enabled.",
      ...scope.auth,
      request: { params: params(OneDelivery) },
      responses: {
        202: json(Delivery, "queued again (status pending)"),
        ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
      },
    }),
    async (c) => {
      const hub = await scope.hub(c);
      const webhook = c.req.param("webhook")!;
      const delivery = c.req.param("delivery")!;
      const replayed = unwrap(await hubOf(c, hub).replay(hub, webhook, delivery));
      const url = unwrap(await hubOf(c, hub).webhook(hub, webhook)).url;
      record(c, hub, "webhook.replayed", { id: webhook, url }, { delivery });
      return c.json(replayed, 202);
    },
  );
}

mount(ROOM);
mount(INSTANCE);

/** The event types as one short audit field. */
const typesOf = (webhook: Webhook) =>
  webhook.eventTypes === "*" ? "*" : webhook.eventTypes.join(",");
