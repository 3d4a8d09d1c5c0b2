/**
 * The dashboard's Rules section's pure parts (docs/automation.md, "Instance rules", "In the
 * dashboard"): the rule builder's draft in the instance's scope (the rooms a rule names, no
 * incoming-webhook trigger), an instance dry run's headline, and the section's URL.
 */
import { describe, expect, it } from "vitest";
import type { RuleInput } from "../../src/client/index.ts";
import { dryRunHeadline, ruleSentence } from "../../src/web/automation/automation-rules.ts";
import {
  checkDraft,
  draftOf,
  emptyAction,
  emptyDraft,
  placeOfMessage,
  roomsOf,
  TRIGGER_KINDS,
  triggerKinds,
} from "../../src/web/automation/rule-draft.ts";
import { ADMIN_SECTIONS, adminHref, currentRoute } from "../../src/web/route.ts";

/** The browser test's rule: any message with "outage" in rooms a and b gets a reply. */
const OUTAGE: RuleInput = {
  name: "Outage",
  enabled: true,
  trigger: { on: "message", match: { keywords: ["outage"] } },
  conditions: { rooms: ["a", "b"] },
  actions: [{ do: "reply", text: "Status page: https://status.example" }],
};

describe("the builder in the instance's scope", () => {
  it("offers every trigger but the incoming webhook, a room's rule all of them", () => {
    expect(triggerKinds("room")).toBe(TRIGGER_KINDS);
    const kinds = triggerKinds("instance").map(([kind]) => kind);
    expect(kinds).toEqual([
      "message",
      "member_joined",
      "member_left",
      "reaction",
      "schedule",
      "time",
    ]);
  });

  it("reads rooms at commas and spaces, without their #, each once", () => {
    expect(roomsOf("")).toEqual([]);
    expect(roomsOf(" a, #b ,,a  ops-2\nc ")).toEqual(["a", "b", "ops-2", "c"]);
  });

  it("builds the rule with its rooms, and gives it back when opened on it", () => {
    const draft = emptyDraft("UTC");
    draft.name = "Outage";
    draft.keywords = "outage";
    draft.rooms = "#a, b";
    draft.actions = [{ ...emptyAction("reply"), text: "Status page: https://status.example" }];
    expect(checkDraft(draft)).toEqual({ ok: true, input: OUTAGE });
    const opened = draftOf(OUTAGE, "UTC");
    expect(opened.rooms).toBe("a, b");
    expect(checkDraft(opened)).toEqual({ ok: true, input: OUTAGE });
    // Without rooms it applies to every room: no rooms condition at all.
    expect(checkDraft({ ...opened, rooms: " , " })).toEqual({
      ok: true,
      input: { ...OUTAGE, conditions: {} },
    });
    expect(ruleSentence(OUTAGE)).toBe(
      "When a message mentions “outage” (only in #a or #b): reply in a thread: “Status page: https://status.example”",
    );
  });

  it("places a room name the contract refuses by the conditions, as the server's refusal", () => {
    const checked = checkDraft({ ...draftOf(OUTAGE, "UTC"), rooms: "a, Ops Team" });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toHaveLength(1);
    expect(checked.problems[0]!.place).toEqual({ part: "conditions" });
    expect(placeOfMessage("conditions.rooms.1: not a room name")).toEqual({
      place: { part: "conditions" },
      message: "not a room name",
    });
    // The dry run's own body: its rule's paths start at `rule.`, its room's is the form's.
    expect(placeOfMessage("rule.conditions.rooms.0: not a room name").place).toEqual({
      part: "conditions",
    });
    expect(placeOfMessage("room: a room name is lower case")).toEqual({
      place: { part: "form" },
      message: "room: a room name is lower case",
    });
  });
});

describe("an instance dry run's headline", () => {
  const hit = { seq: 3, at: 1, summary: "ada: outage on the db", actions: ["reply to #3: …"] };

  it("names the room it ran in", () => {
    expect(dryRunHeadline({ scanned: 4, hits: [hit], room: "a", applies: true })).toBe(
      "In #a, of 4 recent events, this rule would have fired once.",
    );
    expect(dryRunHeadline({ scanned: 4, hits: [], room: "b", applies: true })).toBe(
      "In #b, of 4 recent events, none would have fired this rule.",
    );
  });

  it("says so when the rule's rooms leave the room out", () => {
    expect(dryRunHeadline({ scanned: 4, hits: [], room: "c", applies: false })).toBe(
      "#c is not one of the rule's rooms: the rule never runs there, so nothing would have fired it.",
    );
  });

  it("reads a room's report as before", () => {
    expect(dryRunHeadline({ scanned: 2, hits: [hit] })).toBe(
      "Of 2 recent events, this rule would have fired once.",
    );
  });
});

describe("the dashboard's Rules section", () => {
  it("has its own URL, beside Plugins", () => {
    expect(ADMIN_SECTIONS.indexOf("rules")).toBe(ADMIN_SECTIONS.indexOf("plugins") - 1);
    expect(adminHref("rules")).toBe("#/admin/rules");
    expect(currentRoute("#/admin/rules")).toEqual({ view: "admin", section: "rules" });
  });
});
