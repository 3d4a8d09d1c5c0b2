/**
 * Rules and plugin enablement as events in the room's log (docs/automation.md, "Rules in the
 * log"), inside workerd: the room's RPC (save, list, delete, undo, redo, plugins), its
 * permissions, and the REST routes over it with the contract's errors.
 */
import { describe, expect, it } from "vitest";
import type { RuleInput } from "../../src/protocol/automation.ts";
import { ErrorBody, RoomEvent, type Session } from "../../src/protocol/index.ts";
import { RoomPluginList, RuleList, SavedRule } from "../../src/protocol/rules.ts";
import { call, Client, guest, newRoom, roomStub } from "./helpers.ts";

const incident: RuleInput = {
  name: "Incident",
  enabled: true,
  trigger: { on: "message", match: { keywords: ["incident"] } },
  conditions: {},
  actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
};
const welcome: RuleInput = {
  name: "Welcome",
  enabled: true,
  trigger: { on: "member_joined" },
  conditions: {},
  actions: [{ do: "post", text: "welcome {user}" }],
};
const RL1 = "rl_00000000000000a1";
const RL2 = "rl_00000000000000a2";

let n = 0;
const clientId = () => `c${++n}`;

/** A room of ada's, bob a member in it, mo made a moderator. */
async function cast() {
  const [ada, bob, mo] = await Promise.all([guest("ada"), guest("bob"), guest("moe")]);
  const room = await newRoom(ada, "rules");
  const stub = roomStub(room);
  for (const who of [bob, mo])
    await stub.command({ type: "post", clientId: clientId(), text: "hi" }, who.user);
  await stub.command(
    { type: "role", clientId: clientId(), userId: mo.user.id, role: "moderator" },
    ada.user,
  );
  return { ada, bob, mo, room, stub };
}

async function register(username: string): Promise<Session> {
  const json = { username, password: "correct horse battery" };
  const res = await call("/api/auth/register", { method: "POST", json });
  if (res.status !== 201) throw new Error(`register: ${res.status}`);
  return res.json();
}

async function errorOf(res: Response) {
  return { status: res.status, code: ErrorBody.parse(await res.json()).error.code };
}

// The first calls start the pool's objects cold (seconds on a busy machine), as in admin-users.test.ts.
describe("the room's rules through its RPC", { timeout: 20_000 }, () => {
  it("saves, lists, replaces, deletes, and undoes and redoes a moderator's changes", async () => {
    const { mo, stub } = await cast();
    const save = (rule: RuleInput, id: string) =>
      stub.command({ type: "save_rule", clientId: clientId(), rule, id }, mo.user);
    const first = await save(incident, RL1);
    expect(first.ok).toBe(true);
    await save(welcome, RL2);
    const listed = await stub.rules(mo.user);
    expect(RuleList.parse(listed.ok && listed.value).rules).toMatchObject([
      { ...incident, id: RL1, by: { id: mo.user.id, name: "moe" } },
      { ...welcome, id: RL2 },
    ]);

    // Saved unchanged: acked with the room's current seq, nothing logged.
    const again = await save(incident, RL1);
    const info = await stub.info(mo.user);
    expect(again).toEqual({ ok: true, value: { seq: info.ok && info.value.lastSeq } });

    await stub.command({ type: "delete_rule", clientId: clientId(), ruleId: RL1 }, mo.user);
    const afterDelete = await stub.rules(mo.user);
    expect(afterDelete.ok && afterDelete.value.rules.map((r) => r.id)).toEqual([RL2]);
    const missing = await stub.command(
      { type: "delete_rule", clientId: clientId(), ruleId: RL1 },
      mo.user,
    );
    expect(missing).toMatchObject({ ok: false, error: { code: "not_found" } });

    // The undo brings the rule back where it was: first.
    const undone = await stub.command({ type: "undo", clientId: clientId() }, mo.user);
    expect(undone.ok).toBe(true);
    const restored = await stub.rules(mo.user);
    expect(restored.ok && restored.value.rules.map((r) => [r.id, r.name])).toEqual([
      [RL1, "Incident"],
      [RL2, "Welcome"],
    ]);
    await stub.command({ type: "redo", clientId: clientId() }, mo.user);
    const redone = await stub.rules(mo.user);
    expect(redone.ok && redone.value.rules.map((r) => r.id)).toEqual([RL2]);

    const events = await stub.events(mo.user, 0, 100);
    const types = (events.ok ? events.value.events : []).map((e) => e.type);
    expect(types.filter((t) => t.startsWith("rule."))).toEqual([
      "rule.saved",
      "rule.saved",
      "rule.deleted",
      "rule.saved",
      "rule.deleted",
    ]);
    for (const event of events.ok ? events.value.events : []) RoomEvent.parse(event);
  });

  it("lets only moderators and up see and change the rules, and the owner the plugins", async () => {
    const { ada, bob, mo, stub } = await cast();
    expect(await stub.rules(bob.user)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const byMember = await stub.command(
      { type: "save_rule", clientId: clientId(), rule: incident, id: RL1 },
      bob.user,
    );
    expect(byMember).toMatchObject({ ok: false, error: { code: "forbidden" } });

    const byModerator = await stub.command(
      { type: "enable_plugin", clientId: clientId(), plugin: "poll" },
      mo.user,
    );
    expect(byModerator).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const byOwner = await stub.command(
      { type: "enable_plugin", clientId: clientId(), plugin: "poll" },
      ada.user,
    );
    expect(byOwner.ok).toBe(true);
    // Anyone who may see the room sees which plugins are on.
    const plugins = await stub.plugins(bob.user);
    expect(RoomPluginList.parse(plugins.ok && plugins.value).plugins).toMatchObject([
      { plugin: "poll", enabled: true },
    ]);
    await stub.command({ type: "disable_plugin", clientId: clientId(), plugin: "poll" }, ada.user);
    const off = await stub.plugins(bob.user);
    expect(off.ok && off.value.plugins).toMatchObject([{ plugin: "poll", enabled: false }]);
  });

  it("sends each rule event to the room's sockets like any other", async () => {
    const { bob, mo, room, stub } = await cast();
    const client = await Client.open(room, bob);
    await stub.command(
      { type: "save_rule", clientId: clientId(), rule: welcome, id: RL2 },
      mo.user,
    );
    const frame = await client.next("event");
    expect(frame.event).toMatchObject({
      type: "rule.saved",
      actor: { id: mo.user.id },
      data: { rule: { ...welcome, id: RL2 } },
    });
    client.close();
  });
});

describe("REST: /api/rooms/{room}/rules and /plugins", () => {
  it("creates with a new id, replaces by id, lists, deletes", async () => {
    const { mo, room } = await cast();
    const base = `/api/rooms/${room}/rules`;
    const created = await call(base, { method: "POST", token: mo.token, json: welcome });
    expect(created.status).toBe(201);
    const { rule, seq } = SavedRule.parse(await created.json());
    expect(rule).toMatchObject({ ...welcome, by: { name: "moe" } });
    expect(rule.id).toMatch(/^rl_[0-9a-f]{16}$/);

    // Only what the contract requires: the defaults are the room's to apply.
    const bare = {
      name: "Bare",
      trigger: { on: "member_left" },
      actions: [{ do: "post", text: "bye" }],
    };
    const put = await call(`${base}/${RL1}`, { method: "PUT", token: mo.token, json: bare });
    expect(put.status).toBe(200);
    const replaced = SavedRule.parse(await put.json());
    expect(replaced.rule).toMatchObject({ ...bare, id: RL1, enabled: true, conditions: {} });
    expect(replaced.seq).toBe(seq + 1);
    const unchanged = await call(`${base}/${RL1}`, { method: "PUT", token: mo.token, json: bare });
    expect(SavedRule.parse(await unchanged.json()).seq).toBe(replaced.seq);

    const list = RuleList.parse(await (await call(base, { token: mo.token })).json());
    expect(list.rules.map((r) => r.id)).toEqual([rule.id, RL1]);

    const deleted = await call(`${base}/${rule.id}`, { method: "DELETE", token: mo.token });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ seq: replaced.seq + 1 });
    const twice = await call(`${base}/${rule.id}`, { method: "DELETE", token: mo.token });
    expect(await errorOf(twice)).toEqual({ status: 404, code: "not_found" });
  });

  it("answers the contract's errors: 400 for a bad rule or id, 403 to a member, 404 to a stranger", async () => {
    const { bob, mo, room } = await cast();
    const base = `/api/rooms/${room}/rules`;
    const post = (json: unknown, token = mo.token) => call(base, { method: "POST", token, json });
    expect(await errorOf(await post({ ...welcome, actions: [] }))).toEqual({
      status: 400,
      code: "bad_request",
    });
    expect(await errorOf(await post({ ...welcome, name: "\udfff" }))).toEqual({
      status: 400,
      code: "bad_request",
    });
    // What zod cannot check (src/automation/validate.ts): a reply with no message to reply to.
    const pointless = await post({ ...welcome, actions: [{ do: "reply", text: "hi" }] });
    expect(pointless.status).toBe(400);
    expect(ErrorBody.parse(await pointless.json()).error.message).toMatch(
      /^actions\.0: reply needs a triggering message/,
    );
    const badId = await call(`${base}/rule-1`, { method: "PUT", token: mo.token, json: welcome });
    expect(await errorOf(badId)).toEqual({ status: 400, code: "bad_request" });

    expect(await errorOf(await call(base, { token: bob.token }))).toEqual({
      status: 403,
      code: "forbidden",
    });
    expect(await errorOf(await post(welcome, bob.token))).toEqual({
      status: 403,
      code: "forbidden",
    });
    const del = await call(`${base}/${RL1}`, { method: "DELETE", token: bob.token });
    expect(await errorOf(del)).toEqual({ status: 403, code: "forbidden" });
    expect((await call(`/api/rooms/${room}/plugins`, { token: bob.token })).status).toBe(200);
    expect((await call(base)).status).toBe(401);

    const owner = await register(`rules_${crypto.randomUUID().slice(0, 8)}`);
    const secret = `secret-${crypto.randomUUID().slice(0, 8)}`;
    const made = await call("/api/rooms", {
      method: "POST",
      token: owner.token,
      json: { name: secret, visibility: "private" },
    });
    expect(made.status).toBe(201);
    const stranger = bob.token;
    for (const [method, path, json] of [
      ["GET", `/api/rooms/${secret}/rules`, undefined],
      ["POST", `/api/rooms/${secret}/rules`, welcome],
      ["PUT", `/api/rooms/${secret}/rules/${RL1}`, welcome],
      ["DELETE", `/api/rooms/${secret}/rules/${RL1}`, undefined],
      ["GET", `/api/rooms/${secret}/plugins`, undefined],
    ] as const) {
      const res = await call(path, { method, token: stranger, json });
      expect(await errorOf(res), `${method} ${path}`).toEqual({ status: 404, code: "not_found" });
    }
    // The owner of the private room manages its rules.
    const mine = await call(`/api/rooms/${secret}/rules`, {
      method: "POST",
      token: owner.token,
      json: incident,
    });
    expect(mine.status).toBe(201);
  });

  it("is in the OpenAPI document with its errors", async () => {
    type Operation = { responses: Record<string, unknown> };
    const doc = await (
      await call("/api/openapi.json")
    ).json<{
      paths: Record<string, Record<string, Operation>>;
    }>();
    const rules = doc.paths["/api/rooms/{room}/rules"];
    const one = doc.paths["/api/rooms/{room}/rules/{id}"];
    expect(Object.keys(rules ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(one ?? {}).sort()).toEqual(["delete", "put"]);
    expect(Object.keys(rules?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(["201", "400", "403", "404", "409"]),
    );
    expect(doc.paths["/api/rooms/{room}/plugins"]?.get).toBeDefined();
  });
});
