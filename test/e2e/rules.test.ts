/**
 * Rules in the room's log (docs/automation.md, "Rules in the log") through the real server: the
 * SDK's `api.rules(room)` (create, save, list, delete) and the REST routes under it, each answer
 * parsed by the protocol's schemas, each refusal the contract's ApiError; a rule saved reaches a
 * WebSocket client (the SDK's RoomConnection) as a `rule.saved` event, and the saver's undo
 * over the socket takes it back.
 */
import { expect, it } from "vitest";
import { ApiError, RoomPluginList, type RoomEvent, type RulesApi } from "../../src/client/index.ts";
import { connect, freshRoom, signIn, useServer, waitUntil, type Guest } from "./helpers.ts";
import type { TestServer } from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let moe: Guest;

useServer(async (started) => {
  server = started;
  [ada, bob, moe] = await signIn(server, "ada", "bob", "moe");
});

/** A rule as written: what the contract requires, the room applies the defaults. */
type Draft = Parameters<RulesApi["create"]>[0];
const incident: Draft = {
  name: "Incident",
  trigger: { on: "message", match: { keywords: ["incident"] } },
  actions: [{ do: "reply", text: "Runbook: https://wiki.example/runbook" }],
};

/** A room of ada's where moe is a moderator and bob a member. */
async function room(): Promise<string> {
  const name = await freshRoom(ada);
  for (const who of [bob, moe])
    await who.api.postMessage(name, { text: "hi", clientId: crypto.randomUUID() });
  await ada.api.command(name, {
    type: "role",
    clientId: crypto.randomUUID(),
    userId: moe.user.id,
    role: "moderator",
  });
  return name;
}

async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

const ruleEvents = (events: RoomEvent[]) => events.filter((e) => e.type.startsWith("rule."));

it("creates, saves, lists and deletes a room's rules with the SDK; the sockets see each as an event", async () => {
  const name = await room();
  const watcher = await connect(server.url, name, bob);
  const rules = moe.api.rules(name);

  const { rule, seq } = await rules.create(incident);
  expect(rule).toMatchObject({ ...incident, enabled: true, conditions: {}, by: { name: "moe" } });
  expect(rule.id).toMatch(/^rl_[0-9a-f]{16}$/);
  await watcher.untilSeq(seq);
  expect(ruleEvents(watcher.events)).toMatchObject([
    { seq, type: "rule.saved", actor: { name: "moe" }, data: { rule: { id: rule.id } } },
  ]);

  const off = await rules.save(rule.id, { ...rule, enabled: false });
  expect(off.rule).toMatchObject({ id: rule.id, enabled: false });
  expect(off.seq).toBe(seq + 1);
  // The listed rule sent back as it is: unchanged, nothing logged.
  const same = await rules.save(rule.id, off.rule);
  expect(same.seq).toBe(off.seq);

  const second = await ada.api.rules(name).save("rl_00000000000000b2", {
    name: "Welcome",
    trigger: { on: "member_joined" },
    actions: [{ do: "post", text: "welcome {user}" }],
  });
  expect((await rules.list()).rules.map((r) => [r.id, r.by.name])).toEqual([
    [rule.id, "moe"],
    [second.rule.id, "ada"],
  ]);

  const { seq: deletedAt } = await rules.delete(rule.id);
  await watcher.untilSeq(deletedAt);
  expect(ruleEvents(watcher.events).map((e) => [e.type, e.actor.name])).toEqual([
    ["rule.saved", "moe"],
    ["rule.saved", "moe"],
    ["rule.saved", "ada"],
    ["rule.deleted", "moe"],
  ]);
  expect((await rules.list()).rules.map((r) => r.id)).toEqual([second.rule.id]);
  expect((await refusal(rules.delete(rule.id))).code).toBe("not_found");
});

it("takes a rule's delete back with the saver's undo over the WebSocket", async () => {
  const name = await room();
  const rules = moe.api.rules(name);
  const { rule } = await rules.create(incident);
  await rules.delete(rule.id);
  const socket = await connect(server.url, name, moe);
  const undoneAt = await socket.conn.undo();
  await socket.untilSeq(undoneAt);
  expect(socket.events.find((e) => e.seq === undoneAt)).toMatchObject({
    type: "rule.saved",
    data: { rule: { id: rule.id, name: "Incident" } },
  });
  const redoneAt = await socket.conn.redo();
  await socket.untilSeq(redoneAt);
  expect(socket.events.find((e) => e.seq === redoneAt)).toMatchObject({
    type: "rule.deleted",
  });
  await waitUntil(async () => (await rules.list()).rules.length === 0, "the rule gone again");
});

it("refuses a member with 403, a stranger to a private room with 404, a bad rule with 400", async () => {
  const name = await room();
  expect(await refusal(bob.api.rules(name).list())).toMatchObject({
    code: "forbidden",
    status: 403,
  });
  expect((await refusal(bob.api.rules(name).create(incident))).code).toBe("forbidden");
  const bad = { ...incident, actions: [] };
  expect(await refusal(moe.api.rules(name).create(bad))).toMatchObject({
    code: "bad_request",
    status: 400,
  });
  expect((await refusal(moe.api.rules(name).save("not-an-id", incident))).code).toBe("bad_request");

  const owner = await ada.api.register(`rules_${crypto.randomUUID().slice(0, 8)}`, "correct horse");
  const root = ada.api.withToken(owner.token);
  const secret = `secret-${crypto.randomUUID().slice(0, 8)}`;
  await root.createRoom({ name: secret, visibility: "private" });
  expect(await refusal(bob.api.rules(secret).list())).toMatchObject({
    code: "not_found",
    status: 404,
  });
  expect((await refusal(bob.api.rules(secret).delete("rl_00000000000000b2"))).code).toBe(
    "not_found",
  );
  expect((await root.rules(secret).create(incident)).rule.name).toBe("Incident");
});

it("serves the room's plugins to anyone who may see it", async () => {
  const name = await room();
  const response = await fetch(`${server.url}/api/rooms/${name}/plugins`, {
    headers: { authorization: `Bearer ${bob.token}` },
  });
  expect(response.status).toBe(200);
  expect(RoomPluginList.parse(await response.json())).toEqual({ plugins: [] });
});
