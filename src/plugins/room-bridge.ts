import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Actor } from "../identity/actor.ts";
import type { PluginManifest } from "../protocol/automation.ts";
import type { RoomEvent } from "../protocol/events.ts";
import type { Command } from "../protocol/frames.ts";
import type { Refusal } from "../protocol/errors.ts";
import { rankOf as rankIn, type Standing } from "../protocol/permissions.ts";
import type { SlashResult } from "../protocol/integrations.ts";
import type {
  CommandCall,
  CommandReply,
  Draft,
  PluginAction,
  PluginEvent,
  Verdict,
} from "./api.ts";

/**
 * What passes between a room and its plugins (docs/plugins.md, "In a room"), pure: the drafts a
 * before-commit hook sees, what its verdict does to the command, the events an after-event hook
 * sees, and the commands a plugin's actions become, sent as the plugin's own bot.
 */

/** The commands a plugin's actions become; its bot's scope allows these and nothing else. */
export const PLUGIN_COMMANDS = ["post", "edit", "react"] as const;

/**
 * A plugin's bot in a room: `svc_` and 32 hex of SHA-256 over the room and the plugin's id (as
 * rules' actors are), named `Plugin: <id>`, a member that may post, edit its own and react.
 */
export function pluginActor(room: string, plugin: string): Actor {
  return {
    id: `svc_${hex(`plugin:${room}:${plugin}`).slice(0, 32)}`,
    name: `Plugin: ${plugin}`,
    kind: "service",
    scope: { rooms: [room], actions: [...PLUGIN_COMMANDS], role: "member" },
  };
}

/** The draft a before-commit hook sees, for the commands it screens (posts and edits). */
export function draftOf(command: Command, author: Actor, room: string): Draft | undefined {
  const person = { id: author.id, name: author.name };
  // A post of files alone has no text to screen.
  if (command.type === "post" && command.text !== undefined)
    return {
      kind: "post",
      text: command.text,
      author: person,
      room,
      ...(command.replyTo === undefined ? {} : { replyTo: command.replyTo }),
    };
  if (command.type === "edit")
    return { kind: "edit", text: command.text, author: person, room, messageId: command.messageId };
  return undefined;
}

/** The command after a plugin's verdict: as it was, with its text rewritten, or refused. */
export function applyVerdict(
  command: Command,
  plugin: string,
  verdict: Verdict,
): { ok: true; command: Command } | { ok: false; error: Refusal } {
  if ("refuse" in verdict)
    return { ok: false, error: { code: "forbidden", message: `${plugin}: ${verdict.refuse}` } };
  if ("rewrite" in verdict && (command.type === "post" || command.type === "edit"))
    return { ok: true, command: { ...command, text: verdict.rewrite } };
  return { ok: true, command };
}

/** A committed event as plugins see it. */
export const pluginEventOf = (event: RoomEvent): PluginEvent => ({
  seq: event.seq,
  type: event.type,
  at: event.at,
  author: { id: event.actor.id, name: event.actor.name },
  data: event.data as Record<string, unknown>,
});

/**
 * The commands `actions` become, each with a clientId made from `key` (the event's seq, or the
 * command's caller and clientId), the same on every replay: the room's idempotency keys carry
 * each out once. A clientId is at most 64 characters, so the key is hashed.
 */
export function commandsOf(actions: readonly PluginAction[], key: string, first = 0): Command[] {
  return actions.map((action, i): Command => {
    const clientId = actionClientId(key, first + i);
    if ("post" in action)
      return {
        type: "post",
        clientId,
        text: action.post,
        ...(action.replyTo === undefined ? {} : { replyTo: action.replyTo }),
      };
    if ("edit" in action)
      return { type: "edit", clientId, messageId: action.edit, text: action.text };
    return { type: "react", clientId, messageId: action.react, emoji: action.emoji, on: true };
  });
}

/** The clientId of the `index`-th action carried out for `key` (see commandsOf). */
const actionClientId = (key: string, index: number): string =>
  `plugin:${hex(key).slice(0, 24)}:${index}`;

/** The key a plugin's actions for slash command call `key` are carried out under. */
export const commandKey = (plugin: string, key: string): string => `${plugin}:command:${key}`;

/**
 * The commands a slash command's reply becomes: its text, when `in_channel`, posted as action 0,
 * its actions as 1, 2, … whether or not it posts, so that action 0 of `key` is always the reply's
 * post (replyPostClientId).
 */
export function replyCommands(reply: CommandReply, key: string): Command[] {
  const posts = isPosted(reply) ? commandsOf([{ post: reply.text! }], key) : [];
  return [...posts, ...commandsOf(reply.actions ?? [], key, 1)];
}

/** The clientId a reply's post for `key` is sent with: found in the room, it was posted. */
export const replyPostClientId = (key: string): string => actionClientId(key, 0);

const isPosted = (reply: CommandReply) =>
  reply.text !== undefined && reply.visibility === "in_channel";

/**
 * What the caller of slash command `name` is told, once the reply's actions were carried out:
 * the post's seq when its text was posted, the text when it was for the caller alone, why not
 * when a text to post was not (`refused`: the room's or the budget's words).
 */
export function slashAnswer(
  name: string,
  reply: CommandReply,
  acted: { firstSeq?: number | undefined; refused?: string | undefined },
): SlashResult {
  if (isPosted(reply)) {
    if (acted.firstSeq !== undefined) return { kind: "posted", seq: acted.firstSeq };
    return {
      kind: "ephemeral",
      text: `/${name} answered, but its answer was not posted: ${acted.refused ?? "refused"}`,
    };
  }
  return { kind: "ephemeral", text: reply.text ?? `/${name} done.` };
}

/** The caller's standing as a command's `rank` (the plugin decides what each rank may do). */
export const rankOf = (standing: Standing): NonNullable<CommandCall["rank"]> => rankIn(standing);

/** The plugin whose manifest names slash command `name`, first by id. */
export function pluginFor(
  plugins: readonly { manifest: PluginManifest }[],
  name: string,
): PluginManifest | undefined {
  return plugins
    .map((plugin) => plugin.manifest)
    .sort((a, b) => a.id.localeCompare(b.id))
    .find((manifest) => manifest.commands.some((command) => command.name === name));
}

const hex = (text: string): string => bytesToHex(sha256(utf8ToBytes(text)));
