/**
 * Broken authentication: forged, swapped-algorithm, expired and foreign tokens, revoked
 * sessions and refresh-token reuse. Every refusal is a 401 on HTTP and on the WebSocket upgrade
 * (before any room is touched), and the room is exactly as it was.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLOSE } from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  call,
  claimsOf,
  closeAll,
  closeFrameCode,
  createRoom,
  expectError,
  expectUnchanged,
  expectUpgradeRefused,
  forge,
  forgeWithHeader,
  login,
  post,
  rawConnect,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  snapshot,
  startServer,
  upgrade,
  type TestServer,
  type Who,
} from "./helpers.ts";

let server: TestServer;
let owner: Who;
let mallory: Who;
let guestUser: Who;
const room = roomName("tokens");
const ghost = roomName("never");

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  owner = await register(server.url, "olga");
  mallory = await register(server.url, "mallory");
  guestUser = await signInGuest(server.url, "gwen");
  await createRoom(server.url, owner, room);
  await post(server.url, owner, room, "hello", "olga-1");
  // mallory is a legitimate member: tokens of hers that are refused must not be what she could use.
  await post(server.url, mallory, room, "hi", "mallory-1");
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

/**
 * `token` is refused with 401 on every authenticated endpoint and on the upgrade (also to a room
 * that was never created: auth comes before the room), and the room is unchanged.
 */
async function refusedEverywhere(token: string, what: string): Promise<void> {
  const before = await snapshot(server.url, owner, room);
  const base = server.url;
  const attempts: [string, string, unknown?][] = [
    ["GET", "/api/auth/me"],
    ["GET", "/api/rooms"],
    ["GET", `/api/rooms/${room}`],
    ["GET", `/api/rooms/${room}/events`],
    ["GET", `/api/rooms/${room}/messages`],
    ["GET", `/api/rooms/${room}/members`],
    ["POST", `/api/rooms/${room}/messages`, { text: "pwned", clientId: `x-${what}` }],
    [
      "POST",
      `/api/rooms/${room}/commands`,
      { type: "topic", clientId: `t-${what}`, topic: "pwned" },
    ],
    ["POST", `/api/rooms/${room}/commands`, { type: "post", clientId: `p-${what}`, text: "pwned" }],
    ["POST", `/api/rooms/${room}/members`, { username: "mallory", role: "moderator" }],
    ["POST", "/api/rooms", { name: roomName("squat") }],
    ["POST", "/api/auth/password", { currentPassword: "whatever1", newPassword: "whatever2" }],
    ["DELETE", "/api/auth/account", { password: "correct horse 1" }],
    // Admin-only: a forged admin is refused before its admin-ness is even asked.
    ["GET", "/api/admin/audit"],
    ["GET", "/api/admin/audit?actor=root&action=auth.signed_in"],
    ["GET", "/api/admin/audit/verify"],
    ["GET", "/api/admin/rules"],
    [
      "POST",
      "/api/admin/rules",
      { name: "pwned", trigger: { on: "member_joined" }, actions: [{ do: "post", text: "x" }] },
    ],
    [
      "PUT",
      "/api/admin/rules/rl_00000000000000e1",
      { name: "pwned", trigger: { on: "member_joined" }, actions: [{ do: "post", text: "x" }] },
    ],
    ["DELETE", "/api/admin/rules/rl_00000000000000e1"],
    [
      "POST",
      "/api/admin/rules/dry-run",
      {
        rule: {
          name: "pwned",
          trigger: { on: "member_joined" },
          actions: [{ do: "post", text: "x" }],
        },
        room: "general",
      },
    ],
  ];
  for (const [method, path, body] of attempts) {
    expectError(
      await call(base, method, path, { token, body }),
      401,
      "unauthorized",
      `${what}: ${method} ${path}`,
    );
  }
  expectUpgradeRefused(await upgrade(base, room, token), 401, "unauthorized", `${what}: upgrade`);
  expectUpgradeRefused(
    await upgrade(base, room, undefined, { authorization: `Bearer ${token}` }),
    401,
    "unauthorized",
    `${what}: upgrade with Authorization`,
  );
  // A room that does not exist answers 401 too, not 404: the token is checked before any room.
  expectUpgradeRefused(
    await upgrade(base, ghost, token),
    401,
    "unauthorized",
    `${what}: upgrade to a ghost`,
  );
  await expectUnchanged(base, owner, room, before);
}

async function works(token: string, what: string): Promise<void> {
  const answer = await call(server.url, "GET", `/api/rooms/${room}`, { token });
  expect(answer.status, `${what}: ${answer.text}`).toBe(200);
}

describe("forged and foreign tokens", () => {
  it("a valid token works (the baseline the other cases break)", async () => {
    await works(mallory.token, "mallory");
    await works(guestUser.token, "guest");
    const answer = await upgrade(server.url, room, guestUser.token);
    expect(answer.status).toBe(101);
  });

  it("a forged signature", async () => {
    const [header, payload] = mallory.token.split(".");
    await refusedEverywhere(
      `${header}.${payload}.${Buffer.alloc(32, 7).toString("base64url")}`,
      "forged-sig",
    );
    // The owner's claims with a signature from another key.
    await refusedEverywhere(
      await forge(claimsOf(owner.token), {
        secret: "not-the-secret-but-long-enough-0123456789abcdef",
      }),
      "other-key",
    );
    // The signature of another token.
    await refusedEverywhere(`${header}.${payload}.${guestUser.token.split(".")[2]}`, "swapped-sig");
  });

  it("alg: none (all spellings), with and without a signature", async () => {
    const claims = claimsOf(guestUser.token);
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      await refusedEverywhere(
        await forgeWithHeader({ alg, typ: "JWT" }, claims, "none"),
        `alg-${alg}`,
      );
      await refusedEverywhere(
        await forgeWithHeader({ alg, typ: "JWT" }, claims, "hs256"),
        `alg-${alg}-signed`,
      );
    }
  });

  it("another algorithm: HS512 and HS384 with the real secret, an RS256 header (key confusion)", async () => {
    const claims = claimsOf(guestUser.token);
    await refusedEverywhere(await forge(claims, { alg: "HS512" }), "hs512");
    await refusedEverywhere(await forge(claims, { alg: "HS384" }), "hs384");
    await refusedEverywhere(
      await forgeWithHeader({ alg: "RS256", typ: "JWT" }, claims),
      "rs256-hmac",
    );
    await refusedEverywhere(
      await forgeWithHeader(
        { alg: "RS256", typ: "JWT", kid: "../../dev/null", jku: "http://127.0.0.1:1/k" },
        claims,
      ),
      "rs256-kid",
    );
    await refusedEverywhere(await forgeWithHeader({ alg: "ES256", typ: "JWT" }, claims), "es256");
  });

  it("expired, not yet valid, wrong audience, wrong issuer, no audience/issuer", async () => {
    const claims = claimsOf(guestUser.token);
    const now = Math.floor(Date.now() / 1000);
    await refusedEverywhere(await forge({ ...claims, iat: now - 7200, exp: now - 60 }), "expired");
    await refusedEverywhere(await forge({ ...claims, nbf: now + 3600 }), "nbf-future");
    await refusedEverywhere(await forge({ ...claims, aud: "other-app" }), "aud");
    await refusedEverywhere(await forge({ ...claims, aud: ["other-app"] }), "aud-array");
    await refusedEverywhere(await forge({ ...claims, iss: "evil" }), "iss");
    const { iss: _iss, aud: _aud, ...bare } = claims;
    await refusedEverywhere(
      await forgeWithHeader(
        { alg: "HS256", typ: "JWT" },
        { ...bare, iss: undefined, aud: undefined },
      ),
      "no-iss-aud",
    );
  });

  it("claims that do not hold: a registered user without sid, a made-up sid, unknown kinds", async () => {
    const ownerClaims = claimsOf(owner.token);
    const { sid: _sid, ...noSid } = ownerClaims;
    // Correctly signed (as by an older version) but without a session: could never be revoked.
    await refusedEverywhere(await forge(noSid), "no-sid");
    await refusedEverywhere(await forge({ ...ownerClaims, sid: "0".repeat(32) }), "made-up-sid");
    await refusedEverywhere(await forge({ ...ownerClaims, sid: "" }), "empty-sid");
    // The instance admin, by name, with a session nobody opened.
    await refusedEverywhere(
      await forge({ sub: "u_root", name: "root", kind: "user", sid: "f".repeat(32) }),
      "admin-made-up",
    );
    await refusedEverywhere(
      await forge({ ...claimsOf(guestUser.token), kind: "admin" }),
      "kind-admin",
    );
    await refusedEverywhere(await forge({ ...claimsOf(guestUser.token), sub: "" }), "empty-sub");
    await refusedEverywhere(await forge({ name: "x", kind: "guest" }), "no-sub");
  });

  it("garbage in the Authorization header", async () => {
    for (const token of [
      "",
      "abc",
      "a.b.c",
      "..",
      `${guestUser.token}x`,
      `Bearer ${guestUser.token}`,
    ]) {
      const answer = await call(server.url, "GET", `/api/rooms/${room}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expectError(answer, 401, "unauthorized", `garbage ${token.slice(0, 12)}`);
    }
    expectError(
      await call(server.url, "GET", `/api/rooms/${room}`, {
        headers: { authorization: `Basic ${guestUser.token}` },
      }),
      401,
      "unauthorized",
      "basic scheme",
    );
  });
});

describe("revoked sessions", () => {
  it("after logout: the access token, the refresh token and the open socket are dead", async () => {
    const session = await register(server.url, "leaver");
    await works(session.token, "before logout");
    const socket = await rawConnect(server.url, room, session.token);
    const before = await snapshot(server.url, owner, room);
    const out = await call(server.url, "POST", "/api/auth/logout", {
      body: { refreshToken: session.refreshToken },
    });
    expect(out.status).toBe(204);
    expect(await closeFrameCode(socket)).toBe(CLOSE.tokenRevoked);
    await expectUnchanged(server.url, owner, room, before);
    await refusedEverywhere(session.token, "after-logout");
    expectError(
      await call(server.url, "POST", "/api/auth/refresh", {
        body: { refreshToken: session.refreshToken },
      }),
      401,
      "unauthorized",
      "refresh after logout",
    );
    // Signing in again opens a new session; the old token stays dead.
    const again = await login(server.url, "leaver", session.password!);
    await works(again.token, "new session");
    await refusedEverywhere(session.token, "after-logout-and-login");
  });

  it("logout with a forged refresh token (the right account and session, a guessed secret) ends nothing", async () => {
    const session = await register(server.url, "forgery-target");
    // The account and session id are no secret: the session id rides in every access token.
    const [prefix, account, sid] = session.refreshToken!.split(".");
    const forged = [prefix, account, sid, "A".repeat(43)].join(".");
    const out = await call(server.url, "POST", "/api/auth/logout", {
      body: { refreshToken: forged },
    });
    expect(out.status).toBe(204);
    await works(session.token, "after a forged logout");
    const refreshed = await call(server.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: session.refreshToken },
    });
    expect(refreshed.status).toBe(200);
  });

  it("after a password change: every other session ends, the new one works", async () => {
    const first = await register(server.url, "changer", "old password 1");
    const second = await login(server.url, "changer", "old password 1");
    const socket = await rawConnect(server.url, room, first.token);
    const changed = await call(server.url, "POST", "/api/auth/password", {
      token: second.token,
      body: { currentPassword: "old password 1", newPassword: "new password 2" },
    });
    expect(changed.status, changed.text).toBe(200);
    const fresh = changed.json as { token: string; refreshToken: string };
    expect(await closeFrameCode(socket)).toBe(CLOSE.tokenRevoked);
    await refusedEverywhere(first.token, "pw-first");
    await refusedEverywhere(second.token, "pw-second");
    for (const refreshToken of [first.refreshToken, second.refreshToken]) {
      expectError(
        await call(server.url, "POST", "/api/auth/refresh", { body: { refreshToken } }),
        401,
        "unauthorized",
        "old refresh token",
      );
    }
    await works(fresh.token, "after change");
    expectError(
      await call(server.url, "POST", "/api/auth/login", {
        body: { username: "changer", password: "old password 1" },
      }),
      401,
      "unauthorized",
      "old password",
    );
    await login(server.url, "changer", "new password 2");
  });

  it("a wrong current password changes nothing", async () => {
    const session = await register(server.url, "keeper", "keep password 1");
    const answer = await call(server.url, "POST", "/api/auth/password", {
      token: session.token,
      body: { currentPassword: "wrong password", newPassword: "stolen password" },
    });
    expectError(answer, 401, "unauthorized", "wrong current password");
    await works(session.token, "still signed in");
    await login(server.url, "keeper", "keep password 1");
  });
});

describe("refresh-token reuse", () => {
  it("a rotated refresh token presented again ends the whole session family", async () => {
    const first = await register(server.url, "rotator");
    const rotated = await call(server.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: first.refreshToken },
    });
    expect(rotated.status, rotated.text).toBe(200);
    const second = rotated.json as { token: string; refreshToken: string };
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await works(second.token, "rotated token");
    const socket = await rawConnect(server.url, room, second.token);
    // An unrelated session of the same user must survive.
    const other = await login(server.url, "rotator", first.password!);

    const before = await snapshot(server.url, owner, room);
    // The thief (or the victim) presents the spent token again.
    expectError(
      await call(server.url, "POST", "/api/auth/refresh", {
        body: { refreshToken: first.refreshToken },
      }),
      401,
      "unauthorized",
      "reuse",
    );
    expect(await closeFrameCode(socket)).toBe(CLOSE.tokenRevoked);
    await expectUnchanged(server.url, owner, room, before);
    // The newest access token and refresh token of that family are dead too.
    await refusedEverywhere(second.token, "family-newest");
    await refusedEverywhere(first.token, "family-first");
    expectError(
      await call(server.url, "POST", "/api/auth/refresh", {
        body: { refreshToken: second.refreshToken },
      }),
      401,
      "unauthorized",
      "newest refresh token",
    );
    await works(other.token, "another session");
  });

  it("a refresh token with a tampered secret or session does not end or extend anything", async () => {
    const session = await register(server.url, "tamper");
    const [prefix, account, sid, secret] = session.refreshToken!.split(".");
    const tampered = [
      `${prefix}.${account}.${sid}.${"A".repeat(43)}`,
      `${prefix}.${account}.${"0".repeat(32)}.${secret}`,
      `${prefix}.${Buffer.from("olga").toString("base64url")}.${sid}.${secret}`,
      `rt2.${account}.${sid}.${secret}`,
      `${session.refreshToken}.x`,
      "",
    ];
    for (const refreshToken of tampered) {
      expectError(
        await call(server.url, "POST", "/api/auth/refresh", { body: { refreshToken } }),
        401,
        "unauthorized",
        `tampered ${refreshToken.slice(0, 20)}`,
      );
    }
    // A wrong secret is not reuse: the real token still works once.
    await works(session.token, "after tampering");
    const ok = await call(server.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: session.refreshToken },
    });
    expect(ok.status, ok.text).toBe(200);
    // Another user's account in the token does not reach the owner's sessions.
    await works(owner.token, "owner untouched");
  });
});

describe("the WebSocket after a session ends", () => {
  it("a socket opened before the end is closed with 4401 and cannot reconnect", async () => {
    const session = await register(server.url, "sockets");
    const socket = await rawConnect(server.url, room, session.token);
    await call(server.url, "POST", "/api/auth/logout", {
      body: { refreshToken: session.refreshToken },
    });
    expect(await closeFrameCode(socket)).toBe(CLOSE.tokenRevoked);
    expectUpgradeRefused(
      await upgrade(server.url, room, session.token),
      401,
      "unauthorized",
      "reconnect",
    );
  });
});
