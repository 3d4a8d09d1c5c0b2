import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { roomsHold } from "../automation/conditions.ts";
import { cronProblem, nextTimes } from "../automation/cron.ts";
import { ruleProblems } from "../automation/validate.ts";
import { ApiError } from "../http/api-error.ts";
import type { AppEnv } from "../http/app-env.ts";
import { bearer, errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { INSTANCE_HUB } from "../integrations/queue-messages.ts";
import { RuleId, type Rule, type RuleInput } from "../protocol/automation.ts";
import type { AuditAction } from "../protocol/index.ts";
import {
  InstanceDryRunBody,
  InstanceDryRunReport,
  InstanceRuleChange,
  InstanceRuleList,
} from "../protocol/instance-rules.ts";
import { RuleBody } from "../protocol/rules.ts";
import { recordAudit } from "./audit-log.ts";

/**
 * The instance's rules (docs/automation.md, "Instance rules"), for admins: mounted by admin.ts
 * behind its admins-only middleware. Kept in the instance's IntegrationHub, beside its webhooks;
 * each change is recorded in the instance audit log (`rule.saved`, `rule.deleted`, no target).
 */
export const instanceRules = router();

const BASE = "/api/admin/rules";
const OneRule = z.object({ id: RuleId });

const hub = (c: Context<AppEnv>) => c.env.INTEGRATIONS_HUB.getByName(INSTANCE_HUB);

function record(c: Context<AppEnv>, action: AuditAction, rule: Pick<Rule, "id" | "name">): void {
  recordAudit(c, { action, actor: c.var.user, data: { rule: rule.id, name: rule.name } });
}

/** What zod cannot check (docs/automation.md): no `webhook` trigger here, a cron in its zone. */
function check(input: RuleInput): void {
  const problems = ruleProblems(input, { scope: "instance", now: Date.now(), cronProblem });
  if (problems.length > 0) throw new ApiError("bad_request", problems.join("; "));
}

/**
 * A timed rule with its next time (`nextAt`, null when it will not fire again), as a room lists
 * its own: the same in every room it applies to, since a schedule is read in its own zone.
 */
function withNextTime(rule: Rule, now: number): Rule {
  const { trigger } = rule;
  if (trigger.on !== "schedule" && trigger.on !== "time") return rule;
  return { ...rule, nextAt: nextTimes(trigger, now, 1)[0] ?? null };
}

/** Saves rule `id` (a new one without) after the checks zod cannot make; audits a change. */
async function save(
  c: Context<AppEnv>,
  input: RuleInput,
  id: string | undefined,
): Promise<InstanceRuleChange> {
  check(input);
  const by = { id: c.var.user.id, name: c.var.user.name };
  const { rule, version, changed } = unwrap(await hub(c).saveInstanceRule(id, input, by));
  if (changed) record(c, "rule.saved", rule);
  return { rule, version };
}

instanceRules.openapi(
  createRoute({
    method: "get",
    path: BASE,
    summary: "The instance's rules",
    description:
      "Every instance rule, in the order they were first saved, and the rules' version (bumped " +
      "by every change). Rooms pick up a change within 30 s. A schedule or time rule has its " +
      "next time (`nextAt`; null when it will not fire again).",
    security: bearer,
    responses: {
      200: json(InstanceRuleList, "the rules"),
      ...errors("unauthorized", "forbidden"),
    },
  }),
  async (c) => {
    const { rules, version } = await hub(c).listInstanceRules();
    const now = Date.now();
    return c.json({ rules: rules.map((rule) => withNextTime(rule, now)), version }, 200);
  },
);

instanceRules.openapi(
  createRoute({
    method: "post",
    path: `${BASE}/dry-run`,
    summary: "Dry-run an instance rule against a room's recent history",
    description:
      "Runs the rule (saved or not, enabled or not) as an instance rule over the room's last 500 " +
      "events with a budget of its own, as a room's dry run does, and answers each event that " +
      "would have fired it and what it would have done; for schedule and time triggers, its next " +
      "firings. Nothing is posted. A room the rule's `rooms` condition leaves out answers " +
      "`applies: false` and no hits: the rule never runs there.",
    security: bearer,
    request: jsonBody(InstanceDryRunBody),
    responses: {
      200: json(InstanceDryRunReport, "what the rule would have done in the room"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { rule, room } = c.req.valid("json");
    check(rule);
    const stub = c.env.ROOM.getByName(room);
    const report = unwrap(await stub.dryRunRule(c.var.user, rule, { instance: true }));
    // The engine leaves such a room out by itself; said in so many words for the caller.
    const applies = roomsHold(rule.conditions.rooms, room);
    const answer: InstanceDryRunReport = applies
      ? { ...report, room, applies }
      : { ...report, hits: [], ...(report.upcoming ? { upcoming: [] } : {}), room, applies };
    return c.json(answer, 200);
  },
);

instanceRules.openapi(
  createRoute({
    method: "post",
    path: BASE,
    summary: "Create an instance rule",
    description:
      "A rule for every room its `conditions.rooms` names (all rooms without it), with a new " +
      "id. At most 50 (`quota`). No `webhook` trigger (an incoming webhook is one room's); a " +
      "`webhook` action names one of the instance's webhooks (`/api/admin/webhooks`).",
    security: bearer,
    request: jsonBody(RuleBody),
    responses: {
      201: json(InstanceRuleChange, "the rule as stored, and the rules' version"),
      ...errors("bad_request", "unauthorized", "forbidden", "quota"),
    },
  }),
  async (c) => c.json(await save(c, c.req.valid("json"), undefined), 201),
);

instanceRules.openapi(
  createRoute({
    method: "put",
    path: `${BASE}/{id}`,
    summary: "Create or replace an instance rule by its id",
    description:
      "The whole rule; saving it unchanged changes nothing (the version stays, nothing is " +
      "audited). An id is `rl_` and 16 hex digits.",
    security: bearer,
    request: { params: OneRule, ...jsonBody(RuleBody) },
    responses: {
      200: json(InstanceRuleChange, "the rule as stored, and the rules' version"),
      ...errors("bad_request", "unauthorized", "forbidden", "quota"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await save(c, c.req.valid("json"), id), 200);
  },
);

instanceRules.openapi(
  createRoute({
    method: "delete",
    path: `${BASE}/{id}`,
    summary: "Delete an instance rule",
    description: "Rooms stop running it within 30 s. Not undoable: save it again.",
    security: bearer,
    request: { params: OneRule },
    responses: {
      200: json(InstanceRuleChange, "the rule as it was, and the rules' version"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const removed = unwrap(await hub(c).deleteInstanceRule(id));
    record(c, "rule.deleted", removed.rule);
    return c.json(removed, 200);
  },
);
