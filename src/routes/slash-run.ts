import type { Context } from "hono";
import { ApiError } from "../http/api-error.ts";
import { settings, type AppEnv } from "../http/app-env.ts";
import { unwrap } from "../http/openapi.ts";
import type { Actor } from "../identity/actor.ts";
import { sendOutbound } from "../integrations/outbound-request.ts";
import { checkOutboundUrl } from "../integrations/outbound-url.ts";
import { roomHub } from "../integrations/queue-messages.ts";
import {
  readSlashAnswer,
  SLASH_ANSWER_BYTES,
  SLASH_TIMEOUT_MS,
  slashRequest,
  type SlashInvocation,
  type SlashTarget,
} from "../integrations/slash-call.ts";
import {
  BUILTIN_SLASH_COMMANDS,
  builtinsFor,
  helpText,
  meText,
  MessageText,
  parseSlash,
  refusal,
  resolveUser,
  usageText,
  type BuiltinSlash,
  type Command,
  type SlashEntry,
  type SlashResult,
  type Standing,
  type UserRef,
} from "../protocol/index.ts";
import { traceparentIn } from "../telemetry/tracing.ts";
import { isTimeZone } from "../automation/cron.ts";
import { parseRemind } from "../automation/remind-text.ts";
import { confirmation, reminderLine } from "../automation/reminder-rules.ts";
import { inviteByName } from "./members.ts";

/**
 * Running a slash command typed in a room (docs/integrations.md, "Slash commands"): a built-in
 * becomes the room's own command for the caller, a custom one calls its URL as Slack would.
 * Input mistakes (usage, unknown names) are ephemeral answers; what the room refuses is thrown
 * as its error, as for the plain command.
 */
export async function runSlash(
  c: Context<AppEnv>,
  room: string,
  input: { text: string; clientId: string; timeZone?: string | undefined },
): Promise<SlashResult> {
  const parsed = parseSlash(input.text);
  switch (parsed.kind) {
    case "usage":
      return ephemeral(usageText(parsed));
    case "builtin":
      return runBuiltin(c, room, parsed.command, input.clientId, input.timeZone);
    case "custom":
      return (
        (await runPlugin(c, room, parsed, input.clientId)) ??
        runCustom(c, room, parsed, input.clientId)
      );
  }
}

/**
 * A plugin's command (docs/plugins.md), when a plugin running in the room has one by that name:
 * built-ins come first, then plugins, then the room's custom commands. A mute holds here too.
 */
async function runPlugin(
  c: Context<AppEnv>,
  room: string,
  { name, text }: { name: string; text: string },
  clientId: string,
): Promise<SlashResult | undefined> {
  const commands = unwrap(await roomOf(c, room).pluginCommands(c.var.user));
  if (!commands.some((command) => command.name === name)) return undefined;
  await requireUnmuted(c, room);
  return unwrap(await roomOf(c, room).pluginCommand(c.var.user, { name, args: text, clientId }));
}

const ephemeral = (text: string): SlashResult => ({ kind: "ephemeral", text });
const roomOf = (c: Context<AppEnv>, room: string) => c.env.ROOM.getByName(room);
const hubOf = (c: Context<AppEnv>, room: string) => c.env.INTEGRATIONS_HUB.getByName(roomHub(room));

/** The built-ins the caller may use and the room's custom commands: completion and /help. */
export async function slashEntries(
  c: Context<AppEnv>,
  room: string,
  standing: Standing,
): Promise<SlashEntry[]> {
  const custom = await hubOf(c, room).slashCommands(roomHub(room));
  const plugins = unwrap(await roomOf(c, room).pluginCommands(c.var.user));
  return [
    ...builtinsFor(standing),
    ...plugins,
    ...custom.map((command) => ({
      name: command.name,
      usage: `/${command.name}${command.usageHint ? ` ${command.usageHint}` : ""}`,
      description: command.description,
      kind: "custom" as const,
    })),
  ];
}

/** `actor`'s standing in the room; a room they may not see is its usual refusal. */
async function standingIn(c: Context<AppEnv>, room: string): Promise<Standing> {
  return unwrap(await roomOf(c, room).standing(c.var.user));
}

function requireAllowed(standing: Standing, action: Parameters<typeof refusal>[1]): void {
  const denied = refusal(standing, action);
  if (denied) throw ApiError.from(denied);
}

/** A room command as the caller, with the request's trace; its seq, or the room's refusal. */
async function send(c: Context<AppEnv>, room: string, command: Command): Promise<SlashResult> {
  const traceparent = traceparentIn(c.var.telemetry.scope);
  const posted = await roomOf(c, room).command(
    command,
    c.var.user,
    traceparent,
    c.var.telemetry.requestId,
  );
  return { kind: "command", seq: unwrap(posted).seq };
}

async function runBuiltin(
  c: Context<AppEnv>,
  room: string,
  command: BuiltinSlash,
  clientId: string,
  timeZone?: string,
): Promise<SlashResult> {
  const standing = await standingIn(c, room);
  const { action, usage } = BUILTIN_SLASH_COMMANDS[command.name];
  // The plain command's refusal comes first, whoever is named: nobody learns who is a member
  // through a command they may not use.
  if (action !== undefined) requireAllowed(standing, action);
  switch (command.name) {
    case "help":
      return ephemeral(helpText(await slashEntries(c, room, standing), command.about));
    case "remind":
      return remind(c, room, command.args, clientId, timeZone);
    case "me": {
      const text = meText(c.var.user.name, command.action);
      const valid = MessageText.safeParse(text);
      if (!valid.success) return ephemeral(`${valid.error.issues[0]!.message}. Usage: ${usage}`);
      return send(c, room, { type: "post", clientId, text });
    }
    case "topic":
      return send(c, room, { type: "topic", clientId, topic: command.topic });
    case "slow":
      return send(c, room, { type: "slow_mode", clientId, seconds: command.seconds });
    case "invite":
      return invite(c, room, command, clientId);
    case "kick":
    case "ban":
    case "unmute":
    case "mute": {
      const { members } = unwrap(await roomOf(c, room).members(c.var.user));
      const found = resolveUser(members, command.user, "the room's members");
      if (!found.ok) return ephemeral(`${found.message}. Usage: ${usage}`);
      if (command.name === "mute")
        return send(c, room, {
          type: "mute",
          clientId,
          userId: found.id,
          seconds: command.seconds,
        });
      return send(c, room, { type: command.name, clientId, userId: found.id });
    }
    case "unban": {
      const { bans } = unwrap(await roomOf(c, room).bans(c.var.user));
      const found = resolveUser(bans, command.user, "the room's bans");
      if (!found.ok) return ephemeral(`${found.message}. Usage: ${usage}`);
      return send(c, room, { type: "unban", clientId, userId: found.id });
    }
  }
}

/**
 * `/remind` (docs/automation.md, "Schedules and reminders"): the grammar read in the caller's
 * zone, then the room's reminders; every answer is ephemeral. Input mistakes (a time passed, a
 * reminder not found) are answers; what the room refuses (a mute, the quota) is its error.
 */
async function remind(
  c: Context<AppEnv>,
  room: string,
  args: string,
  clientId: string,
  timeZone = "UTC",
): Promise<SlashResult> {
  const request = parseRemind(args, Date.now(), timeZone);
  const zone = isTimeZone(timeZone) ? timeZone : "UTC";
  const stub = roomOf(c, room);
  switch (request.kind) {
    case "usage":
      return ephemeral(request.message);
    case "list": {
      const { reminders } = unwrap(await stub.reminders(c.var.user));
      if (reminders.length === 0)
        return ephemeral("No reminders of yours here. /remind me in 2h to … sets one.");
      return ephemeral(["Reminders:", ...reminders.map((r) => reminderLine(r, zone))].join("\n"));
    }
    case "cancel": {
      const cancelled = await stub.cancelReminder(c.var.user, request.id);
      if (!cancelled.ok && cancelled.error.code === "not_found")
        return ephemeral(`${cancelled.error.message}: /remind list shows them.`);
      const { id, text } = unwrap(cancelled);
      return ephemeral(`Cancelled ${id}: ${text}`);
    }
    case "create": {
      const made = await stub.addReminder(c.var.user, { ...request.reminder, clientId });
      if (!made.ok && made.error.code === "bad_request")
        return ephemeral(`${made.error.message}. Usage: ${BUILTIN_SLASH_COMMANDS.remind.usage}`);
      return ephemeral(confirmation(unwrap(made), zone));
    }
  }
}

/** `/invite`: the REST invitation by username; an unknown user is an ephemeral answer. */
async function invite(
  c: Context<AppEnv>,
  room: string,
  command: Extract<BuiltinSlash, { name: "invite" }>,
  clientId: string,
): Promise<SlashResult> {
  try {
    const { seq } = await inviteByName(
      c,
      room,
      { username: command.user, role: command.role },
      clientId,
    );
    return { kind: "command", seq };
  } catch (error) {
    // The room was found (the standing above), so not_found here is the username.
    if (error instanceof ApiError && error.code === "not_found")
      return ephemeral(`${error.message}. Usage: ${BUILTIN_SLASH_COMMANDS.invite.usage}`);
    throw error;
  }
}

// ---- custom commands ---------------------------------------------------------------------

/** The service actor a command's in-channel answers are posted as: it may post here, no more. */
export const botActor = (bot: UserRef, room: string): Actor => ({
  ...bot,
  kind: "service",
  scope: { rooms: [room], actions: ["post"], role: "member" },
});

/**
 * Posts `text` into the room as the command's bot (rate limited like everyone, idempotent on
 * `clientId`): its seq, or the room's refusal.
 */
export async function postAsBot(
  c: Context<AppEnv>,
  room: string,
  bot: UserRef,
  text: string,
  clientId: string,
) {
  const traceparent = traceparentIn(c.var.telemetry.scope);
  const command = { type: "post" as const, clientId, text };
  return roomOf(c, room).command(command, botActor(bot, room), traceparent);
}

async function runCustom(
  c: Context<AppEnv>,
  room: string,
  { name, text }: { name: string; text: string },
  clientId: string,
): Promise<SlashResult> {
  // Whoever may post here may run the room's commands; a mute holds for them too, or a muted
  // member could speak through a command's bot.
  requireAllowed(await standingIn(c, room), "post");
  await requireUnmuted(c, room);
  const caller = { id: c.var.user.id, name: c.var.user.name };
  const token = responseToken(room);
  const hub = hubOf(c, room);
  const start = unwrap(
    await hub.startSlash(roomHub(room), {
      name,
      caller,
      clientId,
      responseHash: await sha256Hex(token),
    }),
  );
  if (start.kind === "unknown") return ephemeral(`/${name} is no command here: /help lists them.`);
  if (start.kind === "repeat") return start.answer;
  const origin = new URL(c.req.url);
  const run: SlashInvocation = {
    room,
    caller,
    text,
    host: origin.hostname,
    responseUrl: `${origin.origin}/api/slash/responses/${token}`,
    triggerId: `${Math.floor(Date.now() / 1000)}.${randomHex(10)}`,
  };
  let answer: SlashResult;
  try {
    answer = await callCommand(c, room, start.target, run, clientId);
  } catch (error) {
    // Nothing answered for this clientId: a retry may run it again.
    await hub.releaseSlash(roomHub(room), caller.id, clientId);
    throw error;
  }
  await hub.settleSlash(roomHub(room), caller.id, clientId, answer);
  return answer;
}

async function requireUnmuted(c: Context<AppEnv>, room: string): Promise<void> {
  const { members } = unwrap(await roomOf(c, room).members(c.var.user));
  const until = members.find((member) => member.id === c.var.user.id)?.mutedUntil ?? 0;
  if (until > Date.now())
    throw new ApiError("forbidden", `you are muted until ${new Date(until).toISOString()}`);
}

async function callCommand(
  c: Context<AppEnv>,
  room: string,
  target: SlashTarget,
  run: SlashInvocation,
  clientId: string,
): Promise<SlashResult> {
  // Checked again: the deployment's loopback setting may have changed since it was added.
  const url = checkOutboundUrl(target.url, { allowLoopback: settings(c).WEBHOOK_ALLOW_LOOPBACK });
  if (!url.ok) return ephemeral(`/${target.name} cannot be called: ${url.reason}.`);
  const init = await slashRequest(target, run, Math.floor(Date.now() / 1000));
  const result = await sendOutbound(url.url, init, {
    timeoutMs: SLASH_TIMEOUT_MS,
    bodyBytes: SLASH_ANSWER_BYTES,
  });
  const answer = readSlashAnswer(target.name, result);
  if (answer.kind !== "in_channel") return answer;
  const botClientId = `slash-${(await sha256Hex(`${run.caller.id} ${clientId}`)).slice(0, 32)}`;
  const posted = await postAsBot(c, room, target.bot, answer.text, botClientId);
  if (posted.ok) return { kind: "posted", seq: posted.value.seq };
  return ephemeral(`/${target.name} answered, but its answer was refused: ${posted.error.message}`);
}

/**
 * A response_url's token: the room's name (so that it finds its hub) and 160 random bits (so
 * that nobody guesses one); only its SHA-256 is stored.
 */
export const responseToken = (room: string) => `${room}.${randomHex(20)}`;
export const RESPONSE_TOKEN = /^([a-z0-9][a-z0-9_-]{0,63})\.([0-9a-f]{40})$/;

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const randomHex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
