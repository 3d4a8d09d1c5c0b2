import {
  definePlugin,
  type CommandCall,
  type CommandReply,
  type PluginAction,
  type PluginContext,
  type PluginEvent,
} from "../../src/plugins/api.ts";
import { parsePoll } from "./parse.ts";
import { MARKER, newPoll, optionOf, renderPoll, summary, withVote } from "./poll.ts";
import {
  addPoll,
  bindMessage,
  getPoll,
  newestOpenPoll,
  pollOfMessage,
  savePoll,
  serialized,
} from "./polls.ts";

const USAGE = '/poll "Question?" "Option A" "Option B" … (2 to 10 options) · /poll close';

/** 8 random hex digits: a marker nobody can guess before the poll's message is posted. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const mayClose = (call: CommandCall, by: string) =>
  call.user.id === by ||
  call.rank === "moderator" ||
  call.rank === "owner" ||
  call.rank === "admin";

async function closePoll(call: CommandCall, ctx: PluginContext): Promise<CommandReply> {
  return serialized(async () => {
    const poll = await newestOpenPoll(ctx.store);
    if (!poll) return { text: "There is no open poll in this room." };
    if (!mayClose(call, poll.by.id))
      return { text: `Only ${poll.by.name}, who asked, or a moderator closes this poll.` };
    const closed = { ...poll, open: false };
    await savePoll(ctx.store, closed);
    const actions: PluginAction[] =
      closed.messageId === null ? [] : [{ edit: closed.messageId, text: renderPoll(closed) }];
    return { text: summary(closed), visibility: "in_channel", actions };
  });
}

async function poll(call: CommandCall, ctx: PluginContext): Promise<CommandReply> {
  const request = parsePoll(call.args);
  if ("problem" in request) return { text: `Not posted: ${request.problem}.\nUsage: ${USAGE}` };
  if ("close" in request) return closePoll(call, ctx);
  const created = newPoll(randomId(), request.question, request.options, call.user, Date.now());
  await serialized(() => addPoll(ctx.store, created));
  return { text: renderPoll(created), visibility: "in_channel" };
}

/** The poll's own message: the first `message.posted` that carries a pending poll's marker. */
async function learnMessage(event: PluginEvent, ctx: PluginContext): Promise<void> {
  const text = typeof event.data.text === "string" ? event.data.text : "";
  const id = MARKER.exec(text)?.[1];
  if (id === undefined) return;
  await serialized(async () => {
    const found = await getPoll(ctx.store, id);
    if (found !== null && found.messageId === null) await bindMessage(ctx.store, found, event.seq);
  });
}

async function countReaction(event: PluginEvent, ctx: PluginContext): Promise<PluginAction[]> {
  const { messageId, emoji } = event.data;
  if (typeof messageId !== "number" || typeof emoji !== "string") return [];
  return serialized(async () => {
    const found = await pollOfMessage(ctx.store, messageId);
    if (!found?.open) return [];
    const option = optionOf(emoji, found);
    if (option === null) return [];
    const next = withVote(found, option, event.author.id, event.type === "reaction.added");
    if (next === found) return [];
    await savePoll(ctx.store, next);
    return [{ edit: messageId, text: renderPoll(next) }];
  });
}

/** A deleted poll message closes its poll: nobody can react to it any more. */
async function closeDeleted(event: PluginEvent, ctx: PluginContext): Promise<void> {
  const { messageId } = event.data;
  if (typeof messageId !== "number") return;
  await serialized(async () => {
    const found = await pollOfMessage(ctx.store, messageId);
    if (found?.open) await savePoll(ctx.store, { ...found, open: false });
  });
}

async function afterEvent(event: PluginEvent, ctx: PluginContext): Promise<PluginAction[]> {
  switch (event.type) {
    case "message.posted":
      await learnMessage(event, ctx);
      return [];
    case "reaction.added":
    case "reaction.removed":
      return countReaction(event, ctx);
    case "message.deleted":
      await closeDeleted(event, ctx);
      return [];
    default:
      return [];
  }
}

export default definePlugin({
  id: "poll",
  version: "1.0.0",
  description:
    "Posts a poll with numbered options; people vote with the numbered reactions and see live results.",
  afterEvent,
  commands: {
    poll: {
      usage: USAGE,
      description: "Asks the room a question with 2 to 10 options, or closes the newest open poll.",
      run: poll,
    },
  },
});
