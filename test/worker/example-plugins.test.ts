import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import linkUnfurler from "../../plugins/link-unfurler/index.ts";
import { unfurl } from "../../plugins/link-unfurler/unfurl.ts";
import poll from "../../plugins/poll/index.ts";
import profanityFilter from "../../plugins/profanity-filter/index.ts";
import { contextFor, eventOf, person, runCommand } from "../../plugins/testing.ts";

/**
 * The example plugins (plugins/, docs/plugins.md) inside workerd, the runtime their Dynamic
 * Workers run in: their unit tests run in Node, and this checks that what they lean on
 * (Unicode property escapes, Intl.Segmenter, crypto.getRandomValues, fetch with a manual redirect,
 * a deadline and a cancelled body) behaves the same here. The sandbox and its limits are tested
 * with the plugin runner.
 */
const ada = person("ada");

describe("the example plugins in workerd", () => {
  it("profanity-filter rewrites by grapheme and refuses in refuse mode", async () => {
    const ctx = contextFor();
    const draft = {
      kind: "post" as const,
      text: "So ein A\u0308rger, heck!",
      author: ada,
      room: "lobby",
    };
    await runCommand(profanityFilter, ctx, {
      command: "profanity",
      args: "add ärger",
      user: ada,
      rank: "owner",
    });
    expect(await profanityFilter.beforeCommit!(draft, ctx)).toEqual({
      rewrite: "So ein *****, ****!",
    });
    await runCommand(profanityFilter, ctx, {
      command: "profanity",
      args: "mode refuse",
      user: ada,
      rank: "owner",
    });
    expect(await profanityFilter.beforeCommit!(draft, ctx)).toEqual({
      refuse: 'This room does not allow "ärger", "heck". Change the wording and send it again.',
    });
  });

  it("poll posts, learns its message, counts a vote and closes", async () => {
    const ctx = contextFor();
    const posted = await runCommand(poll, ctx, {
      command: "poll",
      args: "Lunch? Thai Pizza",
      user: ada,
    });
    const message = eventOf("message.posted", { id: "bot", name: "poll" }, { text: posted.text });
    await poll.afterEvent!(message, ctx);
    const vote = eventOf("reaction.added", ada, { messageId: message.seq, emoji: "2️⃣" });
    const [edit] = (await poll.afterEvent!(vote, ctx)) ?? [];
    expect(edit).toMatchObject({
      edit: message.seq,
      text: expect.stringContaining("2️⃣ Pizza\n██████████ 1 (100%)"),
    });
    const closed = await runCommand(poll, ctx, { command: "poll", args: "close", user: ada });
    expect(closed.text).toBe("📊 Poll closed: Lunch? Pizza wins with 1 vote.");
  });

  it("link-unfurler reads a real page through workerd's fetch, here the worker's own", async () => {
    // The worker serves the UI's index.html for any host: list one and point the fetch at it.
    const ctx = contextFor("lobby", (input, init) => SELF.fetch(input, init));
    const event = eventOf("message.posted", ada, {
      text: "see https://chat.example/ and https://other.example/",
    });
    expect(await unfurl(event, ctx, ["chat.example"])).toEqual([
      { post: "🔗 edgechat (chat.example)", replyTo: event.seq },
    ]);
    // As installed, it lists public hosts only: no request, no reply.
    expect(await linkUnfurler.afterEvent!(event, ctx)).toEqual([]);
  });
});
