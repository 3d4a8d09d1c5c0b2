import { describe, expect, it } from "vitest";
import type { CommandReply, Person, PluginAction, PluginContext } from "../../src/plugins/api.ts";
import { contextFor, eventOf, MemoryStore, person, runCommand } from "../testing.ts";
import plugin from "./index.ts";
import { KEPT_POLLS } from "./polls.ts";

const ada = person("ada");
const bob = person("bob");
const cy = person("cy");
/** The plugin's own bot, as the room would name its posts' author. */
const pollBot: Person = { id: "plugin_poll", name: "poll" };

const slash = (ctx: PluginContext, args: string, user = ada, rank?: "member" | "moderator") =>
  runCommand(plugin, ctx, { command: "poll", args, user, rank });
const after = async (ctx: PluginContext, ...args: Parameters<typeof eventOf>) =>
  (await plugin.afterEvent!(eventOf(...args), ctx)) ?? [];

/** What the room does with an in_channel answer: posts it as the bot, and the plugin sees it. */
async function posted(ctx: PluginContext, reply: CommandReply): Promise<number> {
  expect(reply.visibility).toBe("in_channel");
  const event = eventOf("message.posted", pollBot, { text: reply.text });
  await plugin.afterEvent!(event, ctx);
  return event.seq;
}
const react = (ctx: PluginContext, who: Person, messageId: number, emoji: string, added = true) =>
  after(ctx, added ? "reaction.added" : "reaction.removed", who, { messageId, emoji });
const editText = (actions: PluginAction[]) => {
  expect(actions).toHaveLength(1);
  return (actions[0] as { text: string }).text;
};

describe("poll", () => {
  it("posts the poll in the channel with numbered options and its marker", async () => {
    const reply = await slash(contextFor(), '"Lunch where?" Thai "Pizza place" Sushi');
    expect(reply.visibility).toBe("in_channel");
    expect(reply.text).toMatch(
      /^📊 Lunch where\?\n1️⃣ Thai\n░{10} 0 \(0%\)\n2️⃣ Pizza place\n░{10} 0 \(0%\)\n3️⃣ Sushi\n░{10} 0 \(0%\)\n0 votes from 0 people · react with 1️⃣–3️⃣ to vote, on as many options as you like · poll #[0-9a-f]{8}$/u,
    );
  });

  it("counts numbered reactions on its message and edits it with live results", async () => {
    const ctx = contextFor();
    const seq = await posted(ctx, await slash(ctx, "Lunch? Thai Pizza"));
    const first = editText(await react(ctx, ada, seq, "1️⃣"));
    expect(first).toContain("1️⃣ Thai\n██████████ 1 (100%)\n2️⃣ Pizza\n░░░░░░░░░░ 0 (0%)");
    expect(first).toContain("1 vote from 1 person");
    await react(ctx, bob, seq, "1️⃣");
    await react(ctx, cy, seq, "2️⃣");
    // One person may vote for several options: ada adds Pizza too.
    const both = editText(await react(ctx, ada, seq, "2️⃣"));
    expect(both).toContain("1️⃣ Thai\n█████░░░░░ 2 (50%)\n2️⃣ Pizza\n█████░░░░░ 2 (50%)");
    expect(both).toContain("4 votes from 3 people");
    const removed = editText(await react(ctx, bob, seq, "1️⃣", false));
    expect(removed).toContain("1️⃣ Thai\n███░░░░░░░ 1 (33%)\n2️⃣ Pizza\n███████░░░ 2 (67%)");
  });

  it("counts one vote per person per option, and ignores reactions that are not votes", async () => {
    const ctx = contextFor();
    const seq = await posted(ctx, await slash(ctx, "Q a b"));
    expect(await react(ctx, ada, seq, "1️⃣")).toHaveLength(1);
    // The same reaction again (a replay), a removal of a vote never cast: nothing changes.
    expect(await react(ctx, ada, seq, "1️⃣")).toEqual([]);
    expect(await react(ctx, bob, seq, "2️⃣", false)).toEqual([]);
    // Option 3 of a two-option poll, another emoji, another message: not votes.
    expect(await react(ctx, ada, seq, "3️⃣")).toEqual([]);
    expect(await react(ctx, ada, seq, "👍")).toEqual([]);
    expect(await react(ctx, ada, seq + 1000, "1️⃣")).toEqual([]);
    // A keycap typed without its variation selector is the same vote.
    expect(editText(await react(ctx, bob, seq, "2\u20E3"))).toContain("2 votes from 2 people");
  });

  it("keeps every vote of reactions that arrive together", async () => {
    const ctx = contextFor();
    const seq = await posted(ctx, await slash(ctx, "Q a b"));
    const voters = Array.from({ length: 20 }, (_, i) => person(`v${i}`));
    await Promise.all(voters.map((voter) => react(ctx, voter, seq, "1️⃣")));
    const last = editText(await react(ctx, ada, seq, "2️⃣"));
    expect(last).toContain("21 votes from 21 people");
  });

  it("learns only its pending poll's message: a copy of the text posted later is not the poll", async () => {
    const ctx = contextFor();
    const reply = await slash(ctx, "Q a b");
    const seq = await posted(ctx, reply);
    const copy = eventOf("message.posted", bob, { text: reply.text });
    await plugin.afterEvent!(copy, ctx);
    expect(await react(ctx, ada, copy.seq, "1️⃣")).toEqual([]);
    expect(await react(ctx, ada, seq, "1️⃣")).toHaveLength(1);
  });

  it("closes the newest open poll with its result, then stops counting", async () => {
    const ctx = contextFor();
    const older = await posted(ctx, await slash(ctx, "Older? x y", bob));
    const seq = await posted(ctx, await slash(ctx, "Lunch? Thai Pizza"));
    await react(ctx, bob, seq, "2️⃣");
    const closed = await slash(ctx, "close");
    expect(closed.text).toBe("📊 Poll closed: Lunch? Pizza wins with 1 vote.");
    expect(closed.visibility).toBe("in_channel");
    expect(closed.actions).toHaveLength(1);
    expect(closed.actions![0]).toMatchObject({ edit: seq });
    expect(editText(closed.actions!)).toContain("1 vote from 1 person · closed · poll #");
    expect(await react(ctx, ada, seq, "1️⃣")).toEqual([]);
    // The older poll is next; ada did not ask it, so only bob or a moderator closes it.
    expect((await slash(ctx, "close", ada, "member")).text).toBe(
      "Only bob, who asked, or a moderator closes this poll.",
    );
    const tie = await slash(ctx, "close", ada, "moderator");
    expect(tie.text).toBe("📊 Poll closed: Older? (no votes)");
    expect(tie.actions![0]).toMatchObject({ edit: older });
    expect((await slash(ctx, "close")).text).toBe("There is no open poll in this room.");
  });

  it("names a tie when closing", async () => {
    const ctx = contextFor();
    const seq = await posted(ctx, await slash(ctx, "Q a b c"));
    await react(ctx, ada, seq, "1️⃣");
    await react(ctx, bob, seq, "3️⃣");
    expect((await slash(ctx, "close")).text).toBe("📊 Poll closed: Q A tie at 1 vote: a, c.");
  });

  it("closes a poll whose message was deleted", async () => {
    const ctx = contextFor();
    const seq = await posted(ctx, await slash(ctx, "Q a b"));
    await after(ctx, "message.deleted", ada, { messageId: seq });
    expect(await react(ctx, ada, seq, "1️⃣")).toEqual([]);
    expect((await slash(ctx, "close")).text).toBe("There is no open poll in this room.");
  });

  it("answers a bad poll to its caller alone, with the usage", async () => {
    const reply = await slash(contextFor(), '"Lunch?" pizza');
    expect(reply.visibility).toBeUndefined();
    expect(reply.text).toBe(
      'Not posted: a poll has 2 to 10 options, not 1.\nUsage: /poll "Question?" "Option A" "Option B" … (2 to 10 options) · /poll close',
    );
  });

  it(`keeps the newest ${KEPT_POLLS} polls and forgets older ones`, async () => {
    const store = new MemoryStore();
    const ctx = { ...contextFor(), store };
    const first = await posted(ctx, await slash(ctx, "First? a b"));
    for (let i = 0; i < KEPT_POLLS; i++) await posted(ctx, await slash(ctx, `Q${i}? a b`));
    expect(await react(ctx, ada, first, "1️⃣")).toEqual([]);
    // Each kept poll is two keys (the poll, its message) and one list of ids.
    expect(store.size).toBe(KEPT_POLLS * 2 + 1);
  });
});
