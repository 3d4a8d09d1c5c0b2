import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import * as z from "zod";
import { cronProblem } from "../automation/cron.ts";
import { ruleProblems } from "../automation/validate.ts";
import { ApiError } from "../http/api-error.ts";
import type { AppEnv } from "../http/app-env.ts";
import { signedIn } from "../http/authenticate.ts";
import { errors, json, jsonBody, router, unwrap } from "../http/openapi.ts";
import { DryRunReport, RuleId, type RuleInput } from "../protocol/automation.ts";
import { Posted, refusal, RoomParam, type Command } from "../protocol/index.ts";
import { RoomPluginList, RuleBody, RuleList, SavedRule } from "../protocol/rules.ts";
import { ruleIdFor } from "../room/decide-automation.ts";
import { traceparentIn } from "../telemetry/tracing.ts";

/**
 * A room's rules and its plugins' enablement (docs/automation.md, "Rules in the log"). Rules are
 * saved and deleted as commands (`save_rule`, `delete_rule`): the room logs them as events and
 * decides on them as on any command; these routes only build the commands.
 */
export const rules = router();

const OneRule = RoomParam.extend({ id: RuleId });
const DryRunBody = z.object({ rule: RuleBody });

/** The edge's own check: only those who may manage the rules learn what is wrong with one. */
async function requireRuleManager(c: Context<AppEnv>, room: string): Promise<void> {
  const standing = unwrap(await c.env.ROOM.getByName(room).standing(c.var.user));
  const denied = refusal(standing, "manage_rules");
  if (denied) throw ApiError.from(denied);
}

/** Sends `command` to the room as the caller, in the caller's trace. */
async function send(c: Context<AppEnv>, room: string, command: Command): Promise<{ seq: number }> {
  const traceparent = traceparentIn(c.var.telemetry.scope);
  const stub = c.env.ROOM.getByName(room);
  return unwrap(await stub.command(command, c.var.user, traceparent, c.var.telemetry.requestId));
}

/** Saves rule `id` (a new one without), then reads it back as the room now lists it. */
async function saveRule(
  c: Context<AppEnv>,
  room: string,
  input: RuleInput,
  id: string | undefined,
): Promise<SavedRule> {
  await requireRuleManager(c, room);
  // What zod cannot check (docs/automation.md), a cron expression in its zone included.
  const problems = ruleProblems(input, { scope: "room", now: Date.now(), cronProblem });
  if (problems.length > 0) throw new ApiError("bad_request", problems.join("; "));
  const clientId = crypto.randomUUID();
  const { seq } = await send(c, room, {
    type: "save_rule",
    clientId,
    rule: input,
    ...(id === undefined ? {} : { id }),
  });
  const ruleId = id ?? ruleIdFor(c.var.user.id, clientId);
  const listed = unwrap(await c.env.ROOM.getByName(room).rules(c.var.user));
  const rule = listed.rules.find((r) => r.id === ruleId);
  // Another moderator's delete came in between: the save happened, but there is nothing to show.
  if (!rule) throw new ApiError("conflict", `rule ${ruleId} was deleted meanwhile`);
  return { rule, seq };
}

rules.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/rules",
    summary: "The room's rules",
    description:
      "For the room's moderators and owner (and instance admins), in the order they were first " +
      "saved. The rules are events in the room's log too (`rule.saved`, `rule.deleted`).",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(RuleList, "the rules"),
      ...errors("unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).rules(c.var.user)), 200);
  },
);

rules.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/rules",
    summary: "Create a rule",
    description:
      "Logs `rule.saved` with a new id. At most 50 rules per room (`quota`). Moderators, the " +
      "owner and admins; a member gets 403, anyone who may not see the room 404.",
    ...signedIn,
    request: { params: RoomParam, ...jsonBody(RuleBody) },
    responses: {
      201: json(SavedRule, "the rule as stored, and the seq of its rule.saved"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict", "quota"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(await saveRule(c, room, c.req.valid("json"), undefined), 201);
  },
);

rules.openapi(
  createRoute({
    method: "put",
    path: "/api/rooms/{room}/rules/{id}",
    summary: "Create or replace a rule by its id",
    description:
      "Logs `rule.saved` with the whole rule; saving it unchanged logs nothing and answers the " +
      "room's current seq. An id is `rl_` and 16 hex digits.",
    ...signedIn,
    request: { params: OneRule, ...jsonBody(RuleBody) },
    responses: {
      200: json(SavedRule, "the rule as stored, and the seq of its rule.saved"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found", "conflict", "quota"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    return c.json(await saveRule(c, room, c.req.valid("json"), id), 200);
  },
);

rules.openapi(
  createRoute({
    method: "post",
    path: "/api/rooms/{room}/rules/dry-run",
    summary: "Dry-run a rule against the room's recent history",
    description:
      "Runs the rule (saved or not, enabled or not) over the room's last 500 events with a budget " +
      "of its own, and answers each event that would have fired it and what it would have done; " +
      "for schedule and time triggers, its next firings. Nothing is posted. Moderators and up.",
    ...signedIn,
    request: { params: RoomParam, ...jsonBody(DryRunBody) },
    responses: {
      200: json(DryRunReport, "what the rule would have done"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    await requireRuleManager(c, room);
    const { rule } = c.req.valid("json");
    const problems = ruleProblems(rule, { scope: "room", now: Date.now(), cronProblem });
    if (problems.length > 0) throw new ApiError("bad_request", problems.join("; "));
    return c.json(unwrap(await c.env.ROOM.getByName(room).dryRunRule(c.var.user, rule)), 200);
  },
);

rules.openapi(
  createRoute({
    method: "delete",
    path: "/api/rooms/{room}/rules/{id}",
    summary: "Delete a rule",
    description: "Logs `rule.deleted`; an undo (the `undo` command) brings it back.",
    ...signedIn,
    request: { params: OneRule },
    responses: {
      200: json(Posted, "the seq of the rule.deleted event"),
      ...errors("bad_request", "unauthorized", "forbidden", "not_found"),
    },
  }),
  async (c) => {
    const { room, id } = c.req.valid("param");
    const command = { type: "delete_rule" as const, clientId: crypto.randomUUID(), ruleId: id };
    return c.json(await send(c, room, command), 200);
  },
);

rules.openapi(
  createRoute({
    method: "get",
    path: "/api/rooms/{room}/plugins",
    summary: "Which plugins are on in the room",
    description:
      "Every plugin ever turned on here, on or off now, with the time of its last change " +
      "(`plugin.enabled`, `plugin.disabled` events). For anyone who may see the room.",
    ...signedIn,
    request: { params: RoomParam },
    responses: {
      200: json(RoomPluginList, "the room's plugins"),
      ...errors("unauthorized", "not_found"),
    },
  }),
  async (c) => {
    const { room } = c.req.valid("param");
    return c.json(unwrap(await c.env.ROOM.getByName(room).plugins(c.var.user)), 200);
  },
);
