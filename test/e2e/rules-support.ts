/**
 * What the rules-at-work e2e files share (test/e2e/rules-firing*.test.ts): a room with an owner,
 * a moderator and a member; a rule saved through the SDK; the events a rule's own actor wrote,
 * as a socket saw them; and a sentinel that proves the room's rules have caught up.
 */
import { expect } from "vitest";
import type { RoomEvent, RulesApi } from "../../src/client/index.ts";
import {
  connect,
  freshRoom,
  waitUntil,
  type Client,
  type Guest,
  type TestServer,
} from "./helpers.ts";

/** A rule as written: what the contract requires, the room applies the defaults. */
export type Draft = Parameters<RulesApi["create"]>[0];

export type Cast = { owner: Guest; moderator: Guest; member: Guest };

/** A public room of `owner`'s where `moderator` moderates and `member` has posted once. */
export async function staffedRoom(cast: Cast, prefix = "rules"): Promise<string> {
  const room = await freshRoom(cast.owner, prefix);
  for (const who of [cast.member, cast.moderator])
    await who.api.postMessage(room, { text: "hi", clientId: crypto.randomUUID() });
  await cast.owner.api.command(room, {
    type: "role",
    clientId: crypto.randomUUID(),
    userId: cast.moderator.user.id,
    role: "moderator",
  });
  return room;
}

/** Saves `draft` as `by` and answers the rule with the seq of its `rule.saved`. */
export async function saveRule(by: Guest, room: string, draft: Draft) {
  return by.api.rules(room).create(draft);
}

/** The events rule `name` wrote (its actor is named `Rule: <name>`), as `client` saw them. */
export const byRule = (client: Client, name: string): RoomEvent[] =>
  client.events.filter((event) => event.actor.name === `Rule: ${name}`);

/** Waits until rule `name` wrote at least `count` events; answers them all. */
export async function ruleWrote(
  client: Client,
  name: string,
  count = 1,
  timeoutMs = 15_000,
): Promise<RoomEvent[]> {
  return waitUntil(
    () => (byRule(client, name).length >= count ? byRule(client, name) : undefined),
    `${count} event(s) by rule ${name} (have ${byRule(client, name).length})`,
    timeoutMs,
  );
}

export const SENTINEL: Draft = {
  name: "Sentinel",
  trigger: { on: "message", match: { keywords: ["sentinel-check"] } },
  actions: [{ do: "react", emoji: "✅" }],
};

/**
 * Proves that the room's rules have handled everything committed so far: the firings run one
 * after another in commit order, so once the Sentinel rule (saved in the room beforehand) has
 * reacted to a post made now, every event before that post has been through the engine. What a
 * rule did not do by then, it will not do. Takes one action of the room's budget.
 */
export async function settled(room: string, by: Guest, client: Client): Promise<void> {
  const { seq } = await by.api.postMessage(room, {
    text: "sentinel-check",
    clientId: crypto.randomUUID(),
  });
  await waitUntil(
    () =>
      byRule(client, "Sentinel").some(
        (event) => event.type === "reaction.added" && event.data.messageId === seq,
      ),
    "the sentinel's reaction",
  );
}

/** A room with the Sentinel rule and a socket of the owner's watching it. */
export async function watchedRoom(
  server: TestServer,
  cast: Cast,
  prefix?: string,
): Promise<{ room: string; watcher: Client }> {
  const room = await staffedRoom(cast, prefix);
  await saveRule(cast.owner, room, SENTINEL);
  const watcher = await connect(server.url, room, cast.owner);
  return { room, watcher };
}

/** The text of a posted message event. */
export function textOf(event: RoomEvent | undefined): string {
  expect(event?.type).toBe("message.posted");
  return (event as Extract<RoomEvent, { type: "message.posted" }>).data.text;
}

/** Posts as `who` and answers the seq. */
export async function say(who: Guest, room: string, text: string): Promise<number> {
  return (await who.api.postMessage(room, { text, clientId: crypto.randomUUID() })).seq;
}
