import { describe, expect, it } from "vitest";
import {
  applyVerdict,
  commandKey,
  commandsOf,
  draftOf,
  pluginActor,
  pluginEventOf,
  pluginFor,
  rankOf,
  replyCommands,
  replyPostClientId,
  slashAnswer,
} from "../../src/plugins/room-bridge.ts";
import type { PluginManifest } from "../../src/protocol/automation.ts";
import { Command, RoomEvent } from "../../src/protocol/index.ts";
import { Actor } from "../../src/identity/actor.ts";

const ada: Actor = { id: "u_ada", name: "ada", kind: "user" };

const manifest = (id: string, commands: string[] = []): { manifest: PluginManifest } => ({
  manifest: {
    id,
    version: "1.0.0",
    description: "",
    hooks: { beforeCommit: false, afterEvent: false },
    commands: commands.map((name) => ({ name, usage: `/${name}`, description: name })),
    jobs: [],
    hosts: [],
  },
});

describe("a plugin's bot", () => {
  it("is a service of its own per room and plugin, that may post, edit and react there only", () => {
    const bot = pluginActor("lobby", "poll");
    expect(Actor.parse(bot)).toEqual(bot);
    expect(bot).toEqual({
      id: expect.stringMatching(/^svc_[0-9a-f]{32}$/),
      name: "Plugin: poll",
      kind: "service",
      scope: { rooms: ["lobby"], actions: ["post", "edit", "react"], role: "member" },
    });
    expect(pluginActor("lobby", "poll")).toEqual(bot);
    const ids = new Set(
      [pluginActor("lobby", "poll"), pluginActor("other", "poll"), pluginActor("lobby", "pol")].map(
        (actor) => actor.id,
      ),
    );
    expect(ids.size).toBe(3);
  });
});

describe("what before-commit hooks see and do", () => {
  it("drafts posts and edits only", () => {
    expect(draftOf({ type: "post", clientId: "c", text: "hi" }, ada, "lobby")).toEqual({
      kind: "post",
      text: "hi",
      author: { id: "u_ada", name: "ada" },
      room: "lobby",
    });
    expect(draftOf({ type: "post", clientId: "c", text: "re", replyTo: 4 }, ada, "lobby")).toEqual({
      kind: "post",
      text: "re",
      author: { id: "u_ada", name: "ada" },
      room: "lobby",
      replyTo: 4,
    });
    expect(
      draftOf({ type: "edit", clientId: "c", messageId: 7, text: "fixed" }, ada, "lobby"),
    ).toEqual({
      kind: "edit",
      text: "fixed",
      author: { id: "u_ada", name: "ada" },
      room: "lobby",
      messageId: 7,
    });
    const others: Command[] = [
      { type: "react", clientId: "c", messageId: 7, emoji: "👍", on: true },
      { type: "topic", clientId: "c", topic: "darn" },
      { type: "delete", clientId: "c", messageId: 7 },
    ];
    for (const command of others) expect(draftOf(command, ada, "lobby")).toBeUndefined();
  });

  it("lets a command through, rewrites its text alone, or refuses it naming the plugin", () => {
    const post: Command = { type: "post", clientId: "c1", text: "darn", replyTo: 3 };
    expect(applyVerdict(post, "polite", { allow: true })).toEqual({ ok: true, command: post });
    expect(applyVerdict(post, "polite", { rewrite: "****" })).toEqual({
      ok: true,
      command: { type: "post", clientId: "c1", text: "****", replyTo: 3 },
    });
    const edit: Command = { type: "edit", clientId: "c2", messageId: 9, text: "darn" };
    expect(applyVerdict(edit, "polite", { rewrite: "****" })).toEqual({
      ok: true,
      command: { type: "edit", clientId: "c2", messageId: 9, text: "****" },
    });
    expect(applyVerdict(post, "polite", { refuse: "not here" })).toEqual({
      ok: false,
      error: { code: "forbidden", message: "polite: not here" },
    });
  });
});

describe("what after-event hooks see", () => {
  it("is the committed event's seq, type, time, author and data", () => {
    const event = RoomEvent.parse({
      seq: 12,
      id: "ev_12",
      type: "message.posted",
      at: 1_700_000_000_000,
      actor: { id: "u_ada", name: "ada" },
      data: { text: "hello", replyTo: 3 },
    });
    expect(pluginEventOf(event)).toEqual({
      seq: 12,
      type: "message.posted",
      at: 1_700_000_000_000,
      author: { id: "u_ada", name: "ada" },
      data: { text: "hello", replyTo: 3 },
    });
  });
});

describe("the commands a plugin's actions become", () => {
  it("are the room's own commands, with clientIds the same on every replay", () => {
    const actions = [
      { post: "hi" },
      { post: "re", replyTo: 4 },
      { edit: 5, text: "now" },
      { react: 5, emoji: "👀" },
    ];
    const commands = commandsOf(actions, "poll:event:12");
    expect(commands.map(({ clientId: _clientId, ...rest }) => rest)).toEqual([
      { type: "post", text: "hi" },
      { type: "post", text: "re", replyTo: 4 },
      { type: "edit", messageId: 5, text: "now" },
      { type: "react", messageId: 5, emoji: "👀", on: true },
    ]);
    for (const command of commands) expect(Command.parse(command)).toEqual(command);
    expect(new Set(commands.map((command) => command.clientId)).size).toBe(4);
    expect(commandsOf(actions, "poll:event:12")).toEqual(commands);
    expect(commandsOf(actions, "poll:event:13")[0]!.clientId).not.toBe(commands[0]!.clientId);
    // However long the key, a clientId fits the contract's 64 characters.
    const long = commandsOf([{ post: "x" }], "k".repeat(5000))[0]!;
    expect(Command.parse(long).clientId.length).toBeLessThanOrEqual(64);
  });

  it("for a command's reply: its text posted as action 0 when in the channel, its actions from 1", () => {
    const key = commandKey("poll", "u_ada:c1");
    expect(key).toBe("poll:command:u_ada:c1");
    const inChannel = replyCommands(
      { text: "📊 Lunch?", visibility: "in_channel", actions: [{ react: 3, emoji: "👍" }] },
      key,
    );
    expect(inChannel).toMatchObject([
      { type: "post", text: "📊 Lunch?", clientId: replyPostClientId(key) },
      { type: "react", messageId: 3 },
    ]);
    // Answered to the caller alone: nothing is posted, and no action takes the post's clientId.
    const ephemeral = replyCommands({ text: "done", actions: [{ react: 3, emoji: "👍" }] }, key);
    expect(ephemeral).toEqual([inChannel[1]]);
    expect(replyCommands({ text: "only you", visibility: "ephemeral" }, key)).toEqual([]);
  });

  it("answer the caller: the post's seq, why it was not posted, or the text for them alone", () => {
    const posted = { text: "📊", visibility: "in_channel" as const };
    expect(slashAnswer("poll", posted, { firstSeq: 8 })).toEqual({ kind: "posted", seq: 8 });
    expect(slashAnswer("poll", posted, { refused: "you are muted" })).toEqual({
      kind: "ephemeral",
      text: "/poll answered, but its answer was not posted: you are muted",
    });
    expect(slashAnswer("poll", { text: "usage" }, { firstSeq: 8 })).toEqual({
      kind: "ephemeral",
      text: "usage",
    });
    expect(slashAnswer("poll", { actions: [{ react: 1, emoji: "👍" }] }, {})).toEqual({
      kind: "ephemeral",
      text: "/poll done.",
    });
  });
});

describe("slash commands and ranks", () => {
  it("finds the plugin with a command, the first by id when two have it", () => {
    const plugins = [manifest("zeta", ["poll"]), manifest("alpha", ["poll", "vote"])];
    expect(pluginFor(plugins, "poll")?.id).toBe("alpha");
    expect(pluginFor(plugins, "vote")?.id).toBe("alpha");
    expect(pluginFor(plugins, "nope")).toBeUndefined();
    expect(pluginFor([], "poll")).toBeUndefined();
  });

  it("gives the plugin the caller's rank", () => {
    expect(rankOf({ role: undefined })).toBe("none");
    expect(rankOf({ role: "member" })).toBe("member");
    expect(rankOf({ role: "moderator" })).toBe("moderator");
    expect(rankOf({ role: "owner" })).toBe("owner");
    expect(rankOf({ role: "member", admin: true })).toBe("admin");
  });
});
