import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DryRunReport, Reminder, Rule, RuleInput } from "../../src/client/index.ts";
import {
  actionText,
  clip,
  cronText,
  dryRunHeadline,
  durationText,
  mayAutomate,
  mayCancel,
  mayManageRoomPlugins,
  nextText,
  orList,
  ruleSentence,
  SCHEDULE_PRESETS,
  timedRules,
  triggerText,
  untilText,
  windowText,
} from "../../src/web/automation/automation-rules.ts";
import {
  bundleProblem,
  commandChoices,
  hooksText,
  hostsOf,
  grantText,
  hostsText,
  idFromFileName,
  newestFirst,
} from "../../src/web/automation/plugin-rules.ts";
import {
  checkDraft,
  draftOf,
  emptyAction,
  emptyDraft,
  inputOf,
  keywordsOf,
  localInputOf,
  mayAddAction,
  moved,
  msOfLocalInput,
  placeOfMessage,
  presetOf,
  type RuleDraft,
} from "../../src/web/automation/rule-draft.ts";
import { ADMIN_SECTIONS, automationHref, currentRoute } from "../../src/web/route.ts";

/** The rule: when a message mentions incident, post the runbook, ping moderators, reply. */
const INCIDENT: RuleInput = {
  name: "Incident",
  enabled: true,
  trigger: { on: "message", match: { keywords: ["incident"] } },
  conditions: {},
  actions: [
    { do: "post", text: "Runbook: https://runbooks.example/incident" },
    { do: "notify", role: "moderator", text: "{user} reported an incident" },
    { do: "reply", text: "On it. Updates in this thread." },
  ],
};

const HOOK = `ih_${"a".repeat(24)}`;
const WEBHOOK = `wh_${"b".repeat(24)}`;

/** One rule of every trigger and every action kind, each as the contract accepts it. */
const EVERY_KIND: RuleInput[] = [
  INCIDENT,
  {
    name: "Pattern",
    enabled: false,
    trigger: {
      on: "message",
      match: { keywords: ["db", "disk full"], pattern: "err(or)?\\s+\\d+" },
    },
    conditions: { roles: ["member", "moderator"] },
    actions: [{ do: "react", emoji: "👀" }],
  },
  {
    name: "Welcome",
    enabled: true,
    trigger: { on: "member_joined" },
    conditions: {},
    actions: [{ do: "post", text: "Welcome, {user}!" }],
  },
  {
    name: "Bye",
    enabled: true,
    trigger: { on: "member_left" },
    conditions: {},
    actions: [{ do: "webhook", webhook: WEBHOOK }],
  },
  {
    name: "Thumbs",
    enabled: true,
    trigger: { on: "reaction", emoji: "👍" },
    conditions: {
      window: { days: [1, 2, 3, 4, 5], from: "09:00", to: "17:00", timeZone: "Europe/Paris" },
    },
    actions: [{ do: "mute", seconds: 600 }],
  },
  {
    name: "Any reaction",
    enabled: true,
    trigger: { on: "reaction" },
    conditions: { window: { from: "22:00", to: "06:00", timeZone: "UTC" } },
    actions: [{ do: "topic", topic: "Quiet hours" }],
  },
  {
    name: "Stand-up",
    enabled: true,
    trigger: { on: "schedule", cron: "0 9 * * 1", timeZone: "Europe/Paris" },
    conditions: {},
    actions: [{ do: "plugin", plugin: "poll", command: "poll", args: '"Ready?" yes no' }],
  },
  {
    name: "Launch",
    enabled: true,
    trigger: { on: "time", at: Date.UTC(2030, 0, 2, 9, 30) },
    conditions: {},
    actions: [{ do: "topic", topic: "" }],
  },
  {
    name: "CI",
    enabled: true,
    trigger: { on: "webhook", hook: HOOK },
    conditions: { roles: ["owner"] },
    actions: [
      { do: "reply", text: "Seen: {text}" },
      { do: "notify", role: "owner", text: "CI said something in {room}" },
    ],
  },
];

describe("a rule in words", () => {
  it("says the issue's rule as a sentence", () => {
    expect(ruleSentence(INCIDENT)).toBe(
      "When a message mentions “incident”: post “Runbook: https://runbooks.example/incident”; " +
        "notify moderators: “{user} reported an incident”; reply in a thread: “On it. Updates in this thread.”",
    );
  });

  it("says every trigger", () => {
    const names = { hooks: new Map([[HOOK, "CI"]]) };
    expect(EVERY_KIND.map((rule) => triggerText(rule.trigger, names))).toEqual([
      "a message mentions “incident”",
      "a message mentions “db” or “disk full” or matches /err(or)?\\s+\\d+/",
      "someone joins",
      "someone leaves",
      "someone reacts with 👍",
      "someone reacts",
      "every Monday at 9:00 (Europe/Paris)",
      expect.stringMatching(/^once, on .*2030/),
      "a post arrives through the incoming webhook “CI”",
    ]);
    expect(triggerText({ on: "webhook", hook: HOOK })).toBe(
      `a post arrives through the incoming webhook ${HOOK}`,
    );
  });

  it("says every action, named where the ids are known", () => {
    const names = { webhooks: new Map([[WEBHOOK, "Pager"]]) };
    const actions = EVERY_KIND.flatMap((rule) => rule.actions).map((a) => actionText(a, names));
    expect(actions).toEqual([
      "post “Runbook: https://runbooks.example/incident”",
      "notify moderators: “{user} reported an incident”",
      "reply in a thread: “On it. Updates in this thread.”",
      "react with 👀",
      "post “Welcome, {user}!”",
      "send it to the webhook Pager",
      "mute the author for 10 minutes",
      "set the topic to “Quiet hours”",
      'run /poll "Ready?" yes no (plugin poll)',
      "clear the topic",
      "reply in a thread: “Seen: {text}”",
      "notify the owner: “CI said something in {room}”",
    ]);
  });

  it("says conditions: roles, and windows of days, including overnight ones", () => {
    expect(ruleSentence(EVERY_KIND[1]!)).toContain("(only for members or moderators)");
    expect(windowText(EVERY_KIND[4]!.conditions.window!)).toBe("Mon–Fri, 09:00–17:00 Europe/Paris");
    expect(windowText(EVERY_KIND[5]!.conditions.window!)).toBe(
      "every day, 22:00–06:00 (overnight) UTC",
    );
    expect(windowText({ days: [0, 6], from: "10:00", to: "12:00", timeZone: "UTC" })).toBe(
      "Sun, Sat, 10:00–12:00 UTC",
    );
  });

  it("reads the common cron shapes and leaves the rest as they are", () => {
    expect(SCHEDULE_PRESETS.map((p) => cronText(p.cron))).toEqual([
      "every Monday at 9:00",
      "every weekday at 9:00",
      "every day at 9:00",
      "every day at 17:00",
      "every hour, on the hour",
      "on day 1 of every month at 9:00",
    ]);
    expect(cronText("30 * * * *")).toBe("every hour at :30");
    expect(cronText("15 18 * * 1,3,5")).toBe("every Monday, Wednesday and Friday at 18:15");
    expect(cronText("0 10 * * 0,6")).toBe("every weekend day at 10:00");
    expect(cronText("*/5 * * * *")).toBe("on the schedule */5 * * * *");
    expect(cronText("0 9 * 1 *")).toBe("on the schedule 0 9 * 1 *");
    expect(cronText("0 9 * *")).toBe("on the schedule 0 9 * *");
  });

  it("never throws on any cron text", () => {
    fc.assert(fc.property(fc.string(), (text) => typeof cronText(text) === "string"));
  });

  it("cuts long texts by characters, not UTF-16 units, and lists with commas", () => {
    expect(clip("a".repeat(70))).toHaveLength(60);
    expect(clip("😀".repeat(70), 5)).toBe("😀😀😀😀…");
    expect(clip("  several\n  lines  ")).toBe("several lines");
    expect(orList(["a"])).toBe("a");
    expect(orList(["a", "b", "c"], "and")).toBe("a, b and c");
    expect(durationText(600)).toBe("10 minutes");
    expect(durationText(7200)).toBe("2 h");
    expect(durationText(90)).toBe("90 s");
  });

  it("says how far a time is", () => {
    const now = 1_000_000_000_000;
    expect(untilText(now - 5, now)).toBe("now");
    expect(untilText(now + 45_000, now)).toBe("in 45 s");
    expect(untilText(now + 12 * 60_000, now)).toBe("in 12 min");
    expect(untilText(now + 3 * 3_600_000, now)).toBe("in 3 h");
    expect(untilText(now + 3 * 86_400_000, now)).toBe("in 3 days");
  });
});

describe("the rule builder's draft", () => {
  it("gives back every kind of rule it was opened on, unchanged", () => {
    for (const rule of EVERY_KIND) {
      const checked = checkDraft(draftOf(rule, "Europe/Paris"));
      expect(checked).toEqual({ ok: true, input: rule });
    }
  });

  it("builds the issue's rule from a new form", () => {
    const draft = emptyDraft("Europe/Paris");
    draft.name = "Incident";
    draft.keywords = " incident ,, ";
    draft.actions = [
      { ...emptyAction("post"), text: "Runbook: https://runbooks.example/incident" },
      { ...emptyAction("notify"), text: "{user} reported an incident" },
      { ...emptyAction("reply"), text: "On it. Updates in this thread." },
    ];
    expect(checkDraft(draft)).toEqual({ ok: true, input: INCIDENT });
  });

  it("places each problem by its part, the empty fields first", () => {
    const draft = emptyDraft("UTC");
    draft.actions = [emptyAction("post"), { ...emptyAction("react"), emoji: "not one" }];
    const checked = checkDraft(draft);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toEqual([
      { place: { part: "name" }, message: "Give the rule a name." },
      { place: { part: "trigger" }, message: "a message trigger needs keywords or a pattern" },
      { place: { part: "action", index: 0 }, message: "text is empty" },
      { place: { part: "action", index: 1 }, message: "not a single emoji" },
    ]);
  });

  it("asks for what a kind needs before the schema does", () => {
    const draft: RuleDraft = { ...emptyDraft("UTC"), name: "x", on: "time", at: "" };
    draft.actions = [emptyAction("webhook"), emptyAction("plugin")];
    draft.window = true;
    draft.days = [];
    const checked = checkDraft(draft);
    expect(checked.ok ? [] : checked.problems.map((p) => p.message)).toEqual([
      "Choose the date and time.",
      "Choose at least one day.",
      "Choose the webhook.",
      "Choose the plugin command.",
    ]);
  });

  it("refuses an unknown time zone and a window with a bad time, as the server would", () => {
    const draft: RuleDraft = {
      ...emptyDraft("UTC"),
      name: "x",
      on: "schedule",
      timeZone: "Mars/Olympus",
    };
    draft.actions = [{ ...emptyAction("post"), text: "hi" }];
    const checked = checkDraft(draft);
    expect(checked.ok ? [] : checked.problems).toEqual([
      { place: { part: "trigger" }, message: "not a known IANA time zone" },
    ]);
  });

  it("sends all seven days as no days at all, and days in order", () => {
    const draft = { ...emptyDraft("UTC"), window: true, days: [5, 1, 3] };
    expect(
      (inputOf(draft) as { conditions: { window: { days: number[] } } }).conditions.window.days,
    ).toEqual([1, 3, 5]);
    const all = { ...draft, days: [0, 1, 2, 3, 4, 5, 6] };
    expect(
      (inputOf(all) as { conditions: { window: object } }).conditions.window,
    ).not.toHaveProperty("days");
  });

  it("reads keywords at commas", () => {
    expect(keywordsOf("incident, disk full ,,db ")).toEqual(["incident", "disk full", "db"]);
    expect(keywordsOf(" , ")).toEqual([]);
  });

  it("turns a datetime-local value into ms and back, in the browser's zone", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
        const minute = Math.floor(ms / 60_000) * 60_000;
        const text = localInputOf(minute);
        expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
        // A local time that a DST change skips or repeats may read back an hour off.
        expect(Math.abs(msOfLocalInput(text) - minute)).toBeLessThanOrEqual(3_600_000);
        expect(localInputOf(msOfLocalInput(text))).toBe(text);
      }),
    );
    expect(msOfLocalInput("tomorrow")).toBeNaN();
  });

  it("moves, and stops adding at five actions", () => {
    expect(moved(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(moved(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(moved(["a", "b"], 0, -1)).toEqual(["a", "b"]);
    expect(moved(["a", "b"], 1, 2)).toEqual(["a", "b"]);
    expect(mayAddAction({ actions: Array.from({ length: 4 }, () => emptyAction()) })).toBe(true);
    expect(mayAddAction({ actions: Array.from({ length: 5 }, () => emptyAction()) })).toBe(false);
    expect(presetOf(" 0 9 * * 1 ")).toBe("0 9 * * 1");
    expect(presetOf("1 2 3 4 5")).toBe("custom");
  });
});

describe("the server's refusals, placed", () => {
  it("puts a message with a path next to its part, without the path", () => {
    expect(placeOfMessage("actions.1.text: text is empty")).toEqual({
      place: { part: "action", index: 1 },
      message: "text is empty",
    });
    expect(placeOfMessage("trigger.match: a message trigger needs keywords or a pattern")).toEqual({
      place: { part: "trigger" },
      message: "a message trigger needs keywords or a pattern",
    });
    expect(
      placeOfMessage("conditions.window.from: a time of day is HH:MM, 00:00 to 24:00"),
    ).toEqual({
      place: { part: "conditions" },
      message: "a time of day is HH:MM, 00:00 to 24:00",
    });
    expect(placeOfMessage("name: Too small: expected string to have >=1 characters")).toEqual({
      place: { part: "name" },
      message: "Too small: expected string to have >=1 characters",
    });
    expect(placeOfMessage("rule.actions.0.emoji: not a single emoji")).toEqual({
      place: { part: "action", index: 0 },
      message: "not a single emoji",
    });
  });

  it("keeps a message without a known path whole, for the form", () => {
    for (const message of [
      "the pattern is not valid RE2: missing closing )",
      "a react action needs a message: this trigger has none",
      "Note: reply needs a message",
      "id: unknown rule",
    ])
      expect(placeOfMessage(message)).toEqual({ place: { part: "form" }, message });
  });
});

describe("who sees what, and the schedules' list", () => {
  it("opens automation to moderators and above, plugins to owners and admins", () => {
    expect(mayAutomate({ role: "member" })).toBe(false);
    expect(mayAutomate({ role: undefined })).toBe(false);
    expect(mayAutomate({ role: "moderator" })).toBe(true);
    expect(mayAutomate({ role: undefined, admin: true })).toBe(true);
    expect(mayManageRoomPlugins({ role: "moderator" })).toBe(false);
    expect(mayManageRoomPlugins({ role: "owner" })).toBe(true);
    expect(mayManageRoomPlugins({ role: "member", admin: true })).toBe(true);
  });

  const rule = (
    name: string,
    nextAt: number | null,
    on: "schedule" | "message" = "schedule",
  ): Rule => ({
    ...EVERY_KIND[on === "schedule" ? 6 : 0]!,
    name,
    id: `rl_${"0".repeat(16)}`,
    by: { id: "u1", name: "ada" },
    savedAt: 1,
    nextAt,
  });

  it("lists timed rules soonest first, those that will not fire last", () => {
    const list = timedRules([
      rule("c", null),
      rule("b", 20),
      rule("msg", 5, "message"),
      rule("a", 10),
    ]);
    expect(list.map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(nextText({ enabled: false, nextAt: 10 }, 0)).toBe("off");
    expect(nextText({ enabled: true, nextAt: null }, 0)).toBe("will not fire again");
    expect(nextText({ enabled: true }, 0)).toBe("not known yet");
    expect(nextText({ enabled: true, nextAt: 120_000 }, 0)).toMatch(/\(in 2 min\)$/);
    // A schedule's next time in its own zone: 09:00 in Paris, whatever the browser's zone.
    const standUp = {
      enabled: true,
      nextAt: Date.UTC(2030, 0, 7, 8),
      trigger: EVERY_KIND[6]!.trigger,
    };
    expect(nextText(standUp, Date.UTC(2030, 0, 6, 8))).toMatch(
      /09:00.* Europe\/Paris \(in 24 h\)$/,
    );
  });

  const reminder = (to: "me" | "here", by: string): Reminder => ({
    id: `rem_${"1".repeat(16)}`,
    to,
    text: "check the deploy",
    at: 1,
    by: { id: by, name: by },
    createdAt: 0,
  });

  it("offers Cancel on your reminders, and on the room's to moderators", () => {
    const member = { id: "u1", standing: { role: "member" as const } };
    const moderator = { id: "u2", standing: { role: "moderator" as const } };
    expect(mayCancel(reminder("me", "u1"), member)).toBe(true);
    expect(mayCancel(reminder("here", "u3"), member)).toBe(false);
    expect(mayCancel(reminder("here", "u3"), moderator)).toBe(true);
    expect(mayCancel(reminder("me", "u3"), moderator)).toBe(false);
  });

  it("heads a dry run's report with what it found", () => {
    const hit = { seq: 4, at: 1, summary: "ada: incident on db", actions: ["post …"] };
    const report = (hits: DryRunReport["hits"], scanned = 120): DryRunReport => ({ scanned, hits });
    expect(dryRunHeadline(report([]))).toBe(
      "Of 120 recent events, none would have fired this rule.",
    );
    expect(dryRunHeadline(report([hit], 1))).toBe(
      "Of 1 recent event, this rule would have fired once.",
    );
    expect(dryRunHeadline(report([hit, hit, { ...hit, skipped: "over the budget" }]))).toBe(
      "Of 120 recent events, this rule would have fired 2 times, and been held back once.",
    );
    expect(
      dryRunHeadline({ scanned: 0, hits: [], upcoming: [Date.UTC(2030, 0, 7, 8), 2] }),
    ).toMatch(
      /^Of 0 recent events, none would have fired this rule\. It fires next .*2030.*, then 1 more listed\.$/,
    );
  });
});

describe("the plugin screens' words", () => {
  const poll = {
    id: "poll",
    version: "1.2.0",
    description: "Polls with live results",
    hooks: { beforeCommit: false, afterEvent: true },
    commands: [{ name: "poll", usage: '"Question?" "A" "B"', description: "Starts a poll" }],
    jobs: [],
    hosts: [],
  };

  it("says what a plugin does and where it may fetch", () => {
    expect(hooksText(poll)).toBe("reacts to what happens in the room; adds /poll.");
    expect(
      hooksText({
        hooks: { beforeCommit: true, afterEvent: false },
        commands: [],
        jobs: [{ name: "d", cron: "0 9 * * *", timeZone: "UTC" }],
      }),
    ).toBe("checks posts and edits before they are committed; runs a job.");
    expect(
      hooksText({ hooks: { beforeCommit: false, afterEvent: false }, commands: [], jobs: [] }),
    ).toBe("Does nothing yet.");
    expect(hostsText([])).toBe("has no network");
    expect(hostsText(["a.example"], "asks to fetch from")).toBe("asks to fetch from a.example");
    expect(grantText([])).toBe("no hosts");
    expect(grantText(["a.example", "b.example"])).toBe("hosts a.example, b.example");
    expect(hostsText(["a.example", "b.example"])).toBe("may fetch from a.example and b.example");
  });

  it("offers the commands of the plugins this room runs", () => {
    const unfurl = {
      ...poll,
      id: "link-unfurler",
      commands: [{ name: "unfurl", usage: "", description: "" }],
    };
    expect(commandChoices([poll, unfurl], new Set(["poll"]))).toEqual([
      { value: "poll/poll", label: '/poll "Question?" "A" "B" (poll)' },
    ]);
    expect(commandChoices([poll, unfurl], new Set(["link-unfurler"]))).toEqual([
      { value: "link-unfurler/unfurl", label: "/unfurl (link-unfurler)" },
    ]);
  });

  it("guesses an id from a bundle's file name", () => {
    expect(idFromFileName("poll.js")).toBe("poll");
    expect(idFromFileName("C:\\plugins\\Link Unfurler.bundle.mjs")).toBe("link-unfurler");
    expect(idFromFileName("/tmp/123-profanity_filter.js")).toBe("profanity-filter");
    expect(idFromFileName("x.js")).toBe("");
  });

  it("reads hosts, sorts versions by number, and checks a bundle's file before reading it", () => {
    expect(hostsOf(" API.example.com, b.example  api.example.com ")).toEqual([
      "api.example.com",
      "b.example",
    ]);
    expect(hostsOf("")).toEqual([]);
    expect(
      newestFirst([{ version: "1.9.0" }, { version: "1.10.0" }, { version: "0.9.12" }]).map(
        (v) => v.version,
      ),
    ).toEqual(["1.10.0", "1.9.0", "0.9.12"]);
    expect(bundleProblem({ name: "poll.js", size: 10 })).toBeUndefined();
    expect(bundleProblem({ name: "poll.ts", size: 10 })).toMatch(/one \.js or \.mjs file/);
    expect(bundleProblem({ name: "poll.js", size: 0 })).toBe("That file is empty.");
    expect(bundleProblem({ name: "poll.mjs", size: 2 * 1024 * 1024 })).toMatch(/2048 KiB/);
  });
});

describe("the Automation view's URL", () => {
  it("opens a room's Automation view, and the dashboard's Plugins section", () => {
    expect(automationHref("ops team")).toBe("#/room/ops%20team/automation");
    expect(currentRoute("#/room/ops%20team/automation")).toEqual({
      view: "room",
      room: "ops team",
      automation: true,
    });
    expect(currentRoute("#/room/ops/automations")).toEqual({ view: "rooms" });
    expect(currentRoute("#/admin/plugins")).toEqual({ view: "admin", section: "plugins" });
    expect(ADMIN_SECTIONS).toContain("plugins");
  });
});
