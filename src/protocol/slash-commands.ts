import { MAX_MUTE_SECONDS, MAX_SLOW_MODE_SECONDS, Topic, Username } from "./names.ts";
import { can, type Action, type Standing } from "./permissions.ts";

/**
 * Slash commands (docs/integrations.md, "Slash commands"): one pure parser of what someone types
 * after `/`, shared by the UI (completion, hints) and the worker (which runs the result). Any
 * text gives a command or a usage error; nothing here throws.
 */

/** A command's name: what follows `/`, as Slack allows it (lower case, digits, `_`, `-`). */
export const SLASH_NAME = /^[a-z0-9_-]{1,32}$/;

type BuiltinSpec = {
  readonly usage: string;
  readonly description: string;
  /** What the caller must be allowed (`can`) to be offered it; undefined: everyone. */
  readonly action: Action | undefined;
  /** Left out of completion and /help (it answers that it is not there yet). */
  readonly hidden?: true;
};

export const BUILTIN_SLASH_COMMANDS = {
  me: {
    usage: "/me <action>",
    description: "Say what you are doing: /me waves posts “* ada waves”",
    action: "post",
  },
  topic: { usage: "/topic <text>", description: "Change the room's topic", action: "topic" },
  invite: {
    usage: "/invite <user> [moderator]",
    description: "Invite a registered user, as a member or (owner only) a moderator",
    action: "invite",
  },
  kick: { usage: "/kick <user>", description: "Remove someone from the room", action: "kick" },
  ban: { usage: "/ban <user>", description: "Remove someone and keep them out", action: "ban" },
  unban: { usage: "/unban <user>", description: "Let a banned user back in", action: "unban" },
  mute: {
    usage: "/mute <user> <duration: 30s|10m|2h|1d>",
    description: "Stop someone posting for a while",
    action: "mute",
  },
  unmute: { usage: "/unmute <user>", description: "Let a muted user post again", action: "unmute" },
  slow: {
    usage: "/slow <seconds|off>",
    description: "One message per person every so many seconds",
    action: "slow_mode",
  },
  remind: {
    usage: "/remind me|here <when> <what>",
    description:
      "Remind you or the room: /remind me in 2h to check the deploy; /remind list; /remind cancel <id>",
    action: undefined,
  },
  help: {
    usage: "/help [command]",
    description: "The commands you may use here",
    action: undefined,
  },
} as const satisfies Record<string, BuiltinSpec>;

export type BuiltinName = keyof typeof BUILTIN_SLASH_COMMANDS;
export const BUILTIN_NAMES = Object.keys(BUILTIN_SLASH_COMMANDS) as BuiltinName[];
export const isBuiltinName = (name: string): name is BuiltinName =>
  Object.hasOwn(BUILTIN_SLASH_COMMANDS, name);

/** A built-in command, parsed: users still by name (the worker finds their ids among the members). */
export type BuiltinSlash =
  | { name: "me"; action: string }
  | { name: "topic"; topic: string }
  | { name: "invite"; user: string; role: "member" | "moderator" }
  | { name: "kick" | "ban" | "unban" | "unmute"; user: string }
  | { name: "mute"; user: string; seconds: number }
  | { name: "slow"; seconds: number }
  | { name: "help"; about?: string }
  /** Its text is read by the `/remind` grammar (src/automation/remind-text.ts). */
  | { name: "remind"; args: string };

export type SlashParse =
  | { kind: "builtin"; command: BuiltinSlash }
  /** Someone else's command (the room's custom ones): its name and the text after it. */
  | { kind: "custom"; name: string; text: string }
  /** Not a command that can run: why, and the usage line when the command is known. */
  | { kind: "usage"; message: string; usage?: string };

const usage = (message: string, name?: BuiltinName): SlashParse =>
  name === undefined
    ? { kind: "usage", message }
    : { kind: "usage", message, usage: BUILTIN_SLASH_COMMANDS[name].usage };

/** Whether text is meant as a command: it starts with one `/` (`//` sends a message that does). */
export const isSlashCommand = (text: string): boolean => /^\/(?!\/)/.test(text.trimStart());

/**
 * The command in `text` (`/name args`): a built-in with its arguments checked, a custom one with
 * its text, or a usage error. Names are read in lower case, as Slack does.
 * @example parseSlash("/mute @bob 10m") // { kind: "builtin", command: { name: "mute", user: "bob", seconds: 600 } }
 */
export function parseSlash(text: string): SlashParse {
  const match = /^\/(\S*)(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return usage("a slash command starts with /: /help lists them");
  const name = match[1]!.toLowerCase();
  const args = (match[2] ?? "").trim();
  if (name === "") return usage("name a command after the /: /help lists them");
  if (!SLASH_NAME.test(name))
    return usage(`/${shorten(name)} is no command: a name is 1-32 of a-z, 0-9, _ and -`);
  if (!isBuiltinName(name)) return { kind: "custom", name, text: args };
  return parseBuiltin(name, args);
}

function parseBuiltin(name: BuiltinName, args: string): SlashParse {
  const words = args === "" ? [] : args.split(/\s+/);
  const built = (command: BuiltinSlash): SlashParse => ({ kind: "builtin", command });
  switch (name) {
    case "me":
      return args === "" ? usage("say what you are doing", name) : built({ name, action: args });
    case "topic": {
      if (args === "") return usage("give the new topic", name);
      const topic = Topic.safeParse(args);
      return topic.success
        ? built({ name, topic: args })
        : usage(topic.error.issues[0]!.message, name);
    }
    case "invite": {
      if (words.length < 1 || words.length > 2) return usage("name one user", name);
      const user = userOf(words[0]!);
      const role = (words[1] ?? "member").toLowerCase();
      if (user === undefined) return usage(notAUser(words[0]!), name);
      if (role !== "member" && role !== "moderator")
        return usage("the role is member or moderator", name);
      return built({ name, user, role });
    }
    case "kick":
    case "ban":
    case "unban":
    case "unmute": {
      if (words.length !== 1) return usage("name one user", name);
      const user = userOf(words[0]!);
      return user === undefined ? usage(notAUser(words[0]!), name) : built({ name, user });
    }
    case "mute": {
      if (words.length !== 2) return usage("name one user and how long", name);
      const user = userOf(words[0]!);
      if (user === undefined) return usage(notAUser(words[0]!), name);
      const seconds = durationSeconds(words[1]!);
      if (seconds === undefined || seconds < 1 || seconds > MAX_MUTE_SECONDS)
        return usage("a mute lasts from 1s to 30d, written like 30s, 10m, 2h or 1d", name);
      return built({ name, user, seconds });
    }
    case "slow": {
      if (words.length !== 1) return usage("give the seconds between messages, or off", name);
      const word = words[0]!.toLowerCase();
      const seconds =
        word === "off" ? 0 : /^\d{1,7}$/.test(word) ? Number(word) : durationSeconds(word);
      if (seconds === undefined || seconds > MAX_SLOW_MODE_SECONDS)
        return usage(`slow mode is off or 1 to ${MAX_SLOW_MODE_SECONDS} seconds`, name);
      return built({ name, seconds });
    }
    case "help": {
      if (words.length > 1) return usage("name at most one command", name);
      const about = words[0]?.replace(/^\//, "").toLowerCase();
      return built(about ? { name, about } : { name });
    }
    case "remind":
      return built({ name, args });
  }
}

/** `@name` or `name`, a user name as accounts and guests have them; undefined otherwise. */
function userOf(word: string): string | undefined {
  const name = word.startsWith("@") ? word.slice(1) : word;
  return Username.safeParse(name).success ? name : undefined;
}

const notAUser = (word: string) =>
  `${shorten(word)} is no user name: @name, 3-32 of A-Z, a-z, 0-9, _, . and -`;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `30s`, `10m`, `2h`, `1d` in seconds; undefined for anything else. */
export function durationSeconds(word: string): number | undefined {
  const match = /^(\d{1,7})([smhd])$/i.exec(word);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2]!.toLowerCase() as keyof typeof UNIT_SECONDS];
}

/** Someone's text shown back in a message, cut so that a huge paste does not fill it. */
function shorten(text: string): string {
  const points = [...text];
  return points.length <= 40 ? text : `${points.slice(0, 39).join("")}…`;
}

/**
 * The message `/me` posts: the author's name after an asterisk, then what they do, so that it
 * reads the same in every client, the Slack bridge and search, without special rendering.
 */
export const meText = (name: string, action: string): string => `* ${name} ${action}`;

/** The ephemeral answer of a usage error: what went wrong, then how the command is used. */
export const usageText = (parsed: Extract<SlashParse, { kind: "usage" }>): string =>
  parsed.usage === undefined ? parsed.message : `${parsed.message}. Usage: ${parsed.usage}`;

/** A command as completion and /help list it. */
export type SlashEntry = {
  name: string;
  usage: string;
  description: string;
  kind: "builtin" | "custom";
};

/** The built-ins `who` may use here, for completion and /help. */
export function builtinsFor(who: Standing): SlashEntry[] {
  return BUILTIN_NAMES.flatMap((name) => {
    const spec: BuiltinSpec = BUILTIN_SLASH_COMMANDS[name];
    if (spec.hidden || (spec.action !== undefined && !can(who, spec.action))) return [];
    return [{ name, usage: spec.usage, description: spec.description, kind: "builtin" as const }];
  });
}

/**
 * What the composer offers for `text`: while the name is being typed (no space yet), the
 * commands whose name starts with it; once a space follows a known name, that command alone
 * (its usage is the hint). Nothing for text that is no command.
 * @example slashCompletions("/to", entries) // [{ name: "topic", … }]
 */
export function slashCompletions(
  text: string,
  commands: readonly SlashEntry[],
): { entries: SlashEntry[]; typingName: boolean } {
  if (!isSlashCommand(text)) return { entries: [], typingName: false };
  const body = text.trimStart().slice(1);
  const space = body.search(/\s/);
  const typed = (space < 0 ? body : body.slice(0, space)).toLowerCase();
  if (space < 0)
    return { entries: commands.filter((c) => c.name.startsWith(typed)), typingName: true };
  return { entries: commands.filter((c) => c.name === typed), typingName: false };
}

/** The /help answer: every command `entries` holds, or the one asked `about`. */
export function helpText(entries: readonly SlashEntry[], about?: string): string {
  if (about !== undefined) {
    const entry = entries.find((e) => e.name === about);
    return entry
      ? `${entry.usage}: ${entry.description}`
      : `/${shorten(about)} is no command you may use here. /help lists them.`;
  }
  return ["Commands you may use here:", ...entries.map((e) => `${e.usage}: ${e.description}`)].join(
    "\n",
  );
}

/**
 * The id of the one person named `name` among `people` (the room's members, or its bans): the
 * exact name first, then ignoring case; a name two people share is refused, never guessed.
 */
export function resolveUser(
  people: readonly { id: string; name?: string | undefined }[],
  name: string,
  where: string,
): { ok: true; id: string } | { ok: false; message: string } {
  const folded = name.toLowerCase();
  for (const same of [
    (other: string) => other === name,
    (other: string) => other.toLowerCase() === folded,
  ]) {
    const found = people.filter((person) => person.name !== undefined && same(person.name));
    if (found.length === 1) return { ok: true, id: found[0]!.id };
    if (found.length > 1)
      return {
        ok: false,
        message: `${found.length} of ${where} are named ${name}: use the members panel instead`,
      };
  }
  return { ok: false, message: `nobody named ${name} is among ${where}` };
}
