import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AuditPage,
  AvailablePlugins,
  ErrorBody,
  InstalledPluginDetail,
  PluginList,
  PluginOutcome,
  Session,
  type AuditEntry,
} from "../../src/protocol/index.ts";
import { FUEL_NAME } from "../../src/plugins/sandbox/names.ts";
import {
  ALLOCATES_FOREVER,
  hookPlugin,
  LOOPS_FOREVER,
  THROWS,
  WELL_BEHAVED,
} from "../fixtures/plugins.ts";
import { call, guest } from "./helpers.ts";

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return Session.parse(await registered.json());
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return Session.parse(await signedIn.json());
}

let admin: Session;
let plugins = 0;
const freshId = (prefix = "plug") => `${prefix}-${++plugins}-${crypto.randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  admin = await root();
  // The pool's first call to a Durable Object class takes seconds: not inside a test's budget.
  await env.PLUGIN_STORAGE.getByName("warm/up").get("warm");
}, 30_000);

function install(id: string, code: string, hosts?: string[], token = admin.token) {
  return call(`/api/admin/plugins/${id}`, {
    method: "PUT",
    token,
    json: hosts ? { code, hosts } : { code },
  });
}

async function installed(id: string, code: string, hosts?: string[]) {
  const res = await install(id, code, hosts);
  expect(res.status, await res.clone().text()).toBe(201);
  return InstalledPluginDetail.parse(await res.json());
}

async function refusal(res: Response, status: number, message: RegExp) {
  expect(res.status, await res.clone().text()).toBe(status);
  const body = ErrorBody.parse(await res.json());
  expect(body.error.message).toMatch(message);
  return body;
}

/** Entries are recorded after the response: polls until the action shows for the plugin. */
async function audited(action: string, plugin: string): Promise<AuditEntry> {
  let found: AuditEntry | undefined;
  await expect
    .poll(async () => {
      const res = await call(`/api/admin/audit?action=${action}`, { token: admin.token });
      const page = AuditPage.parse(await res.json());
      found = page.entries.find((entry) => entry.data.plugin === plugin);
      return found !== undefined;
    })
    .toBe(true);
  return found!;
}

describe("installing plugins", () => {
  it("installs, lists, shows, turns off, rolls back and removes a plugin", async () => {
    const id = freshId("poll");
    const first = await installed(id, WELL_BEHAVED(id, "1.0.0"));
    expect(first).toMatchObject({
      id,
      enabled: true,
      current: "1.0.0",
      hosts: [],
      manifest: {
        id,
        version: "1.0.0",
        description: "rewrites mild words, refuses forbidden ones, counts posts",
        hooks: { beforeCommit: true, afterEvent: true },
        commands: [{ name: "count", usage: "/count", description: expect.any(String) }],
        jobs: [{ name: "tidy", cron: "0 3 * * *", timeZone: "Europe/Paris" }],
        hosts: [],
      },
    });
    expect(first.versions).toHaveLength(1);
    expect(first.versions[0]).toMatchObject({
      version: "1.0.0",
      installedBy: { id: admin.user.id, name: "root" },
      codeBytes: new TextEncoder().encode(WELL_BEHAVED(id, "1.0.0")).byteLength,
    });
    await audited("plugin.installed", id);

    const second = await installed(id, WELL_BEHAVED(id, "1.1.0"));
    expect(second.current).toBe("1.1.0");
    expect(second.versions.map((v) => v.version)).toEqual(["1.1.0", "1.0.0"]);

    const list = PluginList.parse(
      await (await call("/api/admin/plugins", { token: admin.token })).json(),
    );
    expect(list.plugins.find((p) => p.id === id)).toMatchObject({
      current: "1.1.0",
      enabled: true,
    });

    // Any signed-in user sees what rooms may turn on.
    const user = await guest("gus");
    const available = async () =>
      AvailablePlugins.parse(await (await call("/api/plugins", { token: user.token })).json())
        .plugins;
    expect((await available()).find((m) => m.id === id)).toMatchObject({ version: "1.1.0" });

    const patch = (json: unknown) =>
      call(`/api/admin/plugins/${id}`, { method: "PATCH", token: admin.token, json });
    const off = InstalledPluginDetail.parse(await (await patch({ enabled: false })).json());
    expect(off.enabled).toBe(false);
    expect((await available()).find((m) => m.id === id)).toBeUndefined();
    await audited("plugin.disabled", id);

    const back = InstalledPluginDetail.parse(
      await (await patch({ version: "1.0.0", enabled: true })).json(),
    );
    expect(back).toMatchObject({ current: "1.0.0", enabled: true, manifest: { version: "1.0.0" } });
    const rolled = await audited("plugin.version_changed", id);
    expect(rolled.data).toMatchObject({ from: "1.1.0", version: "1.0.0" });
    await refusal(await patch({ version: "9.9.9" }), 404, /has no version 9\.9\.9/);
    await refusal(await patch({}), 400, /name enabled or version/);

    const one = InstalledPluginDetail.parse(
      await (await call(`/api/admin/plugins/${id}`, { token: admin.token })).json(),
    );
    expect(one.versions).toHaveLength(2);

    const removed = await call(`/api/admin/plugins/${id}`, {
      method: "DELETE",
      token: admin.token,
    });
    expect(removed.status).toBe(200);
    await audited("plugin.deleted", id);
    await refusal(await call(`/api/admin/plugins/${id}`, { token: admin.token }), 404, /no plugin/);
  });

  it("grants the hosts a plugin asks for, and only those", async () => {
    const id = freshId("unfurl");
    const asks = hookPlugin(`return { allow: true };`, ["api.example.com", "cdn.example.com"]);
    const plugin = await installed(id, asks(id), ["API.example.com"]);
    expect(plugin.hosts).toEqual(["api.example.com"]);
    expect(plugin.manifest.hosts).toEqual(["api.example.com", "cdn.example.com"]);
    const other = freshId("unfurl");
    await refusal(
      await install(other, asks(other), ["evil.example.com"]),
      400,
      /not one the plugin asks for/,
    );
    const loopback = freshId("unfurl");
    await refusal(
      await install(loopback, hookPlugin(`return { allow: true };`, ["127.0.0.1"])(loopback), [
        "127.0.0.1",
      ]),
      400,
      /loopback host, allowed only in local development/,
    );
  });

  const invalid: [string, (id: string) => string, RegExp][] = [
    ["code that does not parse", () => `export default {`, /code: the code does not parse/],
    ["an import", (id) => `import x from "x";\n${WELL_BEHAVED(id)}`, /may not import anything/],
    ["import()", (id) => `${WELL_BEHAVED(id)}\nimport("./other.js");`, /import\(\)/],
    [
      "the sandbox's names",
      (id) => `${FUEL_NAME}();\n${WELL_BEHAVED(id)}`,
      /reserved for the sandbox/,
    ],
    ["another id", () => WELL_BEHAVED("someone-else"), /the plugin's id is someone-else, not/],
    ["no default export", () => `export const plugin = {};`, /has no default export/],
    ["a default export that is not a plugin", () => `export default 42;`, /not a plugin/],
    ["a bad version", (id) => WELL_BEHAVED(id, "v1"), /version: a version is MAJOR\.MINOR\.PATCH/],
    [
      "a command without run",
      (id) =>
        `export default { id: "${id}", version: "1.0.0", commands: { x: { usage: "/x", description: "x" } } };`,
      /run function for command \/x/,
    ],
    [
      "top-level code that loops",
      (id) => `for (;;) {}\n${WELL_BEHAVED(id)}`,
      /did not load \(refused-by-limit\)/,
    ],
    [
      "a module that throws as it loads",
      (id) => `throw new Error("no");\n${WELL_BEHAVED(id)}`,
      /did not load \(threw\).*no/,
    ],
  ];
  it.each(invalid)("refuses %s", async (_name, source, message) => {
    const id = freshId("bad");
    await refusal(await install(id, source(id)), 400, message);
    await refusal(await call(`/api/admin/plugins/${id}`, { token: admin.token }), 404, /no plugin/);
  });

  it("refuses a version it has, and a plugin id the contract refuses", async () => {
    const id = freshId("twice");
    await installed(id, WELL_BEHAVED(id));
    await refusal(
      await install(id, WELL_BEHAVED(id)),
      409,
      /version 1\.0\.0 of .* is installed already/,
    );
    await refusal(await install("Bad_Id", WELL_BEHAVED("Bad_Id")), 400, /a plugin id is/);
  });

  it("refuses a module over 1 MiB, and a body over its limit before reading it", async () => {
    const id = freshId("big");
    const padding = `/*${"x".repeat(1024 * 1024)}*/`;
    await refusal(
      await install(id, `${padding}\n${WELL_BEHAVED(id)}`),
      413,
      /at most 1048576 bytes/,
    );
    const huge = `/*${"x".repeat(3 * 1024 * 1024)}*/`;
    await refusal(await install(id, huge), 413, /code is at most/);
  });

  it("is for admins only; the list of available plugins is for anyone signed in", async () => {
    const user = await guest("mallory");
    const id = freshId("nope");
    await refusal(await install(id, WELL_BEHAVED(id), undefined, user.token), 403, /admins only/);
    await refusal(await call("/api/admin/plugins", { token: user.token }), 403, /admins only/);
    await refusal(await call("/api/admin/plugins"), 401, /./);
    await refusal(await call("/api/plugins"), 401, /./);
  });
});

describe("trying a plugin", () => {
  async function tryHook(id: string, json: unknown) {
    const res = await call(`/api/admin/plugins/${id}/try`, {
      method: "POST",
      token: admin.token,
      json,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return PluginOutcome.parse(await res.json());
  }

  it("runs each hook for real in the room's sandbox", async () => {
    const id = freshId("tried");
    await installed(id, WELL_BEHAVED(id));
    expect(await tryHook(id, { hook: "beforeCommit", room: "lobby", text: "darn" })).toMatchObject({
      outcome: "ok",
      value: { rewrite: "****" },
    });
    expect(
      await tryHook(id, { hook: "afterEvent", room: "lobby", type: "message.posted" }),
    ).toMatchObject({ outcome: "ok", value: [{ react: 1, emoji: "👀" }] });
    expect(await tryHook(id, { hook: "command", room: "lobby", command: "count" })).toMatchObject({
      outcome: "ok",
      value: { text: "1 posts in lobby (1 keys), asked by root" },
    });
    expect(await tryHook(id, { hook: "job", room: "lobby", job: "tidy" })).toMatchObject({
      outcome: "ok",
    });
    expect(await tryHook(id, { hook: "job", room: "lobby", job: "nothing" })).toMatchObject({
      outcome: "threw",
      message: expect.stringMatching(/has no job nothing/),
    });
  });

  it("answers what became of a plugin that throws, loops or allocates without end", async () => {
    for (const [source, outcome] of [
      [THROWS, "threw"],
      [LOOPS_FOREVER, "refused-by-limit"],
      [ALLOCATES_FOREVER, "refused-by-limit"],
    ] as const) {
      const id = freshId("rogue");
      await installed(id, source(id));
      expect(await tryHook(id, { hook: "beforeCommit", room: "lobby", text: "x" })).toMatchObject({
        outcome,
      });
    }
  });

  it("refuses an unknown plugin or version", async () => {
    await refusal(
      await call(`/api/admin/plugins/${freshId()}/try`, {
        method: "POST",
        token: admin.token,
        json: { hook: "job", room: "lobby", job: "x" },
      }),
      404,
      /no plugin/,
    );
  });
});
