import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BUILTIN_NAMES,
  builtinsFor,
  durationSeconds,
  helpText,
  isSlashCommand,
  MAX_MUTE_SECONDS,
  meText,
  parseSlash,
  resolveUser,
  slashCompletions,
  SlashCommandName,
  usageText,
  type SlashEntry,
  type SlashParse,
} from "../../src/protocol/index.ts";

const builtin = (text: string) => {
  const parsed = parseSlash(text);
  expect(parsed.kind, JSON.stringify(parsed)).toBe("builtin");
  return parsed.kind === "builtin" ? parsed.command : undefined;
};

const usageOf = (text: string) => {
  const parsed = parseSlash(text);
  expect(parsed.kind, JSON.stringify(parsed)).toBe("usage");
  return parsed as Extract<SlashParse, { kind: "usage" }>;
};

describe("parseSlash: the built-ins", () => {
  it("reads each built-in with its arguments", () => {
    expect(builtin("/me waves at everyone")).toEqual({ name: "me", action: "waves at everyone" });
    expect(builtin("/topic  Release   day ")).toEqual({ name: "topic", topic: "Release   day" });
    expect(builtin("/invite @grace")).toEqual({ name: "invite", user: "grace", role: "member" });
    expect(builtin("/invite grace Moderator")).toEqual({
      name: "invite",
      user: "grace",
      role: "moderator",
    });
    expect(builtin("/kick @bob")).toEqual({ name: "kick", user: "bob" });
    expect(builtin("/ban bob")).toEqual({ name: "ban", user: "bob" });
    expect(builtin("/unban @bob")).toEqual({ name: "unban", user: "bob" });
    expect(builtin("/mute @bob 10m")).toEqual({ name: "mute", user: "bob", seconds: 600 });
    expect(builtin("/unmute bob")).toEqual({ name: "unmute", user: "bob" });
    expect(builtin("/slow 30")).toEqual({ name: "slow", seconds: 30 });
    expect(builtin("/slow 2m")).toEqual({ name: "slow", seconds: 120 });
    expect(builtin("/slow OFF")).toEqual({ name: "slow", seconds: 0 });
    expect(builtin("/help")).toEqual({ name: "help" });
    expect(builtin("/help /Mute")).toEqual({ name: "help", about: "mute" });
    // Its own grammar reads the rest (src/automation/remind-text.ts).
    expect(builtin("/remind me in 5 minutes")).toEqual({ name: "remind", args: "me in 5 minutes" });
  });

  it("reads names in lower case, as Slack does", () => {
    expect(builtin("/TOPIC News")).toEqual({ name: "topic", topic: "News" });
    expect(parseSlash("/Deploy Status")).toEqual({
      kind: "custom",
      name: "deploy",
      text: "Status",
    });
  });

  it("answers a usage error with the usage line for bad arguments", () => {
    const cases: [string, RegExp][] = [
      ["/me", /say what you are doing/],
      ["/topic", /give the new topic/],
      [`/topic ${"t".repeat(201)}`, /topic is longer than 200/],
      ["/invite", /name one user/],
      ["/invite grace owner", /member or moderator/],
      ["/invite a", /a is no user name/],
      ["/kick", /name one user/],
      ["/kick bob carol", /name one user/],
      ["/ban b@d!", /is no user name/],
      ["/mute bob", /name one user and how long/],
      ["/mute bob forever", /a mute lasts/],
      ["/mute bob 0s", /a mute lasts/],
      ["/mute bob 31d", /a mute lasts/],
      ["/slow", /seconds between messages/],
      ["/slow 3601", /slow mode is off or 1 to 3600/],
      ["/slow 2h", /slow mode is off/],
      ["/help a b", /at most one command/],
    ];
    for (const [text, message] of cases) {
      const parsed = usageOf(text);
      expect(parsed.message, text).toMatch(message);
      const name = text.slice(1).split(" ")[0]!;
      expect(parsed.usage, text).toMatch(new RegExp(`^/${name}\\b`));
      expect(usageText(parsed)).toContain(`Usage: /${name}`);
    }
  });

  it("refuses text that names no command", () => {
    expect(usageOf("hello").message).toMatch(/starts with \//);
    expect(usageOf("/").message).toMatch(/name a command/);
    expect(usageOf("/ topic").message).toMatch(/name a command/);
    expect(usageOf("/dé").message).toMatch(/is no command/);
    expect(usageOf(`/${"x".repeat(33)}`).message).toMatch(/1-32/);
    // Someone's long text is cut when shown back.
    expect(usageOf(`/${"é".repeat(500)}`).message.length).toBeLessThan(120);
  });

  it("gives a custom command its text as typed after the name", () => {
    expect(parseSlash("/deploy status --verbose  now")).toEqual({
      kind: "custom",
      name: "deploy",
      text: "status --verbose  now",
    });
    expect(parseSlash("/deploy")).toEqual({ kind: "custom", name: "deploy", text: "" });
    expect(parseSlash("/deploy\nline two")).toEqual({
      kind: "custom",
      name: "deploy",
      text: "line two",
    });
  });
});

describe("parseSlash: any input", () => {
  const wordy = fc.oneof(
    fc.string(),
    fc.string({ unit: "grapheme" }),
    fc
      .tuple(
        fc.constantFrom(...BUILTIN_NAMES, "deploy", "", "TOPIC"),
        fc.array(fc.oneof(fc.string(), fc.constantFrom("@bob", "10m", "off", "moderator", "1d"))),
      )
      .map(([name, args]) => `/${name} ${args.join(" ")}`),
  );

  it("gives a command or a usage error, never throws", () => {
    fc.assert(
      fc.property(wordy, (text) => {
        const parsed = parseSlash(text);
        expect(["builtin", "custom", "usage"]).toContain(parsed.kind);
        if (parsed.kind === "usage") expect(usageText(parsed).length).toBeGreaterThan(0);
        if (parsed.kind === "custom")
          expect(SlashCommandName.safeParse(parsed.name).success).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it("reads back any mute it could be given", () => {
    const unit = fc.constantFrom(["s", 1], ["m", 60], ["h", 3600], ["d", 86_400]) as fc.Arbitrary<
      [string, number]
    >;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), unit, fc.boolean(), (n, [u, size], at) => {
        const parsed = parseSlash(`/mute ${at ? "@" : ""}bob_1 ${n}${u}`);
        if (n * size > MAX_MUTE_SECONDS) expect(parsed.kind).toBe("usage");
        else
          expect(parsed).toEqual({
            kind: "builtin",
            command: { name: "mute", user: "bob_1", seconds: n * size },
          });
      }),
    );
  });
});

describe("the rest of the rules", () => {
  it("tells commands from messages: // posts a message starting with /", () => {
    expect(isSlashCommand("/topic x")).toBe(true);
    expect(isSlashCommand("  /topic x")).toBe(true);
    expect(isSlashCommand("//not a command")).toBe(false);
    expect(isSlashCommand("hello /topic")).toBe(false);
  });

  it("durations", () => {
    expect(durationSeconds("30s")).toBe(30);
    expect(durationSeconds("2H")).toBe(7200);
    expect(durationSeconds("1d")).toBe(86_400);
    expect(durationSeconds("1w")).toBeUndefined();
    expect(durationSeconds("1.5h")).toBeUndefined();
  });

  it("/me reads the same everywhere", () => {
    expect(meText("ada", "waves")).toBe("* ada waves");
  });

  it("offers the built-ins each role may use", () => {
    const names = (standing: Parameters<typeof builtinsFor>[0]) =>
      builtinsFor(standing).map((entry) => entry.name);
    expect(names({ role: "member" })).toEqual(["me", "remind", "help"]);
    expect(names({ role: undefined })).toEqual(["me", "remind", "help"]);
    expect(names({ role: "moderator" })).toEqual([
      "me",
      "topic",
      "invite",
      "kick",
      "ban",
      "unban",
      "mute",
      "unmute",
      "slow",
      "remind",
      "help",
    ]);
    expect(names({ role: "owner" })).toEqual(names({ role: "moderator" }));
    // A service is offered what its scope holds.
    expect(names({ role: "moderator", scope: ["post", "kick"] })).toEqual([
      "me",
      "kick",
      "remind",
      "help",
    ]);
  });

  it("completes names as they are typed, then hints the one typed", () => {
    const entries: SlashEntry[] = [
      ...builtinsFor({ role: "owner" }),
      { name: "deploy", usage: "/deploy status|<branch>", description: "Deploys", kind: "custom" },
    ];
    const names = (text: string) => slashCompletions(text, entries).entries.map((e) => e.name);
    expect(names("/to")).toEqual(["topic"]);
    expect(names("/")).toHaveLength(entries.length);
    expect(names("/U")).toEqual(["unban", "unmute"]);
    expect(slashCompletions("/to", entries).typingName).toBe(true);
    expect(names("/deploy sta")).toEqual(["deploy"]);
    expect(slashCompletions("/deploy sta", entries).typingName).toBe(false);
    expect(names("/nothing here")).toEqual([]);
    expect(names("hello")).toEqual([]);
    expect(names("//x")).toEqual([]);
  });

  it("/help lists the commands, or one", () => {
    const entries = builtinsFor({ role: "member" });
    expect(helpText(entries).split("\n")).toEqual([
      "Commands you may use here:",
      expect.stringMatching(/^\/me <action>: /),
      expect.stringMatching(/^\/remind me\|here <when> <what>: /),
      expect.stringMatching(/^\/help \[command\]: /),
    ]);
    expect(helpText(entries, "me")).toMatch(/^\/me <action>: Say what/);
    expect(helpText(entries, "kick")).toMatch(/no command you may use here/);
  });

  it("finds a user by exact name, then ignoring case, and never guesses between two", () => {
    const people = [
      { id: "1", name: "Bob" },
      { id: "2", name: "bob" },
      { id: "3", name: "carol" },
      { id: "4", name: "Carol" },
      { id: "5" },
    ];
    expect(resolveUser(people, "Bob", "members")).toEqual({ ok: true, id: "1" });
    expect(resolveUser(people, "bob", "members")).toEqual({ ok: true, id: "2" });
    expect(resolveUser(people, "BOB", "members")).toMatchObject({ ok: false });
    expect(resolveUser(people, "BOB", "members")).toMatchObject({ message: /2 of members/ });
    expect(resolveUser(people, "dave", "members")).toEqual({
      ok: false,
      message: "nobody named dave is among members",
    });
  });

  it("custom command names: Slack's rule, never a built-in", () => {
    expect(SlashCommandName.safeParse("deploy").success).toBe(true);
    expect(SlashCommandName.safeParse("ci_status-2").success).toBe(true);
    expect(SlashCommandName.safeParse("topic").success).toBe(false);
    expect(SlashCommandName.safeParse("remind").success).toBe(false);
    expect(SlashCommandName.safeParse("Deploy").success).toBe(false);
    expect(SlashCommandName.safeParse("").success).toBe(false);
    expect(SlashCommandName.safeParse("x".repeat(33)).success).toBe(false);
  });
});
