/**
 * Plugins against the real worker under `wrangler dev` (workerd, its real Worker Loader): a plugin
 * granted a loopback host reaches a local HTTP server and nothing else; plugins that throw, loop,
 * recurse, allocate without end or wait too long each get their outcome while the worker goes on
 * answering another room, and the workerd process that runs every room is never replaced
 * (unbounded allocation or a spinning isolate would take it down with every room in it).
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ApiError, EdgechatApi, type PluginOutcome } from "../../src/client/index.ts";
import {
  ALLOCATES_BUFFERS,
  ALLOCATES_FOREVER,
  AWAITS_TOO_LONG,
  FETCHES,
  LOOPS_FOREVER,
  RECURSES_FOREVER,
  THROWS,
  WELL_BEHAVED,
  type PluginSource,
} from "../fixtures/plugins.ts";
import { bundlePlugin } from "../../scripts/plugin-bundle.ts";
import {
  freshRoom,
  signIn,
  useReceiver,
  useServer,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let root: EdgechatApi;
let ada: Guest;
let plugins = 0;

const receiver = useReceiver();

useServer(
  async (started) => {
    server = started;
    [ada] = await signIn(server, "ada");
    const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
    root = new EdgechatApi(server.url, session.token);
  },
  { vars: { ADMIN_USERNAMES: "root", WEBHOOK_ALLOW_LOOPBACK: "true" } },
);

/** Installs `source` under a fresh id, granted `hosts`; its id. */
async function install(source: PluginSource, hosts: string[] = []): Promise<string> {
  const id = `e2e-${++plugins}`;
  await root.admin.plugins.install(id, { code: source(id), hosts });
  return id;
}

const tryPost = (id: string, room: string, text = "hello") =>
  root.admin.plugins.try(id, { hook: "beforeCommit", room, text });

describe("a plugin's network", () => {
  it("reaches a granted loopback host, and the request carries nothing of the sandbox", async () => {
    const id = await install(FETCHES(receiver.url("/granted"), ["127.0.0.1"]), ["127.0.0.1"]);
    expect(await tryPost(id, "lobby")).toMatchObject({
      outcome: "ok",
      value: { rewrite: "fetched 200 ok" },
    });
    const [request] = receiver.at("/granted");
    expect(request).toBeDefined();
    expect(Object.keys(request!.headers)).not.toContain("x-edgechat-plugin-call");
  });

  it("reaches no other host, loopback or not", async () => {
    const port = new URL(receiver.url("/")).port;
    const elsewhere = await install(FETCHES(`http://localhost:${port}/elsewhere`, ["127.0.0.1"]), [
      "127.0.0.1",
    ]);
    const outcome = await tryPost(elsewhere, "lobby");
    expect(outcome).toMatchObject({ outcome: "threw" });
    expect(outcome.message).toMatch(/the host localhost is not one the plugin was granted/);
    expect(receiver.at("/elsewhere")).toEqual([]);
  });

  it("has no network at all without a grant", async () => {
    const id = await install(FETCHES(receiver.url("/ungranted"), ["127.0.0.1"]));
    const outcome = await tryPost(id, "lobby");
    expect(outcome).toMatchObject({ outcome: "threw" });
    expect(outcome.message).toMatch(/not permitted to access the internet/);
    expect(receiver.at("/ungranted")).toEqual([]);
  });
});

describe("misbehaving plugins", () => {
  it("each get their outcome while the worker answers another room, in the same process", async () => {
    const runtime = server.runtimePid;
    const room = await freshRoom(ada, "plugged");
    const other = await freshRoom(ada, "other");
    const good = await install(WELL_BEHAVED);
    const cases: [PluginSource, PluginOutcome["outcome"], RegExp][] = [
      [THROWS, "threw", /the plugin broke/],
      [LOOPS_FOREVER, "refused-by-limit", /loop iterations and function calls/],
      [RECURSES_FOREVER, "refused-by-limit", /PluginLimit/],
      [ALLOCATES_FOREVER, "refused-by-limit", /allocated more than 32 MiB/],
      [ALLOCATES_BUFFERS, "refused-by-limit", /allocated more than 32 MiB/],
      [AWAITS_TOO_LONG, "timeout", /no answer within 250 ms/],
    ];
    for (const [source, expected, message] of cases) {
      const id = await install(source);
      // The plugin and another room's request, at once.
      const [outcome, info] = await Promise.all([tryPost(id, room), ada.api.getRoom(other)]);
      expect(outcome.outcome, `${id}: ${JSON.stringify(outcome)}`).toBe(expected);
      expect(outcome.message).toMatch(message);
      expect(info.name).toBe(other);
      // Another plugin still runs, in the same room.
      expect(await tryPost(good, room, "darn")).toMatchObject({
        outcome: "ok",
        value: { rewrite: "****" },
      });
    }
    expect(server.runtimePid).toBe(runtime);
    expect(existsSync(`/proc/${runtime}`)).toBe(true);
  });
});

describe("the example plugins (plugins/), bundled as npm run plugin:bundle bundles them", () => {
  it("install, and run in their sandboxes as their own tests run them in Node", async () => {
    const [filter, poll, unfurler] = await Promise.all(
      ["profanity-filter", "poll", "link-unfurler"].map((name) => bundlePlugin(`plugins/${name}`)),
    );
    for (const bundle of [filter!, poll!])
      await root.admin.plugins.install(bundle.manifest.id, { code: bundle.code });
    await root.admin.plugins.install(unfurler!.manifest.id, {
      code: unfurler!.code,
      hosts: unfurler!.manifest.hosts,
    });
    const room = await freshRoom(ada, "examples");
    expect(await tryPost(filter!.manifest.id, room, "Well, darn.")).toMatchObject({
      outcome: "ok",
      value: { rewrite: "Well, ****." },
    });
    const started = await root.admin.plugins.try(poll!.manifest.id, {
      hook: "command",
      room,
      command: "poll",
      args: '"Lunch?" Thai Pizza',
    });
    expect(started).toMatchObject({ outcome: "ok", value: { visibility: "in_channel" } });
    // A link to a host it does not list: no card, no request.
    const port = new URL(receiver.url("/")).port;
    expect(
      await root.admin.plugins.try(unfurler!.manifest.id, {
        hook: "afterEvent",
        room,
        seq: 5,
        type: "message.posted",
        data: { text: `see http://127.0.0.1:${port}/page`, seq: 5 },
      }),
    ).toMatchObject({ outcome: "ok", value: [] });
    expect(receiver.at("/page")).toEqual([]);
  });
});

describe("the SDK", () => {
  it("lists, switches and removes plugins; users see what rooms may turn on", async () => {
    const id = await install(WELL_BEHAVED);
    expect((await root.admin.plugins.list()).plugins.map((p) => p.id)).toContain(id);
    expect((await ada.api.plugins()).plugins.map((m) => m.id)).toContain(id);
    await root.admin.plugins.setEnabled(id, false);
    expect((await ada.api.plugins()).plugins.map((m) => m.id)).not.toContain(id);
    await root.admin.plugins.install(id, { code: WELL_BEHAVED(id, "1.0.1") });
    expect((await root.admin.plugins.rollback(id, "1.0.0")).current).toBe("1.0.0");
    expect((await root.admin.plugins.get(id)).versions).toHaveLength(2);
    await root.admin.plugins.remove(id);
    const gone = await root.admin.plugins.get(id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(ApiError);
    expect((gone as ApiError).code).toBe("not_found");
    const refused = await ada.api.admin.plugins.list().catch((error: unknown) => error);
    expect((refused as ApiError).code).toBe("forbidden");
  });
});
