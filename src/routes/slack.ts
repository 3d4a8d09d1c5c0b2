import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../http/api-error.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { bearer, errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { INSTANCE_HUB, roomHub } from "../integrations/queue-messages.ts";
import { slackSettings, type SlackSettings } from "../integrations/slack-bridge.ts";
import { readSlackRequest } from "../integrations/slack-events.ts";
import { verifySlackRequest } from "../integrations/slack-signature.ts";
import type { LinkRow } from "../integrations/slack-tables.ts";
import {
  CreateSlackLink,
  SlackChannelId,
  SlackLink,
  SlackLinkList,
  type SlackLink as SlackLinkType,
} from "../protocol/index.ts";
import { recordAudit } from "./audit-log.ts";
import { tellRoom } from "./webhooks.ts";

/**
 * The Slack bridge (docs/integrations.md, "Slack bridge"): Slack's Events API endpoint, and the
 * links between Slack channels and rooms for instance admins (mounted by admin.ts behind its
 * admins-only middleware). Off (404) unless SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN are set.
 */
export const slackEvents = router();
export const slackLinks = router();

export const SLACK_EVENTS_PATH = "/api/slack/events";
/**
 * The largest event body taken, above the API's 64 KiB: an edit carries the message twice
 * (`message` and `previous_message`), each up to Slack's 40,000 characters and its blocks.
 */
export const SLACK_EVENT_MAX_BYTES = 1024 * 1024;

/** The bridge's settings, or the 404 of a bridge that is off. */
function bridgeOn(c: Context<AppEnv>): SlackSettings {
  const slack = slackSettings(settings(c));
  if (!slack)
    throw new ApiError(
      "not_found",
      "the Slack bridge is off: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN to turn it on",
    );
  return slack;
}

const REFUSALS = {
  missing_headers: "X-Slack-Request-Timestamp and X-Slack-Signature are required",
  stale: "X-Slack-Request-Timestamp is more than 300 s from now",
  bad_signature: "X-Slack-Signature does not match the body",
} as const;

slackEvents.openAPIRegistry.registerPath({
  method: "post",
  path: SLACK_EVENTS_PATH,
  summary: "Slack's Events API: a linked channel's messages, into its room",
  description:
    "The Slack app's request URL (slack/manifest.yml). Each request is checked against " +
    "`X-Slack-Signature` (`v0=` HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` with " +
    "the app's signing secret, the timestamp within 300 s): 401 otherwise. `url_verification` is " +
    "answered with its challenge; an `event_callback` is put on the integrations queue and " +
    "acknowledged at once (Slack wants a 2xx within 3 s), carried out after, once per " +
    "`event_id` however often Slack retries it. Bodies up to 1 MiB. 404 while the bridge is off.",
  request: {
    headers: z.object({
      "x-slack-request-timestamp": z.string().regex(/^\d+$/),
      "x-slack-signature": z.string().regex(/^v0=[0-9a-f]{64}$/),
    }),
    body: {
      content: {
        "application/json": {
          schema: z
            .object({
              type: z.enum(["url_verification", "event_callback"]),
              challenge: z.string().optional(),
              event_id: z.string().optional(),
              event: z.object({ type: z.string() }).passthrough().optional(),
            })
            .passthrough(),
        },
      },
    },
  },
  responses: {
    200: {
      description: "acknowledged (empty), or the url_verification's challenge",
      content: { "application/json": { schema: z.object({ challenge: z.string() }) } },
    },
    ...errors("bad_request", "unauthorized", "not_found", "too_large"),
  },
});

// Not validated by the OpenAPI layer: the signature is over the raw body, read as it came.
slackEvents.post(
  SLACK_EVENTS_PATH,
  bodyLimit({
    maxSize: SLACK_EVENT_MAX_BYTES,
    onError: () => {
      throw new ApiError("too_large", `a Slack event is at most ${SLACK_EVENT_MAX_BYTES} bytes`);
    },
  }),
  async (c) => {
    const slack = bridgeOn(c);
    const raw = await c.req.text();
    const verdict = await verifySlackRequest({
      signingSecret: slack.signingSecret,
      headers: c.req.raw.headers,
      rawBody: raw,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    if (!verdict.ok) throw new ApiError("unauthorized", REFUSALS[verdict.reason]);
    const read = readSlackRequest(parseJson(raw));
    switch (read.kind) {
      case "url_verification":
        return c.json({ challenge: read.challenge }, 200);
      case "invalid":
        throw new ApiError("bad_request", read.reason);
      case "ignored":
        return c.body(null, 200);
      case "event":
        // Acknowledged now; the consumer does the rest (slack-consumer.ts).
        await c.env.INTEGRATIONS.send({ kind: "slack-in", inbound: read.inbound });
        return c.body(null, 200);
    }
  },
);

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ApiError("bad_request", "the body is not JSON");
  }
}

// ---- links, for instance admins

const LINKS = "/api/admin/slack/links";
const hubOf = (c: Context<AppEnv>, hub: string) => c.env.INTEGRATIONS_HUB.getByName(hub);

/** A link as admins see it: the instance's row, with its room's hub's last message and error. */
async function withStatus(c: Context<AppEnv>, link: LinkRow): Promise<SlackLinkType> {
  const hub = roomHub(link.room);
  const status = await hubOf(c, hub).slackLink(hub);
  return {
    channel: link.channel,
    room: link.room,
    createdBy: link.createdBy,
    createdAt: link.createdAt,
    lastMessageAt: status?.lastMessageAt ?? null,
    lastError: status?.lastError ?? null,
  };
}

slackLinks.openapi(
  createRoute({
    method: "get",
    path: LINKS,
    summary: "The Slack bridge's links: each Slack channel and its room",
    description: "With when a message last crossed and the last failure (Slack's error code).",
    security: bearer,
    responses: {
      200: json(SlackLinkList, "the links, oldest first"),
      ...errors("unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    bridgeOn(c);
    const rows = await hubOf(c, INSTANCE_HUB).slackLinks();
    return c.json({ links: await Promise.all(rows.map((row) => withStatus(c, row))) }, 200);
  },
);

slackLinks.openapi(
  createRoute({
    method: "post",
    path: LINKS,
    summary: "Link a Slack channel to a room: their messages flow both ways",
    description:
      "One room per channel and one channel per room (409 otherwise); the room must exist. " +
      "Messages from now on are mirrored, with their edits, deletes and thread replies; older " +
      "ones are not. Invite the bot to the channel first (`/invite @edgechat`).",
    security: bearer,
    request: jsonBody(CreateSlackLink),
    responses: {
      201: json(SlackLink, "linked"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    bridgeOn(c);
    const { channel, room } = c.req.valid("json");
    const roomStub = c.env.ROOM.getByName(room);
    unwrap(await roomStub.info(c.var.user));
    const instance = hubOf(c, INSTANCE_HUB);
    const link = unwrap(
      await instance.createSlackLink({
        channel,
        room,
        createdBy: { id: c.var.user.id, name: c.var.user.name },
        createdAt: Date.now(),
        // Messages up to here came before the link: they are not mirrored, nor their edits.
        linkedSeq: (await roomStub.backlog()).lastSeq,
      }),
    );
    const hub = roomHub(room);
    try {
      await hubOf(c, hub).setSlackLink(hub, link);
      await tellRoom(c, hub);
    } catch (error) {
      // Both directions or neither: the channel is free again.
      await instance.removeSlackLink(channel);
      throw error;
    }
    recordAudit(c, {
      action: "slack.linked",
      actor: c.var.user,
      target: { room },
      data: { channel },
    });
    return c.json(await withStatus(c, link), 201);
  },
);

slackLinks.openapi(
  createRoute({
    method: "delete",
    path: `${LINKS}/{channel}`,
    summary: "Unlink a Slack channel from its room",
    description: "Nothing more crosses; messages already mirrored stay on both sides.",
    security: bearer,
    request: { params: z.object({ channel: SlackChannelId }) },
    responses: {
      200: json(SlackLink, "the link as it was"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    bridgeOn(c);
    const { channel } = c.req.valid("param");
    const removed = unwrap(await hubOf(c, INSTANCE_HUB).removeSlackLink(channel));
    const last = await withStatus(c, removed);
    const hub = roomHub(removed.room);
    await hubOf(c, hub).setSlackLink(hub, null);
    await tellRoom(c, hub);
    recordAudit(c, {
      action: "slack.unlinked",
      actor: c.var.user,
      target: { room: removed.room },
      data: { channel },
    });
    return c.json(last, 200);
  },
);
