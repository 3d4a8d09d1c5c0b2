import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cronProblem } from "../automation/cron.ts";
import { ruleProblems } from "../automation/validate.ts";
import { ApiError } from "../http/api-error.ts";
import type { AppEnv } from "../http/app-env.ts";
import { bearer, errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { INSTANCE_HUB } from "../integrations/queue-messages.ts";
import { RuleId, type Rule, type RuleInput } from "../protocol/automation.ts";
import type { AuditAction } from "../protocol/index.ts";
import { InstanceRuleChange, InstanceRuleList } from "../protocol/instance-rules.ts";
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

/** Saves rule `id` (a new one without) after the checks zod cannot make; audits a change. */
async function save(
  c: Context<AppEnv>,
  input: RuleInput,
  id: string | undefined,
): Promise<InstanceRuleChange> {
  // What zod cannot check (docs/automation.md): no `webhook` trigger here, a cron in its zone.
  const problems = ruleProblems(input, { scope: "instance", now: Date.now(), cronProblem });
  if (problems.length > 0) throw new ApiError("bad_request", problems.join("; "));
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
      "by every change). Rooms pick up a change within 30 s.",
    security: bearer,
    responses: {
      200: json(InstanceRuleList, "the rules"),
      ...errors("unauthorized", "forbidden"),
    },
  }),
  async (c) => c.json(await hub(c).listInstanceRules(), 200),
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
