import { describe, expect, it } from "vitest";
import { ActionBudget, BUDGET_WINDOW_MS } from "../../src/automation/budget.ts";
import { LIMITS_AUTOMATION } from "../../src/protocol/automation.ts";

const T0 = 1_800_000_000_000;

describe("the action budget", () => {
  it("allows LIMITS_AUTOMATION.actionsPerMinute actions in a sliding minute", () => {
    const budget = new ActionBudget();
    expect(budget.limit).toBe(LIMITS_AUTOMATION.actionsPerMinute);
    for (let i = 0; i < budget.limit; i++) expect(budget.take(1, T0 + i * 1000)).toBe(true);
    expect(budget.take(1, T0 + 59_000)).toBe(false);
    expect(budget.remaining(T0 + 59_000)).toBe(0);
    // The minute slides: the first action (at T0) is out of the window at T0 + 60 s.
    expect(budget.remaining(T0 + BUDGET_WINDOW_MS)).toBe(1);
    expect(budget.take(1, T0 + BUDGET_WINDOW_MS)).toBe(true);
    expect(budget.take(1, T0 + BUDGET_WINDOW_MS)).toBe(false);
    // Long after, all of it again.
    expect(budget.remaining(T0 + 10 * BUDGET_WINDOW_MS)).toBe(budget.limit);
  });

  it("takes a firing's actions all or none", () => {
    const budget = new ActionBudget(5);
    expect(budget.take(3, T0)).toBe(true);
    expect(budget.take(3, T0 + 1)).toBe(false);
    expect(budget.remaining(T0 + 1)).toBe(2);
    expect(budget.take(2, T0 + 2)).toBe(true);
    expect(budget.take(0, T0 + 3)).toBe(true);
    expect(budget.remaining(T0 + 3)).toBe(0);
  });

  it("slides over a long run: an action every 600 ms fits 2 a second, forever", () => {
    const budget = new ActionBudget(2, 1000);
    const last = T0 + 9_999 * 600;
    let taken = 0;
    for (let at = T0; at <= last; at += 600) if (budget.take(1, at)) taken++;
    expect(taken).toBe(10_000);
    expect(budget.take(1, last + 1)).toBe(false);
    expect(budget.remaining(last + 600)).toBe(1);
    expect(budget.remaining(last + 1000)).toBe(2);
  });
});
