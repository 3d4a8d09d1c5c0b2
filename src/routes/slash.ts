import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../http/api-error.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { checkOutboundUrl } from "../integrations/outbound-url.ts";
import { roomHub } from "../integrations/queue-messages.ts";
import { readSlashMessage } from "../integrations/slash-call.ts";
import {
  CreateSlashCommand,
  CustomSlashCommand,
  CustomSlashCommandList,
  IssuedSlashCommand,
  refusal,
  RoomName,
  RoomParam,
  RunSlashCommand,
  SlashCommandEntries,
  SlashResponseAccepted,
  SlashResponseBody,
  SlashResult,
  UpdateSlashCommand,
} from "../protocol/index.ts";
import { postAsBot, RESPONSE_TOKEN, runSlash, sha256Hex, slashEntries } from "./slash-run.ts";

/**
 * Slash commands (docs/integrations.md, "Slash commands"): running one, the list for
 * completion, a room's custom commands for its owner, and the response_url their servers
 * answer through later.
 */
export const slash = router();

const hubOf = (c: Context<AppEnv>, room: string) => c.env.INTEGRATIONS_HUB.getByName(roomHub(room));

slash.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/slash",
    summary: "Run a slash command",
    description:
      "`text` as typed (`/topic hello`, `/deploy status`). A built-in runs as the room's own " +
      "command for the caller (the same permissions, rate limit and idempotency on `clientId`; " +
      "`kind: command`); a custom one calls its URL as Slack calls a command's Request URL and " +
      "answers `posted` (an in-channel answer, posted as the command's bot), `ephemeral` (for " +
      "the caller alone) or `accepted` (an empty 200: a later answer may come through its " +
      "response_url). A usage mistake or an unknown name is an `ephemeral` answer with the " +
      "usage line; what the room refuses is its usual error.",
    ...signedIn,
    request: { params: RoomParam, ...jsonBody(RunSlashCommand) },
    responses: {
      200: json(SlashResult, "what the command did"),
      ...errors(
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "rate_limited",
      ),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(await runSlash(c, room, c.req.valid("json")), 200);
  },
);

slash.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/slash-commands",
    summary: "The slash commands you may use in a room",
    description:
      "For completion: the built-ins your role allows (as `can` says), then the room's custom " +
      "commands, each with its usage line and description.",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(SlashCommandEntries, "built-ins first, then custom commands by name"),
      ...errors("unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    const standing = unwrap(await c.env.ROOM.getByName(room).standing(c.var.user));
    return c.json({ commands: await slashEntries(c, room, standing) }, 200);
  },
);

// ---- the room owner's custom commands ------------------------------------------------------

const CUSTOM = "/api/rooms/{room}/slash-commands/custom";
const OneCommand = z.object({ room: RoomName, name: z.string().max(64) });

/** The room's name, once the caller may manage its integrations (its owner, admins). */
async function ownedRoom(c: Context<AppEnv>): Promise<string> {
  const room = c.req.param("room")!;
  const standing = unwrap(await c.env.ROOM.getByName(room).standing(c.var.user));
  const denied = refusal(standing, "integrations");
  if (denied) throw ApiError.from(denied);
  return room;
}

/** The URL guard with the deployment's loopback setting: a 400 that names the rule. */
function checkedUrl(c: Context<AppEnv>, url: string): string {
  const checked = checkOutboundUrl(url, { allowLoopback: settings(c).WEBHOOK_ALLOW_LOOPBACK });
  if (!checked.ok) throw new ApiError("bad_request", `url: ${checked.reason}`);
  return checked.url.href;
}

slash.openapi(
  createRoute({
    method: "get",
    path: CUSTOM,
    summary: "A room's custom slash commands",
    description: "For the room's owner (and admins); never a secret.",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(CustomSlashCommandList, "by name"),
      ...errors("unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const room = await ownedRoom(c);
    return c.json({ commands: await hubOf(c, room).slashCommands(roomHub(room)) }, 200);
  },
);

slash.openapi(
  createRoute({
    method: "post",
    path: CUSTOM,
    summary: "Add a custom slash command",
    description:
      "Calls `url` as Slack calls a slash command's Request URL (a signed form POST, 3 s to " +
      "answer). The answer holds the signing secret (`X-Slack-Signature`) and the verification " +
      "token (the `token` field) this once. The URL must be https and public. At most 25 per room.",
    ...signedIn,
    request: { params: RoomParam, ...jsonBody(CreateSlashCommand) },
    responses: {
      201: json(IssuedSlashCommand, "created; its secrets are shown this once"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict"),
    },
  }),
  async (c) => {
    const room = await ownedRoom(c);
    const input = c.req.valid("json");
    const by = { id: c.var.user.id, name: c.var.user.name };
    const command = { ...input, url: checkedUrl(c, input.url) };
    const created = await hubOf(c, room).createSlashCommand(roomHub(room), command, by);
    return c.json(unwrap(created), 201);
  },
);

slash.openapi(
  createRoute({
    method: "patch",
    path: `${CUSTOM}/{name}`,
    summary: "Change a custom slash command: its URL, description, usage hint or bot name",
    ...signedIn,
    request: { params: OneCommand, ...jsonBody(UpdateSlashCommand) },
    responses: {
      200: json(CustomSlashCommand, "the command"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const room = await ownedRoom(c);
    const patch = c.req.valid("json");
    const url = patch.url === undefined ? {} : { url: checkedUrl(c, patch.url) };
    const { name } = c.req.valid("param");
    const updated = await hubOf(c, room).updateSlashCommand(roomHub(room), name, {
      ...patch,
      ...url,
    });
    return c.json(unwrap(updated), 200);
  },
);

slash.openapi(
  createRoute({
    method: "delete",
    path: `${CUSTOM}/{name}`,
    summary: "Remove a custom slash command",
    description: "Its response_urls stop working with it.",
    ...signedIn,
    request: { params: OneCommand },
    responses: {
      200: json(CustomSlashCommand, "the command as it was"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const room = await ownedRoom(c);
    const { name } = c.req.valid("param");
    return c.json(unwrap(await hubOf(c, room).deleteSlashCommand(roomHub(room), name)), 200);
  },
);

// ---- response_url ----------------------------------------------------------------------------

const PayloadForm = z.object({
  payload: z.string().describe("the message's JSON, as Slack accepts a form body"),
});

slash.openapi(
  createRoute({
    method: "post",
    path: "/api/slash/responses/{token}",
    summary: "A custom command's later answer (its response_url)",
    description:
      "No bearer token: the URL is the secret. Valid for 30 minutes and 5 uses, as Slack's. " +
      "`response_type: in_channel` posts the text (from `text`, `blocks`, `attachments`) into " +
      "the room as the command's bot; `ephemeral` (the default) sends it to the caller's open " +
      "sockets in the room alone (an `ephemeral` frame). `replace_original` and " +
      "`delete_original` edit nothing: a reply is always new.",
    request: {
      params: z.object({ token: z.string() }),
      body: {
        content: {
          "application/json": { schema: SlashResponseBody },
          "application/x-www-form-urlencoded": { schema: PayloadForm },
        },
        required: false,
      },
    },
    responses: {
      200: json(SlashResponseAccepted, "taken"),
      ...errors("bad_request", "not_found", "rate_limited"),
    },
  }),
  async (c) => {
    const token = RESPONSE_TOKEN.exec(c.req.valid("param").token);
    // Only the validator of the body's own media type ran; the other's data is empty.
    const isForm = /^application\/x-www-form-urlencoded/i.test(c.req.header("content-type") ?? "");
    const answer = readSlashMessage(
      isForm ? parsePayload(c.req.valid("form").payload) : c.req.valid("json"),
    );
    if (!answer.ok) throw new ApiError("bad_request", answer.reason);
    if (!token)
      throw new ApiError("not_found", "no such response_url, or it expired or was used up");
    const room = token[1]!;
    const hash = await sha256Hex(token[0]);
    const use = unwrap(await hubOf(c, room).useResponseUrl(roomHub(room), hash));
    if (answer.answer.kind === "in_channel") {
      // One clientId per use: a server that repeats a use does not post twice.
      const clientId = `response-${hash.slice(0, 32)}-${use.usesLeft}`;
      unwrap(await postAsBot(c, room, use.bot, answer.answer.text, clientId));
    } else if (answer.answer.kind === "ephemeral") {
      const frame = { type: "ephemeral" as const, text: answer.answer.text, from: use.bot };
      await c.env.ROOM.getByName(room).ephemeral(use.caller.id, { ...frame, at: Date.now() });
    }
    return c.json({ ok: true as const }, 200);
  },
);

function parsePayload(payload: unknown): unknown {
  if (typeof payload !== "string") throw new ApiError("bad_request", "payload: expected one field");
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    throw new ApiError("bad_request", "payload: not valid JSON");
  }
}
