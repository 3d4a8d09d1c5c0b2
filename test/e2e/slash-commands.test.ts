/**
 * Slash commands end to end (docs/integrations.md, "Slash commands"), on the real worker: each
 * built-in through POST /slash becomes the room's own command, refused as the plain command is;
 * a custom /deploy calls a local server that checks every request as Slack documents a slash
 * command's (signature, exact form fields), and its answers come back in-channel (as the
 * command's bot, a service), ephemeral (to the caller alone), empty then through the
 * response_url (in-channel, and ephemeral over the caller's socket), or too late (3 s). And the
 * issue's scenario: a bot account with a service key answers `/deploy status`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, EdgechatApi, type IssuedKey } from "../../src/client/index.ts";
import { isServiceId, type CustomSlashCommand, type RoomEvent } from "../../src/protocol/index.ts";
import { startSlashServer, type SlashServer } from "../support/slash-server.ts";
import {
  connect,
  freshRoom,
  rawConnect,
  roomName,
  signIn,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let carol: Guest;
let admin: EdgechatApi;
let grace: EdgechatApi;
let commands: SlashServer;

beforeAll(async () => {
  commands = await startSlashServer();
});
afterAll(async () => commands.close());

useServer(
  async (started) => {
    server = started;
    [ada, bob, carol] = await signIn(server, "ada", "bob", "carol");
    const api = new EdgechatApi(server.url);
    admin = api.withToken((await api.register("root", "root's password 1")).token);
    grace = api.withToken((await api.register("grace", "grace's password 1")).token);
  },
  { vars: { WEBHOOK_ALLOW_LOOPBACK: "true", ADMIN_USERNAMES: "root" } },
);

const run = (who: { api: EdgechatApi }, room: string, text: string, clientId?: string) =>
  who.api.slash.run(room, text, clientId);

async function refusedWith(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

/** A room of ada's where bob is a member (he joined by posting). */
async function roomWithBob(): Promise<string> {
  const room = await freshRoom(ada);
  await bob.api.postMessage(room, { text: "hi", clientId: crypto.randomUUID() });
  return room;
}

const lastEvent = async (room: string): Promise<RoomEvent> => {
  const page = await ada.api.events(room, 0, 1000);
  return page.events.at(-1)!;
};

describe("built-ins through the route", () => {
  it("each built-in is the room's own command for its caller", async () => {
    const room = await roomWithBob();
    const me = await run(ada, room, "/me waves");
    expect(me.kind).toBe("command");
    expect(await lastEvent(room)).toMatchObject({
      type: "message.posted",
      data: { text: "* ada waves" },
      actor: { id: ada.user.id },
    });

    await run(ada, room, "/topic Release day");
    expect((await ada.api.getRoom(room)).topic).toBe("Release day");

    await run(ada, room, "/mute @bob 10m");
    const muted = await lastEvent(room);
    expect(muted).toMatchObject({ type: "member.muted", data: { userId: bob.user.id } });
    if (muted.type === "member.muted")
      expect(muted.data.until - muted.at).toBeGreaterThanOrEqual(600_000 - 1000);
    await run(ada, room, "/unmute bob");
    expect(await lastEvent(room)).toMatchObject({ type: "member.unmuted" });

    await run(ada, room, "/slow 30");
    expect((await ada.api.getRoom(room)).slowModeSeconds).toBe(30);
    await run(ada, room, "/slow off");
    expect((await ada.api.getRoom(room)).slowModeSeconds).toBe(0);

    await run(ada, room, "/invite grace moderator");
    expect((await ada.api.members(room)).members).toContainEqual(
      expect.objectContaining({ name: "grace", role: "moderator" }),
    );

    await run(ada, room, "/kick @bob");
    expect(await lastEvent(room)).toMatchObject({
      type: "member.kicked",
      data: { userId: bob.user.id },
    });
    await bob.api.postMessage(room, { text: "back", clientId: crypto.randomUUID() });
    await run(ada, room, "/ban bob");
    expect((await ada.api.bans(room)).bans.map((b) => b.id)).toEqual([bob.user.id]);
    await run(ada, room, "/unban @bob");
    expect((await ada.api.bans(room)).bans).toEqual([]);
  });

  it("/help, /remind and usage mistakes answer ephemerally, logging nothing", async () => {
    const room = await roomWithBob();
    const before = (await lastEvent(room)).seq;
    const help = await run(bob, room, "/help");
    expect(help).toEqual({ kind: "ephemeral", text: expect.stringContaining("/me <action>") });
    expect(help.kind === "ephemeral" && help.text).not.toContain("/kick");
    expect(await run(ada, room, "/remind tomorrow standup")).toEqual({
      kind: "ephemeral",
      text: expect.stringMatching(/^start with me .*Usage: \/remind me\|here/),
    });
    expect(await run(ada, room, "/mute bob forever")).toEqual({
      kind: "ephemeral",
      text: expect.stringMatching(/a mute lasts.*Usage: \/mute <user> <duration/),
    });
    expect(await run(ada, room, "/kick dave")).toEqual({
      kind: "ephemeral",
      text: expect.stringMatching(/nobody named dave is among the room's members/),
    });
    expect(await run(ada, room, "/invite nobody_here")).toEqual({
      kind: "ephemeral",
      text: expect.stringMatching(/no user named nobody_here.*Usage: \/invite/),
    });
    expect(await run(ada, room, "/nothing-like-it")).toEqual({
      kind: "ephemeral",
      text: "/nothing-like-it is no command here: /help lists them.",
    });
    expect((await lastEvent(room)).seq).toBe(before);
  });

  it("refuses as the plain commands do, before looking anyone up", async () => {
    const room = await roomWithBob();
    const plain = await refusedWith(
      bob.api.command(room, { type: "topic", clientId: crypto.randomUUID(), topic: "x" }),
    );
    const slashed = await refusedWith(run(bob, room, "/topic x"));
    expect([slashed.status, slashed.code, slashed.message]).toEqual([
      plain.status,
      plain.code,
      plain.message,
    ]);
    // A name that is no member gets the same refusal: nothing is learnt about who is here.
    for (const text of ["/kick ada", "/kick nobody_at_all", "/ban ada", "/mute ada 1m"])
      expect((await refusedWith(run(bob, room, text))).status).toBe(403);
    expect((await refusedWith(run(ada, room, "/kick @ada"))).message).toBe(
      "nobody may act on the room's owner",
    );
    // A room one may not see is not found, as everywhere.
    expect((await refusedWith(run(bob, "no-such-room-here", "/me hi"))).status).toBe(404);
    // The mute holds for /me as for a post.
    await run(ada, room, "/mute bob 1h");
    expect((await refusedWith(run(bob, room, "/me sneaks"))).message).toMatch(/you are muted/);
  });

  it("is idempotent on clientId, like the plain commands", async () => {
    const room = await freshRoom(ada);
    const first = await run(ada, room, "/me repeats", "same-id");
    const again = await run(ada, room, "/me repeats", "same-id");
    expect(again).toEqual(first);
    const page = await ada.api.messages(room);
    expect(page.messages.filter((m) => m.text === "* ada repeats")).toHaveLength(1);
  });

  it("every slash route is in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(methods("/api/rooms/{room}/slash")).toEqual(["post"]);
    expect(methods("/api/rooms/{room}/slash-commands")).toEqual(["get"]);
    expect(methods("/api/rooms/{room}/slash-commands/custom")).toEqual(["get", "post"]);
    expect(methods("/api/rooms/{room}/slash-commands/custom/{name}")).toEqual(["delete", "patch"]);
    expect(methods("/api/slash/responses/{token}")).toEqual(["post"]);
  });

  it("lists what each caller may use, for completion", async () => {
    const room = await roomWithBob();
    const names = async (who: { api: EdgechatApi }) =>
      (await who.api.slash.commands(room)).commands.map((c) => c.name);
    expect(await names(bob)).toEqual(["me", "remind", "help"]);
    expect(await names(ada)).toEqual([
      "me",
      "topic",
      "invite",
      "kick",
      "ban",
      "unban",
      "mute",
      "unmute",
      "slow",
      "remind",
      "help",
    ]);
  });
});

// ---- custom commands -------------------------------------------------------------------------

type Issued = { command: CustomSlashCommand; signingSecret: string; verificationToken: string };

/** ada's room with a /deploy command pointed at the test's server. */
async function roomWithDeploy(
  options: { botName?: string } = {},
): Promise<{ room: string; path: string; issued: Issued }> {
  const room = await roomWithBob();
  const path = `/deploy-${room}`;
  const issued = await ada.api.slash.create(room, {
    name: "deploy",
    url: commands.url(path),
    description: "Deploys and tells how it went",
    usageHint: "status | <branch>",
    ...options,
  });
  commands.expect(path, issued);
  return { room, path, issued };
}

describe("custom commands", () => {
  it("the owner manages them; secrets are shown once; SSRF, built-in names and the 26th refused", async () => {
    const { room, issued } = await roomWithDeploy({ botName: "deploybot" });
    expect(issued.signingSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.verificationToken).toMatch(/^[0-9a-f]{24}$/);
    expect(issued.command.bot).toEqual({
      id: expect.stringMatching(/^svc_[0-9a-f]{32}$/),
      name: "deploybot",
    });
    const listed = await ada.api.slash.custom(room);
    expect(JSON.stringify(listed)).not.toContain(issued.signingSecret);
    expect(JSON.stringify(listed)).not.toContain(issued.verificationToken);

    const entries = (await bob.api.slash.commands(room)).commands;
    expect(entries.at(-1)).toEqual({
      name: "deploy",
      usage: "/deploy status | <branch>",
      description: "Deploys and tells how it went",
      kind: "custom",
    });

    expect((await refusedWith(bob.api.slash.custom(room))).status).toBe(403);
    expect(
      (await refusedWith(bob.api.slash.create(room, { name: "mine", url: commands.url("/x") })))
        .status,
    ).toBe(403);
    for (const url of [
      "http://169.254.169.254/latest/meta-data",
      "https://10.0.0.8/hook",
      "https://[::ffff:192.168.1.1]/",
      "https://intranet/cmd",
      "ftp://example.com/x",
    ]) {
      const refused = await refusedWith(ada.api.slash.create(room, { name: "ssrf", url }));
      expect([refused.status, refused.message]).toEqual([400, expect.stringMatching(/^url: /)]);
    }
    const builtin = await refusedWith(
      ada.api.slash.create(room, { name: "topic", url: commands.url("/t") }),
    );
    expect(builtin.message).toMatch(/built-in/);
    expect(
      (await refusedWith(ada.api.slash.create(room, { name: "deploy", url: commands.url("/d") })))
        .status,
    ).toBe(409);
    for (let i = 1; i < 25; i++)
      await ada.api.slash.create(room, { name: `c${i}`, url: commands.url(`/c${i}`) });
    expect(
      (await refusedWith(ada.api.slash.create(room, { name: "c25", url: commands.url("/c") })))
        .code,
    ).toBe("conflict");

    const updated = await ada.api.slash.update(room, "deploy", {
      usageHint: "status",
      botName: null,
    });
    expect(updated.bot).toEqual({ id: issued.command.bot.id, name: "deploy" });
    expect(
      (
        await refusedWith(
          ada.api.slash.update(room, "deploy", { url: "https://127.0.0.1.nip.io.local/" }),
        )
      ).status,
    ).toBe(400);
    await ada.api.slash.remove(room, "c1");
    expect((await refusedWith(ada.api.slash.remove(room, "c1"))).status).toBe(404);
  });

  it("calls its URL as Slack does and posts an in_channel answer as its bot, a service", async () => {
    const { room, path, issued } = await roomWithDeploy();
    commands.on(path, ({ fields }) => ({
      body: {
        response_type: "in_channel",
        text: `Deploying *${fields.text}* for <@${fields.user_id}>`,
      },
    }));
    const watcher = await rawConnect(server.url, room, carol.token);
    const result = await run(bob, room, "/deploy main now");
    expect(result).toEqual({ kind: "posted", seq: expect.any(Number) });
    // A mute holds for custom commands too: nobody speaks through the bot while muted.
    await run(ada, room, "/mute bob 1h");
    expect((await refusedWith(run(bob, room, "/deploy again"))).message).toMatch(/you are muted/);
    expect(commands.at(path)).toHaveLength(1);

    const [request] = commands.at(path);
    expect(request!.fields).toEqual({
      token: issued.verificationToken,
      team_id: "edgechat",
      team_domain: "127.0.0.1",
      channel_id: room,
      channel_name: room,
      user_id: bob.user.id,
      user_name: "bob",
      command: "/deploy",
      text: "main now",
      api_app_id: issued.command.bot.id,
      is_enterprise_install: "false",
      response_url: expect.stringMatching(
        new RegExp(`^${server.url}/api/slash/responses/${room}\\.[0-9a-f]{40}$`),
      ),
      trigger_id: expect.stringMatching(/^\d+\.[0-9a-f]{20}$/),
    });
    expect(request!.headers["user-agent"]).toMatch(/edgechat/);

    const seq = result.kind === "posted" ? result.seq : 0;
    const event = await waitUntil(() => watcher.of("event").find((f) => f.event.seq === seq));
    expect(event.event).toMatchObject({
      type: "message.posted",
      actor: issued.command.bot,
      data: { text: `Deploying *main now* for @${bob.user.id}` },
    });
    expect(isServiceId(event.event.actor.id)).toBe(true);
    expect(commands.violations).toEqual([]);
  });

  it("an ephemeral answer goes back to the caller alone", async () => {
    const { room, path } = await roomWithDeploy();
    commands.on(path, () => ({ body: { text: "only you see this" } }));
    const before = (await lastEvent(room)).seq;
    const watcher = await rawConnect(server.url, room, ada.token);
    expect(await run(bob, room, "/deploy secret")).toEqual({
      kind: "ephemeral",
      text: "only you see this",
    });
    commands.on(path, () => ({ body: "plain text, ephemeral too" }));
    expect(await run(bob, room, "/deploy plain")).toEqual({
      kind: "ephemeral",
      text: "plain text, ephemeral too",
    });
    await watcher.roundTrip();
    expect(watcher.of("ephemeral")).toEqual([]);
    expect((await lastEvent(room)).seq).toBe(before);
  });

  it("an empty 200, then follow-ups through the response_url: in_channel, and ephemeral over the caller's sockets", async () => {
    const { room, path, issued } = await roomWithDeploy({ botName: "deploybot" });
    commands.on(path, () => ({}));
    const caller = await rawConnect(server.url, room, bob.token);
    const other = await rawConnect(server.url, room, ada.token);
    expect(await run(bob, room, "/deploy later")).toEqual({ kind: "accepted" });
    const responseUrl = commands.at(path)[0]!.fields.response_url;

    const respond = (body: unknown, contentType = "application/json") =>
      fetch(responseUrl, {
        method: "POST",
        headers: { "content-type": contentType },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    const ephemeral = await respond({ text: "Step 1 of 2 done", replace_original: true });
    expect([ephemeral.status, await ephemeral.json()]).toEqual([200, { ok: true }]);
    const frame = await caller.nth("ephemeral", 1);
    expect(frame).toEqual({
      type: "ephemeral",
      text: "Step 1 of 2 done",
      from: issued.command.bot,
      at: expect.any(Number),
    });

    const payload = `payload=${encodeURIComponent(JSON.stringify({ response_type: "in_channel", text: "Deployed main" }))}`;
    const posted = await respond(payload, "application/x-www-form-urlencoded");
    expect(posted.status).toBe(200);
    const event = await waitUntil(() =>
      other
        .of("event")
        .find(
          (f) => f.event.type === "message.posted" && f.event.actor.id === issued.command.bot.id,
        ),
    );
    expect(event.event).toMatchObject({
      actor: issued.command.bot,
      data: { text: "Deployed main" },
    });

    // Bad bodies do not use it up; then three more uses, and the sixth is refused.
    expect((await respond("{not json")).status).toBe(400);
    expect((await respond({ text: 42 })).status).toBe(400);
    expect((await respond("payload=", "application/x-www-form-urlencoded")).status).toBe(400);
    for (const n of [3, 4, 5]) expect((await respond({ text: `use ${n}` })).status).toBe(200);
    const sixth = await respond({ text: "one too many" });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toMatchObject({ error: { code: "not_found" } });

    await caller.nth("ephemeral", 4);
    await other.roundTrip();
    expect(other.of("ephemeral")).toEqual([]);
    expect(commands.violations).toEqual([]);
  });

  it("in a sharded room, an ephemeral follow-up reaches the caller's sockets on their shard, through the SDK", async () => {
    const room = roomName("sharded");
    await ada.api.createRoom({ name: room, shards: 3 });
    const path = `/deploy-${room}`;
    const issued = await ada.api.slash.create(room, { name: "deploy", url: commands.url(path) });
    commands.expect(path, issued);
    commands.on(path, () => ({}));
    const caller = await connect(server.url, room, bob);
    const seen: { text: string; from: string }[] = [];
    caller.conn.on("ephemeral", ({ text, from }) => seen.push({ text, from: from.name }));
    const other = await rawConnect(server.url, room, carol.token);
    expect(await run(bob, room, "/deploy later")).toEqual({ kind: "accepted" });
    const responseUrl = commands.at(path)[0]!.fields.response_url;
    const answered = await fetch(responseUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "only for bob, across shards" }),
    });
    expect(answered.status).toBe(200);
    await waitUntil(() => seen.length === 1, "the ephemeral frame on bob's shard");
    expect(seen).toEqual([{ text: "only for bob, across shards", from: "deploy" }]);
    await other.roundTrip();
    expect(other.of("ephemeral")).toEqual([]);
  });

  it("a response_url posts to its own room only", async () => {
    const first = await roomWithDeploy();
    const second = await roomWithDeploy();
    commands.on(first.path, () => ({}));
    await run(bob, first.room, "/deploy x");
    const url = commands.at(first.path)[0]!.fields.response_url;
    // The same secret part under another room's name finds nothing there.
    const elsewhere = url.replace(`/${first.room}.`, `/${second.room}.`);
    const post = (to: string) =>
      fetch(to, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ response_type: "in_channel", text: "where am I" }),
      });
    expect((await post(elsewhere)).status).toBe(404);
    expect((await post(url.replace(/.$/, (c) => (c === "0" ? "1" : "0")))).status).toBe(404);
    expect((await post(`${server.url}/api/slash/responses/not-a-token`)).status).toBe(404);
    const before = (await lastEvent(second.room)).seq;
    expect((await post(url)).status).toBe(200);
    expect((await lastEvent(second.room)).seq).toBe(before);
    expect(await lastEvent(first.room)).toMatchObject({ data: { text: "where am I" } });
  });

  it("a command that does not answer within 3 s gets the caller an ephemeral timeout", async () => {
    const { room, path } = await roomWithDeploy();
    commands.on(path, () => ({
      delayMs: 4_000,
      body: { response_type: "in_channel", text: "late" },
    }));
    const started = Date.now();
    expect(await run(bob, room, "/deploy slowly")).toEqual({
      kind: "ephemeral",
      text: "/deploy did not answer in time (3 s).",
    });
    expect(Date.now() - started).toBeLessThan(3_900);
    commands.on(path, () => ({ status: 500, body: "boom" }));
    expect(await run(bob, room, "/deploy broken")).toEqual({
      kind: "ephemeral",
      text: "/deploy failed: its server answered HTTP 500.",
    });
  });

  it("runs once per clientId: a retry gets the first answer without calling again", async () => {
    const { room, path } = await roomWithDeploy();
    commands.on(path, () => ({ body: { response_type: "in_channel", text: "once" } }));
    const first = await run(bob, room, "/deploy once", "retry-1");
    const again = await run(bob, room, "/deploy once", "retry-1");
    expect(again).toEqual(first);
    expect(commands.at(path)).toHaveLength(1);
    const page = await ada.api.messages(room);
    expect(page.messages.filter((m) => m.text === "once")).toHaveLength(1);
  });

  it("a bot account with a service key answers /deploy status", async () => {
    const { room, path } = await roomWithDeploy();
    const issued: IssuedKey = await admin.admin.createService({
      name: "deploy-service",
      scope: { rooms: [room], actions: ["post"], role: "member" },
    });
    const bot = new EdgechatApi(server.url, issued.key.secret);
    // The command's server acknowledges at once (Slack's 3 s) and answers through the REST API
    // with its own service key, as a bot account does.
    // Its answers are awaited below: a post still under way when the test ends must fail it,
    // not surface later as an unhandled rejection.
    const answers: Promise<unknown>[] = [];
    commands.on(path, ({ fields }) => {
      if (fields.text === "status")
        answers.push(
          new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
            bot.postMessage(fields.channel_name, {
              text: `${fields.user_name}: production is on v42, healthy`,
              clientId: `status-${fields.trigger_id}`,
            }),
          ),
        );
      return {};
    });
    const watcher = await rawConnect(server.url, room, bob.token);
    expect(await run(bob, room, "/deploy status")).toEqual({ kind: "accepted" });
    const event = await waitUntil(() =>
      watcher
        .of("event")
        .find((f) => f.event.type === "message.posted" && f.event.actor.id === issued.service.id),
    );
    expect(event.event).toMatchObject({
      actor: { id: issued.service.id, name: "deploy-service" },
      data: { text: "bob: production is on v42, healthy" },
    });
    expect(await Promise.all(answers)).toEqual([{ seq: event.event.seq }]);
    expect(commands.violations).toEqual([]);
  });
});
