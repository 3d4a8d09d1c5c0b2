/**
 * Plugins in rooms, through the real server under `wrangler dev` (docs/plugins.md, "In a room"):
 * the link unfurler reaching the one loopback host it was granted and no other, and misbehaving
 * plugins on in a room next to a good one (a loop, endless allocation, a throw, an endless wait,
 * a fetch with no grant, an after-event hook that sleeps past its budget): posts go through within
 * the budget, the good plugin still rewrites and reacts in time, the room and other rooms answer,
 * the runner suspends each bad plugin in that room after three failures, and the workerd process
 * that runs every room is the same at the end.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EdgechatApi, type RoomEvent } from "../../src/client/index.ts";
import { STRIKES } from "../../src/plugins/strikes.ts";
import { bundlePlugin } from "../../scripts/plugin-bundle.ts";
import {
  ROOM_ALLOCATES,
  ROOM_AWAITS_FOREVER,
  ROOM_FETCHES,
  ROOM_LOOPS,
  ROOM_SLEEPS_AFTER,
  ROOM_THROWS,
  WELL_BEHAVED,
} from "../fixtures/plugins.ts";
import {
  connect,
  freshRoom,
  signIn,
  useReceiver,
  useServer,
  waitUntil,
  type Client,
  type Guest,
  type TestServer,
} from "./helpers.ts";

/** The runner's wall-clock budgets (src/plugins/runner.ts's WALL_MS, which needs workerd's types). */
const WALL_MS = { beforeCommit: 250, afterEvent: 5000 };

let server: TestServer;
let root: EdgechatApi;
let ada: Guest;
let bob: Guest;
let cat: Guest;

const receiver = useReceiver();

useServer(
  async (started) => {
    server = started;
    [ada, bob, cat] = await signIn(server, "ada", "bob", "cat");
    const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
    root = new EdgechatApi(server.url, session.token);
  },
  { vars: { ADMIN_USERNAMES: "root", WEBHOOK_ALLOW_LOOPBACK: "true" } },
);

let ids = 0;
const post = async (who: Guest, room: string, text: string) =>
  (await who.api.postMessage(room, { text, clientId: `p-${++ids}-${Date.now()}` })).seq;

/** A room owned by ada with `plugins` on, and cat watching on a socket. */
async function roomWith(prefix: string, ...plugins: string[]) {
  const room = await freshRoom(ada, prefix);
  for (const plugin of plugins) await ada.api.roomPlugins(room).set(plugin, true);
  const watcher = await connect(server.url, room, cat);
  return { room, watcher };
}

const seen = (client: Client, what: string, match: (event: RoomEvent) => boolean) =>
  waitUntil(() => client.events.find(match), what);

describe("the link unfurler in a room", () => {
  it("replies with the title of a page on its granted loopback host, and sends nothing elsewhere", async () => {
    // The plugin as it is, but listing the loopback names: 127.0.0.1 granted, localhost not.
    const unfurler = await bundlePlugin("plugins/link-unfurler", {
      replace: { "hosts.ts": 'export const HOSTS = ["127.0.0.1", "localhost"];' },
    });
    expect(unfurler.manifest.hosts).toEqual(["127.0.0.1", "localhost"]);
    await root.admin.plugins.install("link-unfurler", {
      code: unfurler.code,
      hosts: ["127.0.0.1"],
    });
    receiver.answer("/menu", () => ({
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8" },
      body: `<html><head><title>Lunch &amp; more</title>
        <meta name="description" content="Soup of the day"></head><body>…</body></html>`,
    }));
    const { room, watcher } = await roomWith("unfurl", "link-unfurler");
    const port = new URL(receiver.url("/")).port;
    const ungranted = await post(bob, room, `see http://localhost:${port}/elsewhere`);
    const granted = await post(bob, room, `menu: ${receiver.url("/menu")}`);
    const reply = await seen(
      watcher,
      "the unfurler's reply",
      (event) => event.type === "message.posted" && event.actor.name === "Plugin: link-unfurler",
    );
    expect(reply.data).toEqual({
      text: "🔗 Lunch & more (127.0.0.1)\nSoup of the day",
      replyTo: granted,
    });
    expect(receiver.at("/menu")).toHaveLength(1);
    expect(Object.keys(receiver.at("/menu")[0]!.headers)).not.toContain("x-edgechat-plugin-call");
    // The plugin handles events in commit order: the earlier link was given up on before it.
    expect(receiver.at("/elsewhere")).toEqual([]);
    const last = await post(ada, room, "thanks");
    await watcher.untilSeq(last);
    const replies = watcher.messages().filter((event) => event.actor.name !== "bob");
    expect(replies.map((event) => event.data)).toEqual([
      expect.objectContaining({ replyTo: granted }),
      { text: "thanks" },
    ]);
    expect(ungranted).toBeLessThan(granted);
  });
});

describe("misbehaving plugins in a room", () => {
  it("let posts through within the budget while a good plugin acts, until each is suspended there", async () => {
    const runtime = server.runtimePid;
    const bad = {
      "bad-loops": ROOM_LOOPS,
      "bad-allocates": ROOM_ALLOCATES,
      "bad-throws": ROOM_THROWS,
      "bad-awaits": ROOM_AWAITS_FOREVER,
      "bad-fetches": ROOM_FETCHES(receiver.url("/never")),
      "bad-sleeps": ROOM_SLEEPS_AFTER,
    };
    for (const [id, source] of Object.entries(bad))
      await root.admin.plugins.install(id, { code: source(id) });
    // Last in id order: its hook runs after every bad one's.
    await root.admin.plugins.install("zz-good", { code: WELL_BEHAVED("zz-good") });
    const { room, watcher } = await roomWith("faults", ...Object.keys(bad), "zz-good");
    const other = await freshRoom(ada, "bystander");
    const also = await roomWith("also", "bad-throws");

    const screeningHooks = 5; // four bad ones and zz-good
    const budgetMs = WALL_MS.beforeCommit * screeningHooks;
    const posted: number[] = [];
    for (let i = 1; i <= STRIKES.failuresInARow + 2; i++) {
      const started = Date.now();
      // A post here, and meanwhile another room's read and post.
      const [seq, info, elsewhere] = await Promise.all([
        post(bob, room, `darn #${i}`),
        ada.api.getRoom(other),
        post(ada, other, `meanwhile #${i}`),
      ]);
      // Every hook's budget at most, and a second for the rest of the request on a busy machine.
      expect(Date.now() - started).toBeLessThan(budgetMs + 1000);
      expect(info.name).toBe(other);
      expect(elsewhere).toBeGreaterThan(0);
      posted.push(seq);
    }
    // Through as the good plugin rewrote it, each; and each got the good plugin's reaction
    // within the after-event budget, though bad-sleeps holds every event of its own that long.
    for (const [i, seq] of posted.entries()) {
      const event = await seen(watcher, `post ${seq}`, (e) => e.seq === seq);
      expect(event.data).toEqual({ text: `**** #${i + 1}` });
      const reacted = (e: RoomEvent) =>
        e.type === "reaction.added" &&
        e.actor.name === "Plugin: zz-good" &&
        (e.data as { messageId: number }).messageId === seq;
      await waitUntil(
        () => watcher.events.find(reacted),
        `zz-good's reaction to ${seq}`,
        WALL_MS.afterEvent,
      );
    }
    // The room answers other commands, the good plugin's among them.
    const topic = await ada.api.command(room, {
      type: "topic",
      clientId: `t-${Date.now()}`,
      topic: "still here",
    });
    expect(topic.seq).toBeGreaterThan(posted.at(-1)!);
    expect(await bob.api.slash.run(room, "/count")).toEqual({
      kind: "ephemeral",
      text: expect.stringMatching(new RegExp(`^${posted.length} posts in ${room} `)),
    });

    // Each bad plugin was called three times in a row, failed, and was not called again here.
    const calls = async (id: string, where: string) => {
      const outcome = await root.admin.plugins.try(id, {
        hook: "command",
        room: where,
        command: "calls",
        args: "",
      });
      expect(outcome.outcome, JSON.stringify(outcome)).toBe("ok");
      return (outcome.value as { text: string }).text;
    };
    for (const id of Object.keys(bad).filter((id) => id !== "bad-sleeps"))
      expect(await calls(id, room), id).toBe(String(STRIKES.failuresInARow));
    // The runner runs one call of a plugin at a time: the calls after its first, which still
    // sleeps, waited their budget out without reaching it, and counted as failures all the same.
    expect(await calls("bad-sleeps", room)).toBe("1");
    // Suspended in that room only: in another, its first post still reaches it.
    await post(bob, also.room, "hello there");
    expect(await calls("bad-throws", also.room)).toBe("1");
    // It never reached the network.
    expect(receiver.at("/never")).toEqual([]);

    expect(server.runtimePid).toBe(runtime);
    expect(existsSync(`/proc/${runtime}`)).toBe(true);
  });
});
