import { describe, expect, it } from "vitest";
import type { Command, Role } from "../../src/protocol/index.ts";
import type { Actor } from "../../src/identity/actor.ts";
import {
  decide,
  decideCreate,
  decideJoin,
  denyAccess,
  type RoomView,
} from "../../src/room/decide.ts";
import { lostAccess } from "../../src/room/effects.ts";
import { postableAttachment, type UploadRecord } from "../../src/media/upload-rules.ts";

const NOW = 1_800_000_000_000;
const ada: Actor = { id: "u_ada", name: "ada", kind: "user" }; // the owner
const mo: Actor = { id: "u_mo", name: "mo", kind: "user" }; // a moderator
const bob: Actor = { id: "g_bob", name: "bob", kind: "guest" }; // a member
const eve: Actor = { id: "u_eve", name: "eve", kind: "user" }; // not a member
const root: Actor = { id: "u_root", name: "root", kind: "user", admin: true };

/** A room held in memory: the rules only see the RoomView interface. */
function view(
  state: {
    name?: string;
    visibility?: "public" | "private";
    roles?: Record<string, Role>;
    banned?: string[];
    muted?: Record<string, number>;
    lastPost?: Record<string, number>;
    slowMode?: number;
    messages?: Record<number, { authorId: string; deleted?: boolean; redacted?: boolean }>;
    reactions?: string[];
    /** When earlier invitations were made (ms). */
    invites?: number[];
    /** Upload sessions by id (docs/attachments.md). */
    uploads?: Record<string, UploadRecord>;
  } = {},
): RoomView {
  const roles = state.roles ?? { [ada.id]: "owner", [mo.id]: "moderator", [bob.id]: "member" };
  return {
    name: state.name ?? "lobby",
    visibility: state.visibility ?? "public",
    slowModeSeconds: state.slowMode ?? 0,
    role: (id) => roles[id],
    isBanned: (id) => (state.banned ?? []).includes(id),
    mutedUntil: (id) => state.muted?.[id] ?? 0,
    lastPostAt: (id) => state.lastPost?.[id] ?? 0,
    message: (id) => {
      const m = state.messages?.[id];
      return (
        m && { authorId: m.authorId, deleted: m.deleted ?? false, redacted: m.redacted ?? false }
      );
    },
    textBefore: () => undefined,
    lastAction: () => undefined,
    lastUndone: () => undefined,
    hasReaction: (messageId, emoji, userId) =>
      (state.reactions ?? []).includes(`${messageId}:${emoji}:${userId}`),
    ownerId: Object.keys(roles).find((id) => roles[id] === "owner") ?? "",
    invitesSince: (since) => {
      const recent = (state.invites ?? []).filter((at) => at > since);
      return { count: recent.length, oldestAt: recent.length ? Math.min(...recent) : since };
    },
    inviteLimit: { count: 3, windowMs: 60 * 60_000 },
    // No rules nor plugins: their rules are tested in rules-log.test.ts.
    rule: () => undefined,
    ruleCount: () => 0,
    ruleBefore: () => undefined,
    pluginEnabled: () => false,
    postableUpload: (userId, id) => postableAttachment(state.uploads?.[id], userId),
  };
}

const post = (text: string, extra: Partial<Extract<Command, { type: "post" }>> = {}): Command => ({
  type: "post",
  clientId: "c1",
  text,
  ...extra,
});
const run = (command: Command, actor: Actor, room = view()) => decide(command, actor, room, NOW);
const refusal = (code: string) => ({ ok: false, error: { code } });

describe("decideCreate", () => {
  it("creates the room and makes its creator a member", () => {
    expect(
      decideCreate({ name: "lobby", topic: "", visibility: "public", shards: 0 }, false, bob),
    ).toEqual({
      ok: true,
      events: [
        {
          type: "room.created",
          data: { name: "lobby", topic: "", visibility: "public", shards: 0 },
        },
        { type: "member.joined", data: {} },
      ],
    });
  });

  it("refuses a room that exists with conflict, and a private room for a guest", () => {
    expect(
      decideCreate({ name: "x", topic: "", visibility: "public", shards: 0 }, true, ada),
    ).toMatchObject(refusal("conflict"));
    expect(
      decideCreate({ name: "x", topic: "", visibility: "private", shards: 0 }, false, bob),
    ).toMatchObject(refusal("forbidden"));
    expect(
      decideCreate({ name: "x", topic: "", visibility: "private", shards: 0 }, false, ada).ok,
    ).toBe(true);
  });
});

describe("access", () => {
  it("hides a private room from everyone but its members and admins", () => {
    const room = view({ visibility: "private" });
    expect(denyAccess(room, eve)).toMatchObject({ code: "not_found" });
    expect(denyAccess(room, bob)).toBeUndefined();
    expect(denyAccess(room, root)).toBeUndefined();
    expect(decideJoin(room, eve)).toMatchObject(refusal("not_found"));
  });

  it("keeps banned users out: not found in a private room, forbidden in a public one", () => {
    expect(denyAccess(view({ visibility: "private", banned: [eve.id] }), eve)).toMatchObject({
      code: "not_found",
    });
    expect(denyAccess(view({ banned: [eve.id] }), eve)).toMatchObject({ code: "forbidden" });
  });

  it("joins a public room once: a member joining again logs nothing", () => {
    expect(decideJoin(view(), eve)).toEqual({
      ok: true,
      events: [{ type: "member.joined", data: {} }],
    });
    expect(decideJoin(view(), bob)).toEqual({ ok: true, events: [] });
  });

  it("makes a non-member's first message join them first", () => {
    expect(run(post("hi"), eve)).toEqual({
      ok: true,
      events: [
        { type: "member.joined", data: {} },
        { type: "message.posted", data: { text: "hi" } },
      ],
    });
  });

  it("lets members leave, but not the owner, and leaving twice is a no-op", () => {
    const leave: Command = { type: "leave", clientId: "c" };
    expect(run(leave, bob)).toEqual({ ok: true, events: [{ type: "member.left", data: {} }] });
    expect(run(leave, eve)).toEqual({ ok: true, events: [] });
    expect(run(leave, ada)).toMatchObject(refusal("forbidden"));
  });
});

describe("messages", () => {
  const room = view({
    messages: { 3: { authorId: ada.id }, 4: { authorId: bob.id, deleted: true } },
  });

  it("posts, with a reply to a live message only", () => {
    expect(run(post("re", { replyTo: 3 }), bob, room)).toEqual({
      ok: true,
      events: [{ type: "message.posted", data: { text: "re", replyTo: 3 } }],
    });
    expect(run(post("re", { replyTo: 4 }), bob, room)).toMatchObject(refusal("not_found"));
    expect(run(post("re", { replyTo: 99 }), bob, room)).toMatchObject(refusal("not_found"));
  });

  it("lets only the author edit, and the author or a moderator delete", () => {
    const edit: Command = { type: "edit", clientId: "e", messageId: 3, text: "fixed" };
    const del: Command = { type: "delete", clientId: "d", messageId: 3 };
    expect(run(edit, ada, room)).toEqual({
      ok: true,
      events: [{ type: "message.edited", data: { messageId: 3, text: "fixed" } }],
    });
    expect(run(edit, mo, room)).toMatchObject(refusal("forbidden"));
    expect(run(del, bob, room)).toMatchObject(refusal("forbidden"));
    for (const who of [ada, mo, root]) {
      expect(run(del, who, room)).toEqual({
        ok: true,
        events: [{ type: "message.deleted", data: { messageId: 3 } }],
      });
    }
  });

  it("treats a deleted or unknown message as not found", () => {
    expect(run({ type: "edit", clientId: "e", messageId: 4, text: "x" }, bob, room)).toMatchObject(
      refusal("not_found"),
    );
    expect(run({ type: "delete", clientId: "d", messageId: 99 }, ada, room)).toMatchObject(
      refusal("not_found"),
    );
  });

  it("silences a muted member until the mute ends, except to delete their own", () => {
    const muted = view({
      muted: { [bob.id]: NOW + 60_000 },
      messages: { 5: { authorId: bob.id } },
    });
    expect(run(post("hi"), bob, muted)).toMatchObject(refusal("forbidden"));
    expect(
      run({ type: "react", clientId: "r", messageId: 5, emoji: "👍", on: true }, bob, muted),
    ).toMatchObject(refusal("forbidden"));
    expect(run({ type: "delete", clientId: "d", messageId: 5 }, bob, muted).ok).toBe(true);
    expect(run(post("hi"), bob, view({ muted: { [bob.id]: NOW - 1 } })).ok).toBe(true);
  });

  it("holds members to slow mode, but not moderators", () => {
    const slow = view({ slowMode: 30, lastPost: { [bob.id]: NOW - 10_000, [mo.id]: NOW - 1 } });
    expect(run(post("again"), bob, slow)).toMatchObject({
      ok: false,
      error: { code: "rate_limited", message: expect.stringContaining("20 s") },
    });
    expect(run(post("again"), mo, slow).ok).toBe(true);
    expect(
      run(post("again"), bob, view({ slowMode: 30, lastPost: { [bob.id]: NOW - 30_000 } })).ok,
    ).toBe(true);
  });
});

describe("reactions", () => {
  const room = view({ messages: { 3: { authorId: ada.id } }, reactions: [`3:👍:${bob.id}`] });
  const react = (emoji: string, on: boolean): Command => ({
    type: "react",
    clientId: "r",
    messageId: 3,
    emoji,
    on,
  });

  it("adds and removes", () => {
    expect(run(react("🎉", true), bob, room)).toEqual({
      ok: true,
      events: [{ type: "reaction.added", data: { messageId: 3, emoji: "🎉" } }],
    });
    expect(run(react("👍", false), bob, room)).toEqual({
      ok: true,
      events: [{ type: "reaction.removed", data: { messageId: 3, emoji: "👍" } }],
    });
  });

  it("is a no-op when the reaction is already as asked", () => {
    expect(run(react("👍", true), bob, room)).toEqual({ ok: true, events: [] });
    expect(run(react("🎉", false), bob, room)).toEqual({ ok: true, events: [] });
  });

  it("refuses a reaction on a missing message", () => {
    expect(
      run({ type: "react", clientId: "r", messageId: 7, emoji: "👍", on: true }, bob, room),
    ).toMatchObject(refusal("not_found"));
  });
});

describe("roles and moderation", () => {
  const aim = (
    type: "kick" | "ban" | "unban" | "unmute" | "transfer",
    userId: string,
  ): Command => ({ type, clientId: "m", userId });

  it("lets owners and moderators change the topic and slow mode, not members", () => {
    const topic: Command = { type: "topic", clientId: "t", topic: "news" };
    expect(run(topic, mo)).toEqual({
      ok: true,
      events: [{ type: "room.topic_changed", data: { topic: "news" } }],
    });
    expect(run(topic, bob)).toMatchObject(refusal("forbidden"));
    const slow: Command = { type: "slow_mode", clientId: "s", seconds: 10 };
    expect(run(slow, ada)).toEqual({
      ok: true,
      events: [{ type: "room.slow_mode_changed", data: { seconds: 10 } }],
    });
    expect(run(slow, bob)).toMatchObject(refusal("forbidden"));
    expect(run({ type: "slow_mode", clientId: "s", seconds: 0 }, ada)).toEqual({
      ok: true,
      events: [],
    });
  });

  it("lets only the owner (or an admin) name moderators", () => {
    const promote: Command = { type: "role", clientId: "r", userId: bob.id, role: "moderator" };
    expect(run(promote, ada)).toEqual({
      ok: true,
      events: [{ type: "member.role_changed", data: { userId: bob.id, role: "moderator" } }],
    });
    expect(run(promote, root).ok).toBe(true);
    expect(run(promote, mo)).toMatchObject(refusal("forbidden"));
    expect(
      run({ type: "role", clientId: "r", userId: ada.id, role: "member" }, root),
    ).toMatchObject(refusal("forbidden"));
    expect(run({ type: "role", clientId: "r", userId: eve.id, role: "member" }, ada)).toMatchObject(
      refusal("not_found"),
    );
  });

  it("lets moderators act on members only, and owners on moderators too", () => {
    expect(run(aim("kick", bob.id), mo)).toEqual({
      ok: true,
      events: [{ type: "member.kicked", data: { userId: bob.id } }],
    });
    expect(run(aim("kick", mo.id), mo)).toMatchObject(refusal("forbidden"));
    expect(run(aim("kick", ada.id), mo)).toMatchObject(refusal("forbidden"));
    expect(run(aim("ban", mo.id), ada)).toEqual({
      ok: true,
      events: [{ type: "member.banned", data: { userId: mo.id } }],
    });
    expect(run(aim("ban", ada.id), root).ok).toBe(false); // admins outrank owners but bans need a transfer first
    expect(run(aim("kick", bob.id), bob)).toMatchObject(refusal("forbidden"));
    expect(run(aim("kick", eve.id), ada)).toMatchObject(refusal("not_found"));
  });

  it("bans non-members too, and unbans; repeats are no-ops", () => {
    expect(run(aim("ban", eve.id), mo)).toEqual({
      ok: true,
      events: [{ type: "member.banned", data: { userId: eve.id } }],
    });
    const banned = view({ banned: [eve.id] });
    expect(run(aim("ban", eve.id), mo, banned)).toEqual({ ok: true, events: [] });
    expect(run(aim("unban", eve.id), mo, banned)).toEqual({
      ok: true,
      events: [{ type: "member.unbanned", data: { userId: eve.id } }],
    });
    expect(run(aim("unban", eve.id), mo)).toEqual({ ok: true, events: [] });
  });

  it("mutes for a while and unmutes", () => {
    expect(run({ type: "mute", clientId: "m", userId: bob.id, seconds: 60 }, mo)).toEqual({
      ok: true,
      events: [{ type: "member.muted", data: { userId: bob.id, until: NOW + 60_000 } }],
    });
    expect(run(aim("unmute", bob.id), mo, view({ muted: { [bob.id]: NOW + 1 } }))).toEqual({
      ok: true,
      events: [{ type: "member.unmuted", data: { userId: bob.id } }],
    });
    expect(run(aim("unmute", bob.id), mo)).toEqual({ ok: true, events: [] });
  });

  it("invites by the worker's lookup: moderators invite members, only owners invite moderators", () => {
    const invite = (role: "member" | "moderator"): Command => ({
      type: "invite",
      clientId: "i",
      user: { id: eve.id, name: "eve" },
      role,
    });
    expect(run(invite("member"), mo)).toEqual({
      ok: true,
      events: [
        { type: "member.invited", data: { user: { id: eve.id, name: "eve" }, role: "member" } },
      ],
    });
    expect(run(invite("moderator"), mo)).toMatchObject(refusal("forbidden"));
    expect(run(invite("moderator"), ada).ok).toBe(true);
    expect(run(invite("member"), bob)).toMatchObject(refusal("forbidden"));
    expect(run(invite("member"), ada, view({ banned: [eve.id] }))).toMatchObject(
      refusal("conflict"),
    );
  });

  it("refuses an invitation past the room's limit per window, saying when the oldest leaves it", () => {
    const invite: Command = {
      type: "invite",
      clientId: "i",
      user: { id: eve.id, name: "eve" },
      role: "member",
    };
    const hour = 60 * 60_000;
    const full = view({ invites: [NOW - hour + 10_000, NOW - 5_000, NOW - 1_000] });
    expect(run(invite, ada, full)).toEqual({
      ok: false,
      error: {
        code: "rate_limited",
        message: expect.stringMatching(/3 invitations/),
        retryAfter: 10,
      },
    });
    // One of them has left the window: room for one more.
    const later = view({ invites: [NOW - hour - 1, NOW - 5_000, NOW - 1_000] });
    expect(run(invite, ada, later)).toMatchObject({ ok: true });
    // Inviting a member again invites nobody, and is no invitation to count.
    expect(run({ ...invite, user: { id: bob.id, name: "bob" } }, ada, full)).toEqual({
      ok: true,
      events: [],
    });
  });

  it("transfers ownership to a member, by the owner only", () => {
    expect(run(aim("transfer", mo.id), ada)).toEqual({
      ok: true,
      events: [{ type: "room.ownership_transferred", data: { userId: mo.id, from: ada.id } }],
    });
    expect(run(aim("transfer", mo.id), mo)).toMatchObject(refusal("forbidden"));
    expect(run(aim("transfer", eve.id), ada)).toMatchObject(refusal("not_found"));
  });
});

describe("lostAccess", () => {
  const event = (type: string, data: object, actor = ada) =>
    ({ seq: 1, id: "e", type, at: NOW, actor: { id: actor.id, name: actor.name }, data }) as never;

  it("names the kicked and the banned, and in a private room whoever left", () => {
    const events = [
      event("member.kicked", { userId: bob.id }),
      event("member.banned", { userId: eve.id }),
      event("member.left", {}, mo),
      event("message.posted", { text: "hi" }),
    ];
    expect(lostAccess(events, "public")).toEqual([
      { userId: bob.id, banned: false },
      { userId: eve.id, banned: true },
    ]);
    expect(lostAccess(events, "private")).toContainEqual({ userId: mo.id, banned: false });
  });
});

describe("service accounts (docs/service-keys.md)", () => {
  const bot = (scope: NonNullable<Actor["scope"]>): Actor => ({
    id: "svc_0123456789abcdef0123456789abcdef",
    name: "deploybot",
    kind: "service",
    sid: "0123456789abcdef",
    scope,
  });
  const poster = bot({ rooms: ["lobby"], actions: ["post", "react"], role: "member" });
  const mod = bot({
    rooms: "*",
    actions: ["post", "delete_any", "delete", "kick"],
    role: "moderator",
  });
  const hidden = view({ name: "secret", visibility: "private" });

  it("sees only the rooms of its scope, as if the others did not exist, public or private", () => {
    expect(denyAccess(view({ name: "other" }), poster)).toEqual({
      code: "not_found",
      message: "no such room",
    });
    // Word for word what a stranger gets for a private room.
    expect(denyAccess(view({ name: "other" }), poster)).toEqual(denyAccess(hidden, eve));
    expect(denyAccess(view(), poster)).toBeUndefined();
    // In scope, a private room is open to it without an invitation.
    expect(denyAccess(hidden, mod)).toBeUndefined();
    expect(decideJoin(view({ name: "other" }), poster)).toMatchObject(refusal("not_found"));
  });

  it("a service without a scope sees nothing", () => {
    const bare: Actor = { id: "svc_x", name: "bare", kind: "service" };
    expect(denyAccess(view(), bare)).toMatchObject({ code: "not_found" });
    expect(run(post("hi"), bare)).toMatchObject(refusal("forbidden"));
  });

  it("takes only the actions of its scope, naming the one missing", () => {
    expect(run(post("hi"), poster)).toEqual({
      ok: true,
      events: [{ type: "message.posted", data: { text: "hi" } }],
    });
    expect(run({ type: "leave", clientId: "l" }, poster)).toEqual({
      ok: false,
      error: { code: "forbidden", message: 'this service\'s scope does not include "leave"' },
    });
    expect(run({ type: "topic", clientId: "t", topic: "x" }, mod)).toMatchObject({
      ok: false,
      error: { code: "forbidden", message: expect.stringContaining('"topic"') },
    });
  });

  it("acts with its scope's role and never joins the room", () => {
    const withMessage = view({ messages: { 7: { authorId: bob.id } } });
    // Deleting someone else's message takes delete_any, in scope, and the moderator's rank.
    expect(run({ type: "delete", clientId: "d", messageId: 7 }, mod, withMessage)).toEqual({
      ok: true,
      events: [{ type: "message.deleted", data: { messageId: 7 } }],
    });
    const noPower = bot({ rooms: "*", actions: ["delete"], role: "moderator" });
    expect(
      run({ type: "delete", clientId: "d", messageId: 7 }, noPower, withMessage),
    ).toMatchObject({ ok: false, error: { message: expect.stringContaining('"delete_any"') } });
    expect(run({ type: "kick", clientId: "k", userId: bob.id }, mod)).toMatchObject({ ok: true });
    // Never above a moderator: the owner and moderators are out of its reach.
    expect(run({ type: "kick", clientId: "k", userId: mo.id }, mod)).toMatchObject(
      refusal("forbidden"),
    );
    expect(decideJoin(view(), poster)).toEqual({ ok: true, events: [] });
  });

  it("skips slow mode only as a moderator whose scope gives it skip_slow_mode", () => {
    const slow = (who: Actor) => view({ slowMode: 30, lastPost: { [who.id]: NOW - 1000 } });
    expect(run(post("again"), poster, slow(poster))).toMatchObject(refusal("rate_limited"));
    expect(run(post("again"), mod, slow(mod))).toMatchObject(refusal("rate_limited"));
    const skipper = bot({ rooms: "*", actions: ["post", "skip_slow_mode"], role: "moderator" });
    expect(run(post("again"), skipper, slow(skipper))).toMatchObject({ ok: true });
  });

  it("cannot create rooms, and is kept out by a ban like anyone", () => {
    expect(
      decideCreate({ name: "x", topic: "", visibility: "public", shards: 0 }, false, poster),
    ).toMatchObject(refusal("forbidden"));
    expect(denyAccess(view({ banned: [poster.id] }), poster)).toMatchObject({ code: "forbidden" });
    expect(
      denyAccess(view({ name: "lobby", visibility: "private", banned: [mod.id] }), mod),
    ).toMatchObject({ code: "not_found" });
  });
});

describe("a post with attachments (docs/attachments.md)", () => {
  const ID = {
    a: "AAAAAAAAAAAAAAAAAAAAAA",
    b: "BBBBBBBBBBBBBBBBBBBBBB",
    c: "CCCCCCCCCCCCCCCCCCCCCC",
  };
  const upload = (id: string, extra: Partial<UploadRecord> = {}): UploadRecord => ({
    id,
    uploaderId: bob.id,
    kind: "voice",
    name: "memo.webm",
    size: 9000,
    durationMs: 3600,
    waveform: [0, 128, 255],
    type: "audio/webm",
    state: "complete",
    received: [1],
    expiresAt: NOW + 1000,
    ...extra,
  });
  const room = view({
    uploads: {
      [ID.a]: upload(ID.a),
      [ID.b]: upload(ID.b, {
        kind: "image",
        name: "cat.png",
        type: "image/png",
        size: 10,
        durationMs: undefined,
        waveform: undefined,
      }),
      [ID.c]: upload(ID.c, { state: "open", received: [] }),
    },
  });

  it("logs each complete upload of the sender's as its descriptor, in the order named", () => {
    expect(run(post("", { text: undefined, attachments: [ID.b, ID.a] }), bob, room)).toEqual({
      ok: true,
      events: [
        {
          type: "message.posted",
          data: {
            text: "",
            attachments: [
              { id: ID.b, kind: "image", name: "cat.png", type: "image/png", size: 10 },
              {
                id: ID.a,
                kind: "voice",
                name: "memo.webm",
                type: "audio/webm",
                size: 9000,
                durationMs: 3600,
                waveform: [0, 128, 255],
              },
            ],
          },
        },
      ],
    });
  });

  it("refuses a missing upload, someone else's, an open one and a posted one alike", () => {
    const posted = view({ uploads: { [ID.a]: upload(ID.a, { state: "posted" }) } });
    for (const [actor, ids, room_] of [
      [bob, ["ZZZZZZZZZZZZZZZZZZZZZZ"], room],
      [mo, [ID.a], room],
      [bob, [ID.a, ID.c], room],
      [bob, [ID.a], posted],
    ] as const) {
      const outcome = run(post("hi", { attachments: [...ids] }), actor, room_);
      expect(outcome).toMatchObject(refusal("not_found"));
      expect(!outcome.ok && outcome.error.message).toMatch(/of yours, complete and unposted/);
    }
  });

  it("a muted sender is refused before any upload is looked at", () => {
    const muted = view({ muted: { [bob.id]: NOW + 60_000 }, uploads: { [ID.a]: upload(ID.a) } });
    expect(run(post("", { attachments: [ID.a] }), bob, muted)).toMatchObject(refusal("forbidden"));
  });
});
