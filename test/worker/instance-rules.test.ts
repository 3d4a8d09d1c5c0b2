/**
 * The instance's rules (docs/automation.md, "Instance rules") inside workerd: the instance hub's
 * RPC (save, replace, unchanged, list order, quota, delete, the pull by version, a webhook action
 * naming a missing endpoint), the room's cache of them against that real hub (stale after 30 s,
 * one pull at a time, a failed pull kept and retried, rules for its room only, read by the real
 * engine), and the admin routes with their permissions, errors, audit entries and OpenAPI entries;
 * the dry run of an instance rule against a real room's history, and the schedules' next times.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ActionBudget } from "../../src/automation/budget.ts";
import { roomConfig } from "../../src/config.ts";
import { firingsFor, stepsToRun } from "../../src/automation/engine.ts";
import { INSTANCE_HUB } from "../../src/integrations/queue-messages.ts";
import { LIMITS_AUTOMATION, type RuleInput } from "../../src/protocol/automation.ts";
import { AuditPage, ErrorBody, type Session } from "../../src/protocol/index.ts";
import {
  InstanceDryRunReport,
  InstanceRuleChange,
  InstanceRuleList,
} from "../../src/protocol/instance-rules.ts";
import {
  INSTANCE_RULES_RETRY_MS,
  INSTANCE_RULES_TTL_MS,
  InstanceRuleCache,
} from "../../src/room/instance-rules.ts";
import { context, Log, bob } from "../support/automation-fixtures.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";

const hub = () => env.INTEGRATIONS_HUB.getByName(INSTANCE_HUB);
const ROOT = { id: "u_root", name: "root" };

const incident: RuleInput = {
  name: "Incident",
  enabled: true,
  trigger: { on: "message", match: { keywords: ["incident"] } },
  conditions: {},
  actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
};
const opsOnly: RuleInput = {
  ...incident,
  name: "Ops incident",
  conditions: { rooms: ["ops"] },
};
const RL1 = "rl_00000000000000c1";
const RL2 = "rl_00000000000000c2";

/** Every test starts from an instance with no rules (the hub is one object for the file). */
beforeEach(async () => {
  for (const rule of (await hub().listInstanceRules()).rules)
    await hub().deleteInstanceRule(rule.id);
});

async function saved(id: string | undefined, input: RuleInput) {
  const answer = await hub().saveInstanceRule(id, input, ROOT);
  if (!answer.ok) throw new Error(`save: ${answer.error.message}`);
  return answer.value;
}

describe("the instance hub's rules", () => {
  it("creates, replaces, lists in first-saved order, and deletes; each change bumps the version", async () => {
    const start = (await hub().listInstanceRules()).version;
    const created = await saved(undefined, incident);
    expect(created.rule.id).toMatch(/^rl_[0-9a-f]{16}$/);
    expect(created).toMatchObject({ version: start + 1, changed: true });
    expect(created.rule).toMatchObject({ ...incident, by: ROOT });
    await saved(RL2, opsOnly);
    const replaced = await saved(created.rule.id, { ...incident, enabled: false });
    expect(replaced).toMatchObject({ version: start + 3, changed: true });

    // Unchanged, whatever the order of its keys: no new version, the saver stays.
    const reordered = Object.fromEntries(Object.entries({ ...incident, enabled: false }).reverse());
    const again = await hub().saveInstanceRule(created.rule.id, reordered as RuleInput, {
      id: "u_other",
      name: "other",
    });
    expect(again).toMatchObject({ ok: true, value: { version: start + 3, changed: false } });
    expect(again.ok && again.value.rule.by).toEqual(ROOT);

    const listed = InstanceRuleList.parse(await hub().listInstanceRules());
    expect(listed.version).toBe(start + 3);
    // The replaced rule keeps its place: first.
    expect(listed.rules.map((r) => [r.id, r.enabled])).toEqual([
      [created.rule.id, false],
      [RL2, true],
    ]);

    const removed = await hub().deleteInstanceRule(RL2);
    expect(removed).toMatchObject({ ok: true, value: { rule: { id: RL2 }, version: start + 4 } });
    expect(await hub().deleteInstanceRule(RL2)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect((await hub().listInstanceRules()).rules.map((r) => r.id)).toEqual([created.rule.id]);
  });

  it("answers a room's pull without the rules when it holds the version already", async () => {
    await saved(RL1, incident);
    const first = await hub().instanceRules();
    expect(first.rules?.map((r) => r.id)).toEqual([RL1]);
    expect(await hub().instanceRules(first.version)).toEqual({ version: first.version });
    await saved(RL2, opsOnly);
    const next = await hub().instanceRules(first.version);
    expect(next.version).toBe(first.version + 1);
    expect(next.rules?.map((r) => r.id)).toEqual([RL1, RL2]);
  });

  it("holds at most 50 rules; a full instance may still replace one", async () => {
    for (let i = 0; i < LIMITS_AUTOMATION.rulesPerInstance; i++)
      await saved(`rl_${i.toString(16).padStart(16, "0")}`, { ...incident, name: `r${i}` });
    expect(await hub().saveInstanceRule(undefined, incident, ROOT)).toMatchObject({
      ok: false,
      error: { code: "quota", message: "the instance has 50 rules, its limit: delete one first" },
    });
    const replaced = await hub().saveInstanceRule(`rl_${"0".repeat(16)}`, incident, ROOT);
    expect(replaced.ok).toBe(true);
  });

  it("takes a webhook action only when it names one of the instance's webhooks", async () => {
    const rule = (webhook: string): RuleInput => ({
      ...incident,
      actions: [
        { do: "post", text: "seen" },
        { do: "webhook", webhook },
      ],
    });
    const missing = await hub().saveInstanceRule(RL1, rule(`wh_${"0".repeat(24)}`), ROOT);
    expect(missing).toMatchObject({ ok: false, error: { code: "bad_request" } });
    expect(!missing.ok && missing.error.message).toMatch(
      /^actions\.1\.webhook: the instance has no webhook wh_0{24}/,
    );
    const made = await hub().createWebhook(
      INSTANCE_HUB,
      { url: "https://hooks.example/all", eventTypes: ["message.posted"], description: "" },
      ROOT,
    );
    if (!made.ok) throw new Error(made.error.message);
    expect((await hub().saveInstanceRule(RL1, rule(made.value.webhook.id), ROOT)).ok).toBe(true);
    await hub().deleteWebhook(INSTANCE_HUB, made.value.webhook.id);
  });

  it("refuses a rule that is not one, whoever calls the hub", async () => {
    const bad = { ...incident, actions: [] } as RuleInput;
    const answer = await hub().saveInstanceRule(RL1, bad, ROOT);
    expect(answer).toMatchObject({ ok: false, error: { code: "bad_request" } });
    expect(!answer.ok && answer.error.message).toMatch(/^actions: /);
  });
});

/** The cache on a clock the test moves, pulling from the real hub through a counting port. */
function cacheFor(room: string | undefined, ttlMs?: number) {
  let now = 1_000_000;
  let changes = 0;
  const pulls: { since: number | undefined; rules: boolean }[] = [];
  let failing = false;
  let asked = 0;
  const cache = new InstanceRuleCache(
    async (since) => {
      asked += 1;
      if (failing) throw new Error("the hub is away");
      const answer = await hub().instanceRules(since);
      pulls.push({ since, rules: answer.rules !== undefined });
      return answer;
    },
    { room: () => room, now: () => now, changed: () => void (changes += 1), ttlMs },
  );
  return {
    cache,
    pulls,
    asked: () => asked,
    changes: () => changes,
    advance: (ms: number) => void (now += ms),
    fail: (on: boolean) => void (failing = on),
  };
}

describe("a room's cache of the instance's rules", () => {
  it("answers at once, pulls in the background, and asks again only once 30 s have passed", async () => {
    await saved(RL1, incident);
    const { cache, pulls, advance, changes } = cacheFor("ops");
    expect(cache.current()).toEqual([]); // nothing yet, and it does not wait
    await cache.refresh(); // joins the pull current() started
    expect(pulls).toEqual([{ since: undefined, rules: true }]);
    expect(cache.current()).toEqual([{ ...incident, id: RL1, instance: true }]);
    expect(changes()).toBe(1);

    await saved(RL2, opsOnly);
    advance(INSTANCE_RULES_TTL_MS - 1);
    expect(cache.current().map((r) => r.id)).toEqual([RL1]); // still fresh: no pull
    expect(pulls).toHaveLength(1);
    advance(1);
    expect(cache.current().map((r) => r.id)).toEqual([RL1]); // stale: answered, pull started
    await cache.refresh();
    expect(cache.current().map((r) => r.id)).toEqual([RL1, RL2]);
    expect(changes()).toBe(2);

    // Nothing changed since: the next pull carries no rules, and the copy stays.
    advance(INSTANCE_RULES_TTL_MS);
    cache.current();
    await cache.refresh();
    expect(pulls.map((p) => p.rules)).toEqual([true, true, false]);
    expect(cache.current().map((r) => r.id)).toEqual([RL1, RL2]);
    expect(changes()).toBe(2);
    expect(cache.version).toBe((await hub().listInstanceRules()).version);
  });

  it("trusts its copy for INSTANCE_RULES_TTL_MS from the config, which may only shorten 30 s", async () => {
    expect(INSTANCE_RULES_TTL_MS).toBe(30_000);
    expect(roomConfig({}).INSTANCE_RULES_TTL_MS).toBe(30_000);
    expect(roomConfig({ INSTANCE_RULES_TTL_MS: "3000" }).INSTANCE_RULES_TTL_MS).toBe(3_000);
    // Longer than the dashboard's "within 30 s" does not parse: the room keeps the defaults.
    expect(roomConfig({ INSTANCE_RULES_TTL_MS: "60000" }).INSTANCE_RULES_TTL_MS).toBe(30_000);
    await saved(RL1, incident);
    const { cache, pulls, advance } = cacheFor("ops", 3_000);
    await cache.loaded();
    advance(2_999);
    cache.current();
    expect(pulls).toHaveLength(1);
    advance(1);
    cache.current();
    await cache.refresh();
    expect(pulls).toHaveLength(2);
  });

  it("runs one pull at a time however often it is asked", async () => {
    await saved(RL1, incident);
    const { cache, pulls } = cacheFor("ops");
    for (let i = 0; i < 10; i++) cache.current();
    await Promise.all([cache.refresh(), cache.refresh(), cache.loaded()]);
    expect(pulls).toHaveLength(1);
  });

  it("gives a room only the rules that name it or name no room", async () => {
    await saved(RL1, incident);
    await saved(RL2, opsOnly);
    const ops = cacheFor("ops").cache;
    const dev = cacheFor("dev").cache;
    expect((await ops.loaded()).map((r) => r.id)).toEqual([RL1, RL2]);
    expect((await dev.loaded()).map((r) => r.id)).toEqual([RL1]);
    // A room not created yet has no name, and no rules.
    expect(await cacheFor(undefined).cache.loaded()).toEqual([]);
  });

  it("keeps its copy when a pull fails and tries again 5 s later", async () => {
    await saved(RL1, incident);
    const { cache, pulls, asked, advance, fail } = cacheFor("ops");
    await cache.loaded();
    fail(true);
    advance(INSTANCE_RULES_TTL_MS);
    await saved(RL2, opsOnly);
    expect(cache.current().map((r) => r.id)).toEqual([RL1]);
    await cache.refresh(); // joins the failed pull: logged, never thrown
    expect(asked()).toBe(2);
    expect(cache.current().map((r) => r.id)).toEqual([RL1]);
    fail(false);
    advance(INSTANCE_RULES_RETRY_MS - 1);
    cache.current();
    expect(asked()).toBe(2); // not yet
    advance(1);
    cache.current();
    await cache.refresh();
    expect(asked()).toBe(3);
    expect(cache.current().map((r) => r.id)).toEqual([RL1, RL2]);
    expect(pulls).toHaveLength(2);
  });

  it("hands the engine rules it fires, as the instance's, acting as a bot of the room", async () => {
    await saved(RL1, incident);
    const rules = await cacheFor("ops").cache.loaded();
    const log = new Log();
    const firings = firingsFor(rules, [log.posted(bob, "an incident in prod")], context());
    expect(firings).toHaveLength(1);
    expect(firings[0]!.rule).toEqual({ id: RL1, name: "Incident", instance: true });
    expect(firings[0]!.actor).toMatchObject({ name: "Rule: Incident", kind: "service" });
    expect(stepsToRun(firings[0]!)).toMatchObject([
      { kind: "command", command: { type: "post", text: "Runbook: https://wiki.example/runbook" } },
    ]);
    // The budget is the room's: shared with its own rules.
    const spent = new ActionBudget();
    for (let i = 0; i < LIMITS_AUTOMATION.actionsPerMinute; i++) spent.take(1, context().now);
    const over = firingsFor(rules, [log.posted(bob, "incident")], context({ budget: spent }));
    expect(over[0]!.skipped).toMatch(/^over budget/);
  });
});

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return registered.json();
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return signedIn.json();
}

async function errorOf(res: Response) {
  const body = ErrorBody.parse(await res.json());
  return { status: res.status, code: body.error.code, message: body.error.message };
}

describe("the admin routes", () => {
  it("create, replace, list and delete instance rules, each change audited", async () => {
    const admin = await root();
    const created = await call("/api/admin/rules", {
      method: "POST",
      token: admin.token,
      json: { name: "Incident", trigger: incident.trigger, actions: incident.actions },
    });
    expect(created.status).toBe(201);
    const { rule, version } = InstanceRuleChange.parse(await created.json());
    expect(rule).toMatchObject({ ...incident, by: { id: admin.user.id, name: "root" } });

    const put = (body: unknown) =>
      call(`/api/admin/rules/${rule.id}`, { method: "PUT", token: admin.token, json: body });
    const replaced = await put({ ...rule, conditions: { rooms: ["ops"] } });
    expect(replaced.status).toBe(200);
    const after = InstanceRuleChange.parse(await replaced.json());
    expect(after).toMatchObject({ version: version + 1, rule: { conditions: { rooms: ["ops"] } } });
    // The listed rule sent back as it is: nothing changes, nothing is audited.
    const same = InstanceRuleChange.parse(await (await put(after.rule)).json());
    expect(same.version).toBe(after.version);

    const listed = await call("/api/admin/rules", { token: admin.token });
    expect(InstanceRuleList.parse(await listed.json())).toMatchObject({
      version: after.version,
      rules: [{ id: rule.id }],
    });

    const deleted = await call(`/api/admin/rules/${rule.id}`, {
      method: "DELETE",
      token: admin.token,
    });
    expect(deleted.status).toBe(200);
    expect(InstanceRuleChange.parse(await deleted.json()).version).toBe(after.version + 1);
    const again = await call(`/api/admin/rules/${rule.id}`, {
      method: "DELETE",
      token: admin.token,
    });
    expect(await errorOf(again)).toMatchObject({ status: 404, code: "not_found" });

    // Two saves and a delete, the admin's, with the rule's id and name, no target (the instance's).
    const entries = async () => {
      const res = await call("/api/admin/audit?limit=200", { token: admin.token });
      return AuditPage.parse(await res.json()).entries.filter((e) => e.data.rule === rule.id);
    };
    await expect.poll(async () => (await entries()).length).toBe(3);
    expect((await entries()).map((e) => [e.action, e.actor.name, e.target, e.data])).toEqual([
      ["rule.deleted", "root", {}, { rule: rule.id, name: "Incident" }],
      ["rule.saved", "root", {}, { rule: rule.id, name: "Incident" }],
      ["rule.saved", "root", {}, { rule: rule.id, name: "Incident" }],
    ]);
  });

  it("are for admins only: 403 for anyone else, a guest named root too; 401 without a token", async () => {
    const member = await guest("bob");
    const fakeRoot = await guest("root");
    const routes: [string, string, unknown?][] = [
      ["GET", "/api/admin/rules"],
      ["POST", "/api/admin/rules", incident],
      ["PUT", `/api/admin/rules/${RL1}`, incident],
      ["DELETE", `/api/admin/rules/${RL1}`],
    ];
    for (const [method, path, json] of routes) {
      for (const who of [member, fakeRoot])
        expect(
          await errorOf(await call(path, { method, token: who.token, json })),
          path,
        ).toMatchObject({
          status: 403,
          code: "forbidden",
        });
      expect((await errorOf(await call(path, { method, json }))).status).toBe(401);
    }
    expect((await hub().listInstanceRules()).rules).toEqual([]);
  });

  it("answer bad input with 400 naming where it is", async () => {
    const admin = await root();
    const post = (json: unknown, path = "/api/admin/rules", method = "POST") =>
      call(path, { method, token: admin.token, json }).then(errorOf);
    const cases: [unknown, RegExp, string?, string?][] = [
      [{ ...incident, name: "" }, /^name: /],
      [{ ...incident, actions: [] }, /^actions: /],
      [
        { ...incident, trigger: { on: "message", match: { pattern: "(?!x)" } } },
        /^trigger\.match\.pattern: /,
      ],
      [
        { ...incident, trigger: { on: "webhook", hook: `ih_${"0".repeat(24)}` } },
        /^trigger\.hook: an incoming webhook belongs to one room/,
      ],
      [
        { ...incident, trigger: { on: "schedule", cron: "0 0 0 9 * *", timeZone: "UTC" } },
        /^trigger\.cron: /,
      ],
      [
        { ...incident, conditions: { rooms: ["no spaces allowed here!"] } },
        /^conditions\.rooms\.0: /,
      ],
      [
        { ...incident, actions: [{ do: "webhook", webhook: `wh_${"1".repeat(24)}` }] },
        /^actions\.0\.webhook: the instance has no webhook/,
      ],
      [{ ...incident, name: "\ud800" }, /lone surrogate/],
      [incident, /^id: /, "/api/admin/rules/rl_nothex", "PUT"],
      [undefined, /^id: /, "/api/admin/rules/42", "DELETE"],
    ];
    for (const [body, message, path, method] of cases) {
      const answer = await post(body, path, method);
      expect(answer, JSON.stringify(body)).toMatchObject({ status: 400, code: "bad_request" });
      expect(answer.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await hub().listInstanceRules()).rules).toEqual([]);
  });

  it("are in the OpenAPI document", async () => {
    const doc = (await (await call("/api/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths["/api/admin/rules"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/api/admin/rules/{id}"] ?? {}).sort()).toEqual(["delete", "put"]);
    expect(Object.keys(doc.paths["/api/admin/rules/dry-run"] ?? {})).toEqual(["post"]);
  });

  it("list a timed rule with its next time, in its own zone", async () => {
    const admin = await root();
    const now = Date.now();
    const nightly: RuleInput = {
      ...incident,
      name: "Nightly",
      trigger: { on: "schedule", cron: "0 2 * * *", timeZone: "Asia/Tokyo" },
      actions: [{ do: "post", text: "nightly check" }],
    };
    // Gone by: the hub keeps what the route would refuse (a time in the past), as after its time.
    const gone: RuleInput = { ...nightly, name: "Gone", trigger: { on: "time", at: now - 1_000 } };
    await saved(RL1, nightly);
    await saved(RL2, gone);
    await saved(undefined, incident);
    const listed = InstanceRuleList.parse(
      await (await call("/api/admin/rules", { token: admin.token })).json(),
    );
    const [first, second, third] = listed.rules;
    // 02:00 in Tokyo is 17:00 UTC, within the next day.
    expect(new Date(first!.nextAt!).toISOString()).toMatch(/T17:00:00\.000Z$/);
    expect(first!.nextAt! - now).toBeGreaterThan(0);
    expect(first!.nextAt! - now).toBeLessThanOrEqual(86_400_000);
    expect(second!.nextAt).toBeNull();
    expect(third).not.toHaveProperty("nextAt");
  });
});

describe("the dry run of an instance rule", { timeout: 20_000 }, () => {
  const outage: RuleInput = {
    ...incident,
    name: "Outage",
    trigger: { on: "message", match: { keywords: ["outage"] } },
    actions: [{ do: "reply", text: "Status page: https://status.example" }],
  };

  /** Two rooms of ada's, each with an outage reported and a message that is none. */
  async function rooms() {
    const ada = await guest("ada");
    const [a, c] = [await newRoom(ada, "a"), await newRoom(ada, "c")];
    for (const room of [a, c])
      for (const text of ["outage on the db", "all fine now"])
        await roomStub(room).command(
          { type: "post", clientId: crypto.randomUUID(), text },
          ada.user,
        );
    return { ada, a, c };
  }

  const dryRun = (token: string | undefined, json: unknown) =>
    call("/api/admin/rules/dry-run", { method: "POST", token, json });

  it("runs it over a room's history as the instance's rule; a room its rooms leave out has no hits", async () => {
    const admin = await root();
    const { a, c } = await rooms();
    const rule = { ...outage, conditions: { rooms: [a, "b"] } };

    const inA = await dryRun(admin.token, { rule, room: a });
    expect(inA.status).toBe(200);
    const report = InstanceDryRunReport.parse(await inA.json());
    expect(report).toMatchObject({ room: a, applies: true, scanned: 4 });
    expect(report.hits).toHaveLength(1);
    expect(report.hits[0]!.actions).toEqual([
      expect.stringMatching(/^reply to #\d+: "Status page: https:\/\/status\.example"$/),
    ]);
    expect(report.hits[0]!.summary).toMatch(/outage on the db/);

    const inC = InstanceDryRunReport.parse(
      await (await dryRun(admin.token, { rule, room: c })).json(),
    );
    expect(inC).toEqual({ room: c, applies: false, scanned: 4, hits: [] });
    // Without a rooms condition it applies everywhere; disabled, it is still tried.
    const everywhere = InstanceDryRunReport.parse(
      await (await dryRun(admin.token, { rule: { ...outage, enabled: false }, room: c })).json(),
    );
    expect(everywhere).toMatchObject({ applies: true, hits: [{ summary: expect.any(String) }] });
    // Nothing was posted: the room holds its two messages still.
    const events = await roomStub(a).events(admin.user, 0, 100);
    expect(
      events.ok && events.value.events.filter((e) => e.type === "message.posted"),
    ).toHaveLength(2);
  });

  it("lists a schedule's next times, none in a room it leaves out", async () => {
    const admin = await root();
    const { a, c } = await rooms();
    const rule: RuleInput = {
      ...outage,
      trigger: { on: "schedule", cron: "0 9 * * 1-5", timeZone: "Europe/Paris" },
      conditions: { rooms: [a] },
      actions: [{ do: "post", text: "stand-up in {room}" }],
    };
    const inA = InstanceDryRunReport.parse(
      await (await dryRun(admin.token, { rule, room: a })).json(),
    );
    expect(inA.applies).toBe(true);
    expect(inA.hits).toEqual([]);
    expect(inA.upcoming).toHaveLength(5);
    const inC = InstanceDryRunReport.parse(
      await (await dryRun(admin.token, { rule, room: c })).json(),
    );
    expect(inC).toMatchObject({ applies: false, hits: [], upcoming: [] });
  });

  it("is for admins only, and answers bad input with 400 naming the field", async () => {
    const admin = await root();
    const { ada, a } = await rooms();
    // The room's owner is no instance admin; a guest named root neither.
    for (const who of [ada, await guest("root")])
      expect(await errorOf(await dryRun(who.token, { rule: outage, room: a }))).toMatchObject({
        status: 403,
        code: "forbidden",
      });
    expect((await errorOf(await dryRun(undefined, { rule: outage, room: a }))).status).toBe(401);

    const cases: [unknown, RegExp][] = [
      [{ rule: outage }, /^room: /],
      [{ rule: outage, room: "No Such Name!" }, /^room: /],
      [{ rule: { ...outage, name: "" }, room: a }, /^rule\.name: /],
      [{ rule: { ...outage, actions: [] }, room: a }, /^rule\.actions: /],
      [
        { rule: { ...outage, trigger: { on: "webhook", hook: `ih_${"0".repeat(24)}` } }, room: a },
        /^trigger\.hook: an incoming webhook belongs to one room/,
      ],
      [
        { rule: { ...outage, trigger: { on: "message", match: { pattern: "(?=x)" } } }, room: a },
        /^trigger\.match\.pattern: the pattern is not valid RE2/,
      ],
      [
        {
          rule: { ...outage, trigger: { on: "schedule", cron: "every day", timeZone: "UTC" } },
          room: a,
        },
        /^trigger\.cron: /,
      ],
    ];
    for (const [body, message] of cases) {
      const answer = await errorOf(await dryRun(admin.token, body));
      expect(answer, JSON.stringify(body)).toMatchObject({ status: 400, code: "bad_request" });
      expect(answer.message, JSON.stringify(body)).toMatch(message);
    }
    // A room that does not exist is the contract's 404.
    const missing = await errorOf(
      await dryRun(admin.token, {
        rule: outage,
        room: `nowhere-${crypto.randomUUID().slice(0, 8)}`,
      }),
    );
    expect(missing).toMatchObject({ status: 404, code: "not_found" });
  });
});
