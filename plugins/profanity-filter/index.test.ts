import { describe, expect, it } from "vitest";
import type { Draft, PluginContext } from "../../src/plugins/api.ts";
import { contextFor, person, runCommand } from "../testing.ts";
import plugin from "./index.ts";

const ada = person("ada");
const draft = (text: string, kind: Draft["kind"] = "post"): Draft => ({
  kind,
  text,
  author: ada,
  room: "lobby",
});
const post = (ctx: PluginContext, text: string, kind: Draft["kind"] = "post") =>
  plugin.beforeCommit!(draft(text, kind), ctx);
const profanity = (ctx: PluginContext, args: string, rank?: "member" | "moderator" | "owner") =>
  runCommand(plugin, ctx, { command: "profanity", args, user: ada, rank });

describe("profanity-filter", () => {
  it("rewrites the default words in posts and edits, and lets clean text through", async () => {
    const ctx = contextFor();
    expect(await post(ctx, "Well, darn.")).toEqual({ rewrite: "Well, ****." });
    expect(await post(ctx, "What the heck", "edit")).toEqual({ rewrite: "What the ****" });
    expect(await post(ctx, "All good here")).toEqual({ allow: true });
  });

  it("refuses in refuse mode, naming the words to the author", async () => {
    const ctx = contextFor();
    const answer = await profanity(ctx, "mode refuse", "moderator");
    expect(answer).toEqual({
      text: expect.stringContaining("Mode: refuse"),
      visibility: "ephemeral",
    });
    expect(await post(ctx, "Darn, heck and darn")).toEqual({
      refuse: 'This room does not allow "darn", "heck". Change the wording and send it again.',
    });
    await profanity(ctx, "mode rewrite", "owner");
    expect(await post(ctx, "darn")).toEqual({ rewrite: "****" });
  });

  it("adds and removes words per room, a comma-separated list at a time", async () => {
    const lobby = contextFor("lobby");
    const other = contextFor("other");
    const added = await profanity(lobby, "add Gosh, golly gee, gosh", "moderator");
    expect(added.text).toBe("Added gosh, golly gee.\nThe list has 7 words.");
    expect(await post(lobby, "Golly   gee, GOSH!")).toEqual({ rewrite: "*****   ***, ****!" });
    // Another room's store is its own: its list is still the default one.
    expect(await post(other, "gosh")).toEqual({ allow: true });

    const removed = await profanity(lobby, "remove darn, nope", "moderator");
    expect(removed.text).toBe("Removed darn.\nThe list has 6 words.");
    expect(await post(lobby, "darn")).toEqual({ allow: true });
    const list = await profanity(lobby, "list");
    expect(list.text).toBe("Mode: rewrite. Words (6): crud, dang, frick, golly gee, gosh, heck");
  });

  it("says why a word cannot be listed, and keeps the list under its cap", async () => {
    const ctx = contextFor();
    const answer = await profanity(ctx, "add ok, a+b", "owner");
    expect(answer.text).toBe(
      'Added ok.\nNot done: "a+b" is not a word: letters and digits, joined by spaces, \' or -.\nThe list has 6 words.',
    );
    const many = Array.from({ length: 195 }, (_, i) => `w${i}`).join(",");
    expect((await profanity(ctx, `add ${many}`, "owner")).text).toContain(
      "Not done: the list holds at most 200 words.",
    );
    expect((await profanity(ctx, "list")).text).toContain("Words (6)");
  });

  it("keeps its settings to moderators, owners and admins; anyone may list", async () => {
    const ctx = contextFor();
    for (const rank of [undefined, "member"] as const) {
      expect((await profanity(ctx, "remove heck", rank)).text).toBe(
        "Only the room's moderators and owner change the filter.",
      );
      expect((await profanity(ctx, "mode refuse", rank)).text).toBe(
        "Only the room's moderators and owner change the filter.",
      );
    }
    expect(await post(ctx, "heck")).toEqual({ rewrite: "****" });
    expect((await profanity(ctx, "list", "member")).text).toContain("heck");
  });

  it("answers bad usage with the usage, to the caller alone", async () => {
    const ctx = contextFor();
    for (const args of ["", "help", "mode loud", "add"]) {
      const answer = await profanity(ctx, args, "owner");
      expect(answer.visibility).toBe("ephemeral");
      expect(answer.text).toMatch(/^Usage: \/profanity/);
    }
  });
});
