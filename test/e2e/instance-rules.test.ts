/**
 * The instance's rules (docs/automation.md, "Instance rules") through the real server: the SDK's
 * `api.admin.rules` (create, save, list, delete) and the REST routes under it, each answer parsed
 * by the protocol's schemas, each refusal the contract's ApiError; every change in the instance
 * audit log; a webhook action naming an instance webhook (`api.admin.webhooks`); the dry run of an
 * instance rule against a room's history (`api.admin.rules.dryRun`).
 */
import { expect, it } from "vitest";
import {
  ApiError,
  EdgechatApi,
  ErrorBody,
  InstanceRuleList,
  type InstanceRulesApi,
} from "../../src/client/index.ts";
import { freshRoom, signIn, useServer, type Guest, type TestServer } from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let root: EdgechatApi;

useServer(
  async (started) => {
    server = started;
    [ada] = await signIn(server, "ada");
    const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
    root = new EdgechatApi(server.url, session.token);
  },
  { vars: { ADMIN_USERNAMES: "root" } },
);

type Draft = Parameters<InstanceRulesApi["create"]>[0];
const incident: Draft = {
  name: "Incident everywhere",
  trigger: { on: "message", match: { keywords: ["incident"] } },
  actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
};

async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

it("creates, saves, lists and deletes the instance's rules with the SDK, each change audited", async () => {
  const rules = root.admin.rules;
  const { rule, version } = await rules.create(incident);
  expect(rule).toMatchObject({ ...incident, enabled: true, conditions: {}, by: { name: "root" } });
  expect(rule.id).toMatch(/^rl_[0-9a-f]{16}$/);

  const scoped = await rules.save(rule.id, { ...rule, conditions: { rooms: ["ops", "dev"] } });
  expect(scoped).toMatchObject({ version: version + 1, rule: { id: rule.id } });
  expect(scoped.rule.conditions.rooms).toEqual(["ops", "dev"]);
  // The listed rule sent back as it is: nothing changes.
  expect((await rules.save(rule.id, scoped.rule)).version).toBe(scoped.version);

  const nightly = await rules.save("rl_00000000000000d1", {
    name: "Nightly",
    trigger: { on: "schedule", cron: "0 2 * * *", timeZone: "Europe/Paris" },
    actions: [{ do: "post", text: "Nightly check in {room}" }],
  });
  const listed = await rules.list();
  expect(listed.version).toBe(nightly.version);
  expect(listed.rules.map((r) => [r.id, r.name])).toEqual([
    [rule.id, "Incident everywhere"],
    ["rl_00000000000000d1", "Nightly"],
  ]);

  const removed = await rules.delete(rule.id);
  expect(removed).toMatchObject({ rule: { id: rule.id }, version: nightly.version + 1 });
  expect((await refusal(rules.delete(rule.id))).code).toBe("not_found");
  expect((await rules.list()).rules.map((r) => r.id)).toEqual(["rl_00000000000000d1"]);

  // Two saves and a delete of the first rule: the admin's, with its id and name, no room.
  const audited = async () =>
    (await root.admin.auditLog({ limit: 200 })).entries.filter((e) => e.data.rule === rule.id);
  await expect.poll(async () => (await audited()).length, { timeout: 10_000 }).toBe(3);
  expect((await audited()).map((e) => [e.action, e.actor.name, e.target])).toEqual([
    ["rule.deleted", "root", {}],
    ["rule.saved", "root", {}],
    ["rule.saved", "root", {}],
  ]);
  await rules.delete("rl_00000000000000d1");
});

it("names an instance webhook in a webhook action, never a missing one", async () => {
  const { webhook } = await root.admin.webhooks.create({
    url: "https://hooks.example/instance",
    eventTypes: ["message.posted"],
  });
  const withWebhook = (id: string): Draft => ({
    ...incident,
    actions: [{ do: "webhook", webhook: id }],
  });
  const { rule } = await root.admin.rules.create(withWebhook(webhook.id));
  expect(rule.actions).toEqual([{ do: "webhook", webhook: webhook.id }]);
  const missing = await refusal(root.admin.rules.create(withWebhook(`wh_${"e".repeat(24)}`)));
  expect(missing).toMatchObject({ code: "bad_request", status: 400 });
  expect(missing.message).toMatch(/^actions\.0\.webhook: the instance has no webhook wh_e{24}/);
  await root.admin.rules.delete(rule.id);
  await root.admin.webhooks.remove(webhook.id);
});

it("refuses everyone but admins, and bad rules with 400 naming the field", async () => {
  expect(await refusal(ada.api.admin.rules.list())).toMatchObject({
    code: "forbidden",
    status: 403,
  });
  expect((await refusal(ada.api.admin.rules.create(incident))).code).toBe("forbidden");
  expect((await refusal(ada.api.admin.rules.delete("rl_00000000000000d1"))).code).toBe("forbidden");

  const webhookTrigger: Draft = {
    ...incident,
    trigger: { on: "webhook", hook: `ih_${"0".repeat(24)}` },
  };
  const hook = await refusal(root.admin.rules.create(webhookTrigger));
  expect(hook).toMatchObject({ code: "bad_request", status: 400 });
  expect(hook.message).toBe(
    "trigger.hook: an incoming webhook belongs to one room: make this a room's rule",
  );
  const cron: Draft = {
    ...incident,
    trigger: { on: "schedule", cron: "every day", timeZone: "UTC" },
    actions: [{ do: "post", text: "hi" }],
  };
  expect((await refusal(root.admin.rules.create(cron))).message).toMatch(/^trigger\.cron: /);
  expect((await refusal(root.admin.rules.save("rl_x", incident))).message).toMatch(/^id: /);

  // Plain REST: no token is 401, the body the contract's.
  const anonymous = await fetch(`${server.url}/api/admin/rules`);
  expect(anonymous.status).toBe(401);
  expect(ErrorBody.parse(await anonymous.json()).error.code).toBe("unauthorized");
  expect(InstanceRuleList.parse(await root.admin.rules.list()).rules).toEqual([]);
});

it("dry-runs an instance rule against a room's history: hits where its rooms apply, none elsewhere", async () => {
  const [a, c] = [await freshRoom(ada, "a"), await freshRoom(ada, "c")];
  for (const room of [a, c])
    for (const text of ["outage on the db", "all fine now"])
      await ada.api.postMessage(room, { text, clientId: crypto.randomUUID() });
  const outage: Draft = {
    name: "Outage",
    trigger: { on: "message", match: { keywords: ["outage"] } },
    conditions: { rooms: [a, "b"] },
    actions: [{ do: "reply", text: "Status: https://status.example" }],
  };

  const inA = await root.admin.rules.dryRun(outage, a);
  expect(inA).toMatchObject({ room: a, applies: true });
  expect(inA.scanned).toBeGreaterThanOrEqual(2);
  expect(inA.hits).toHaveLength(1);
  expect(inA.hits[0]!.actions[0]).toMatch(/^reply to #\d+: "Status: https:\/\/status\.example"$/);
  const inC = await root.admin.rules.dryRun(outage, c);
  expect(inC).toMatchObject({ room: c, applies: false, hits: [] });
  // A dry run posts nothing and saves nothing.
  expect((await root.admin.rules.list()).rules).toEqual([]);
  // Newest first.
  expect((await ada.api.messages(a)).messages.map((m) => m.text)).toEqual([
    "all fine now",
    "outage on the db",
  ]);

  // The room's owner is no instance admin.
  expect(await refusal(ada.api.admin.rules.dryRun(outage, a))).toMatchObject({
    code: "forbidden",
    status: 403,
  });
  const badCron = await refusal(
    root.admin.rules.dryRun(
      { ...outage, trigger: { on: "schedule", cron: "0 0 0 9 * *", timeZone: "UTC" } },
      a,
    ),
  );
  expect(badCron).toMatchObject({ code: "bad_request", status: 400 });
  expect(badCron.message).toMatch(/^trigger\.cron: /);
  const badRoom = await refusal(root.admin.rules.dryRun(outage, "Not A Room"));
  expect(badRoom).toMatchObject({ code: "bad_request", status: 400 });
  expect(badRoom.message).toMatch(/^room: /);
});
