import { LIMITS_AUTOMATION, type DryRunReport, type Trigger } from "../protocol/automation.ts";
import type { RoomEvent } from "../protocol/events.ts";
import { ActionBudget } from "./budget.ts";
import { conditionsHold } from "./conditions.ts";
import { describeCause, firingsFor, type EngineContext, type EngineRule } from "./engine.ts";

export type TimedTrigger = Extract<Trigger, { on: "schedule" | "time" }>;

/** The next `count` times a schedule or time trigger comes due after `from` (the clock's cron.ts). */
export type NextTimes = (trigger: TimedTrigger, from: number, count: number) => number[];

export type DryRunContext = Omit<EngineContext, "budget"> & { nextTimes: NextTimes };

/** How many upcoming firings a dry run of a schedule lists. */
export const UPCOMING_COUNT = 5;

/**
 * What `rule` would have done over the room's recent history (docs/automation.md, "Dry run"):
 * the same engine, enabled or not, over the last LIMITS_AUTOMATION.dryRunEvents events, with a
 * budget of its own (as if no other rule had acted), so that a rule that would flood the room
 * shows its skipped firings. A schedule or time rule has no history to replay: its next firings
 * are listed instead, those at which its conditions hold.
 */
export function dryRun(
  rule: EngineRule,
  recentEvents: readonly RoomEvent[],
  ctx: DryRunContext,
): DryRunReport {
  const events = recentEvents.slice(-LIMITS_AUTOMATION.dryRunEvents);
  const { trigger } = rule;
  if (trigger.on === "schedule" || trigger.on === "time")
    return { scanned: events.length, hits: [], upcoming: upcoming(rule, trigger, ctx) };
  const firings = firingsFor([{ ...rule, enabled: true }], events, {
    ...ctx,
    budget: new ActionBudget(),
  });
  const hits = firings.map((firing) => {
    const event = firing.cause.kind === "event" ? firing.cause.event : undefined;
    return {
      seq: event?.seq ?? 0,
      at: event?.at ?? 0,
      summary: describeCause(firing.cause),
      actions: firing.steps.map((step) => step.summary),
      ...(firing.skipped !== undefined ? { skipped: firing.skipped } : {}),
    };
  });
  return { scanned: events.length, hits };
}

function upcoming(rule: EngineRule, trigger: TimedTrigger, ctx: DryRunContext): number[] {
  const holds = (at: number) =>
    conditionsHold(rule.conditions, { room: ctx.room, at, role: undefined });
  // Ask for more than shown: a time window may leave some of them out.
  return ctx
    .nextTimes(trigger, ctx.now, UPCOMING_COUNT * 4)
    .filter(holds)
    .slice(0, UPCOMING_COUNT);
}
