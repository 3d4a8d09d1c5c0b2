import {
  definePlugin,
  type CommandCall,
  type CommandReply,
  type Draft,
  type PluginContext,
  type Verdict,
} from "../../src/plugins/api.ts";
import { compileFilter, scan } from "./filter.ts";
import { addWords, readSettings, removeWords, setMode, type Change } from "./settings.ts";

/**
 * The compiled list, kept while the list is the same: a room's isolate compiles it once, not on
 * every post. One entry is enough, as each isolate serves one room.
 */
let compiled: { key: string; filter: RegExp | null } | null = null;
function filterFor(words: readonly string[]): RegExp | null {
  const key = words.join("\n");
  if (compiled?.key !== key) compiled = { key, filter: compileFilter(words) };
  return compiled.filter;
}

async function beforeCommit(draft: Draft, ctx: PluginContext): Promise<Verdict> {
  const settings = await readSettings(ctx.store);
  const result = scan(draft.text, filterFor(settings.words));
  if (result.found.length === 0) return { allow: true };
  if (settings.mode === "refuse") {
    const words = result.found.map((word) => `"${word}"`).join(", ");
    return { refuse: `This room does not allow ${words}. Change the wording and send it again.` };
  }
  return { rewrite: result.censored };
}

const USAGE = "/profanity list · /profanity mode rewrite|refuse · /profanity add|remove <word>, …";
const reply = (text: string): CommandReply => ({ text, visibility: "ephemeral" });

/** Settings are the room's moderators' to change; absent standing counts as none. */
const mayConfigure = (call: CommandCall) =>
  call.rank === "moderator" || call.rank === "owner" || call.rank === "admin";

function changeReply(verb: "Added" | "Removed", change: Change): CommandReply {
  const lines = [];
  if (change.changed.length > 0) lines.push(`${verb} ${change.changed.join(", ")}.`);
  else if (change.problems.length === 0) lines.push("Nothing changed.");
  lines.push(...change.problems.map((problem) => `Not done: ${problem}.`));
  lines.push(`The list has ${change.settings.words.length} words.`);
  return reply(lines.join("\n"));
}

async function profanity(call: CommandCall, ctx: PluginContext): Promise<CommandReply> {
  const [verb = "", ...rest] = call.args.trim().split(/\s+/u);
  const argument = rest.join(" ");
  if (verb === "list") {
    const settings = await readSettings(ctx.store);
    const words = settings.words.length > 0 ? settings.words.join(", ") : "(none)";
    return reply(`Mode: ${settings.mode}. Words (${settings.words.length}): ${words}`);
  }
  if (verb !== "mode" && verb !== "add" && verb !== "remove") return reply(`Usage: ${USAGE}`);
  if (!mayConfigure(call)) return reply("Only the room's moderators and owner change the filter.");
  if (verb === "mode") {
    if (argument !== "rewrite" && argument !== "refuse")
      return reply("Usage: /profanity mode rewrite|refuse");
    await setMode(ctx.store, argument);
    return reply(
      argument === "refuse"
        ? "Mode: refuse. Posts with a listed word are sent back to their author."
        : "Mode: rewrite. Listed words are posted as asterisks.",
    );
  }
  if (argument === "") return reply(`Usage: /profanity ${verb} <word>, <word>, …`);
  return verb === "add"
    ? changeReply("Added", await addWords(ctx.store, argument))
    : changeReply("Removed", await removeWords(ctx.store, argument));
}

export default definePlugin({
  id: "profanity-filter",
  version: "1.0.0",
  description:
    "Turns listed words into asterisks, or refuses posts that hold them; the list and the mode are per room.",
  beforeCommit,
  commands: {
    profanity: {
      usage: USAGE,
      description: "Shows or changes this room's filtered words and what happens to them.",
      run: profanity,
    },
  },
});
