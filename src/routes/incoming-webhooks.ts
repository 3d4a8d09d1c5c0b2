import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../http/api-error.ts";
import type { AppEnv } from "../http/app-env.ts";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import type { Actor } from "../identity/actor.ts";
import { keyDigest } from "../identity/service-key.ts";
import { newSecret } from "../identity/refresh-token.ts";
import { roomHub } from "../integrations/queue-messages.ts";
import { readIncomingBody, toMessageText } from "../integrations/slack-format.ts";
import { traceparentIn } from "../telemetry/tracing.ts";
import { recordAudit } from "./audit-log.ts";
import {
  CreateIncomingHook,
  IncomingHook,
  IncomingHookId,
  IncomingHookList,
  IssuedIncomingHook,
  refusal,
  RoomName,
} from "../protocol/index.ts";

/**
 * Incoming webhooks (docs/integrations.md): the room's owner makes a secret URL; anyone holding
 * it posts Slack-compatible JSON (or a `payload=` form) into the room, as the hook's bot.
 */
export const incomingWebhooks = router();

const hubOf = (c: Context<AppEnv>, room: string) => c.env.INTEGRATIONS_HUB.getByName(roomHub(room));

async function requireOwner(c: Context<AppEnv>, room: string): Promise<void> {
  const standing = unwrap(await c.env.ROOM.getByName(room).standing(c.var.user));
  const denied = refusal(standing, "integrations");
  if (denied) throw ApiError.from(denied);
}

const RoomOnly = z.object({ room: RoomName });
const OneHook = z.object({ room: RoomName, hook: IncomingHookId });
const BASE = "/api/rooms/{room}/incoming-webhooks";

incomingWebhooks.openapi(
  createRoute({
    method: "get",
    path: BASE,
    summary: "The room's incoming webhooks (never their URLs)",
    ...signedIn,
    request: { params: RoomOnly },
    responses: {
      200: json(IncomingHookList, "oldest first, revoked ones included"),
      ...errors("unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    await requireOwner(c, room);
    return c.json({ hooks: await hubOf(c, room).incomingHooks(roomHub(room)) }, 200);
  },
);

incomingWebhooks.openapi(
  createRoute({
    method: "post",
    path: BASE,
    summary: "Make an incoming webhook: a secret URL that posts into the room",
    description:
      "The answer holds the URL, secret included, this once; only its SHA-256 is stored. Its " +
      "messages come from a bot of the hook's own (kind `service`) named `name`, or the body's " +
      "`username`.",
    ...signedIn,
    request: { params: RoomOnly, ...jsonBody(CreateIncomingHook) },
    responses: {
      201: json(IssuedIncomingHook, "made; the URL is shown this once"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    await requireOwner(c, room);
    const id = `ih_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
    const secret = newSecret();
    const hook = unwrap(
      await hubOf(c, room).createIncomingHook(
        roomHub(room),
        id,
        c.req.valid("json").name,
        await keyDigest(secret),
        { id: c.var.user.id, name: c.var.user.name },
      ),
    );
    const url = new URL(`/api/hooks/${room}/${id}/${secret}`, c.req.url).href;
    recordAudit(c, {
      action: "incoming_webhook.created",
      actor: c.var.user,
      target: { room, user: hook.botId },
      data: { hook: id, name: hook.name },
    });
    return c.json({ hook, url }, 201);
  },
);

incomingWebhooks.openapi(
  createRoute({
    method: "delete",
    path: `${BASE}/{hook}`,
    summary: "Revoke an incoming webhook: its URL answers 404 from now on",
    ...signedIn,
    request: { params: OneHook },
    responses: {
      200: json(IncomingHook, "the hook, revoked"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room, hook } = c.req.valid("param");
    await requireOwner(c, room);
    const revoked = unwrap(await hubOf(c, room).revokeIncomingHook(roomHub(room), hook));
    recordAudit(c, {
      action: "incoming_webhook.revoked",
      actor: c.var.user,
      target: { room, user: revoked.botId },
      data: { hook, name: revoked.name },
    });
    return c.json(revoked, 200);
  },
);

const Secret = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
/** What a caller may send to make a post idempotent (a retried CI step posts once). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,40}$/;

const HookPath = z.object({ room: RoomName, hook: IncomingHookId, secret: Secret });

incomingWebhooks.openAPIRegistry.registerPath({
  method: "post",
  path: "/api/hooks/{room}/{hook}/{secret}",
  summary: "Post into a room through an incoming webhook (Slack-compatible)",
  description:
    "The body is Slack's incoming-webhook JSON (`text`, `blocks`, `attachments`, `username`; " +
    "`application/json`), or a form with a `payload` field holding it. What maps to a message " +
    "is in docs/integrations.md. Answers `ok` (text/plain) as Slack does. An `Idempotency-Key` " +
    "header (1 to 40 visible ASCII characters) makes a retried request post once (24 h). The " +
    "room's per-user rate limit applies to the hook's bot (429 with Retry-After).",
  request: {
    params: HookPath,
    body: {
      content: {
        "application/json": { schema: z.object({ text: z.string().optional() }).passthrough() },
        "application/x-www-form-urlencoded": { schema: z.object({ payload: z.string() }) },
      },
    },
  },
  responses: {
    200: { description: "posted", content: { "text/plain": { schema: z.literal("ok") } } },
    ...errors("bad_request", "not_found", "too_large", "rate_limited"),
  },
});

// Not validated by the OpenAPI layer: the body is read as Slack's readers do (slack-format.ts).
incomingWebhooks.post("/api/hooks/:room/:hook/:secret", async (c) => {
  const path = HookPath.safeParse(c.req.param());
  if (!path.success) throw new ApiError("not_found", "no such incoming webhook");
  const { room, hook: id, secret } = path.data;
  const hook = await hubOf(c, room).verifyIncomingHook(roomHub(room), id, await keyDigest(secret));
  if (!hook) throw new ApiError("not_found", "no such incoming webhook (it may have been revoked)");
  const read = readIncomingBody(c.req.header("content-type") ?? null, await c.req.text());
  if (!read.ok) throw new ApiError("bad_request", read.reason);
  const message = toMessageText(read.body);
  if (!message.ok) throw new ApiError("bad_request", `${message.code}: ${message.reason}`);
  const key = c.req.header("idempotency-key");
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
    throw new ApiError("bad_request", "Idempotency-Key is 1 to 40 visible ASCII characters");
  const bot: Actor = {
    id: hook.botId,
    name: message.username ?? hook.name,
    kind: "service",
    scope: { rooms: [room], actions: ["post"], role: "member" },
  };
  const clientId = key === undefined ? crypto.randomUUID() : `hook:${id}:${key}`;
  const { requestId } = c.var.telemetry;
  unwrap(
    await c.env.ROOM.getByName(room).command(
      { type: "post", clientId, text: message.text },
      bot,
      traceparentIn(c.var.telemetry.scope),
      requestId,
    ),
  );
  return c.text("ok", 200);
});
