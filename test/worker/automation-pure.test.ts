import { describe, expect, it } from "vitest";
import { insideWindow, wallClock } from "../../src/automation/conditions.ts";
import { compileMatch } from "../../src/automation/matcher.ts";
import { ruleActor } from "../../src/automation/rule-actor.ts";

// The engine's parts that lean on the runtime run in workerd as in Node (their unit tests):
// re2js (no eval, which workerd refuses), Intl's time zones, @noble/hashes.
describe("the rules engine's pure parts inside workerd", () => {
  it("matches keywords and RE2 patterns, in linear time on the catastrophic input", () => {
    const keywords = compileMatch({ keywords: ["on call", "été"] });
    expect(keywords.ok && keywords.test("who is ON  call?")).toBe(true);
    expect(keywords.ok && keywords.test("l'ÉTÉ")).toBe(true);
    expect(keywords.ok && keywords.test("oncall")).toBe(false);
    const catastrophic = compileMatch({ pattern: "(a+)+$" });
    expect(catastrophic.ok && catastrophic.test(`${"a".repeat(30_000)}!`)).toBe(false);
    const refused = compileMatch({ pattern: "(?=x)" });
    expect(refused.ok ? "" : refused.error).toContain("RE2 has no lookahead or lookbehind");
  });

  it("reads a zone's wall clock across DST", () => {
    expect(wallClock(Date.parse("2026-03-29T01:00:00Z"), "Europe/Paris")).toEqual({
      day: 0,
      minute: 180,
    });
    const window = { from: "09:00", to: "17:00", timeZone: "America/New_York" };
    expect(insideWindow(window, Date.parse("2026-07-15T13:00:00Z"))).toBe(true);
    expect(insideWindow(window, Date.parse("2026-01-14T13:00:00Z"))).toBe(false);
  });

  it("names a rule's actor svc_ and SHA-256 of its room and id, as WebCrypto computes it", async () => {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode("rule:ops:rl_00000000000000a1"),
    );
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(ruleActor("ops", { id: "rl_00000000000000a1", name: "Incident" }).id).toBe(
      `svc_${hex.slice(0, 32)}`,
    );
  });
});
