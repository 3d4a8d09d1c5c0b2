/**
 * Cross-site WebSocket hijacking and cookie CSRF: a foreign Origin is refused on the upgrade and
 * on the cookie routes (refresh, logout); CORS answers only allowed origins. Requests without an
 * Origin (bots, the SDK in Node) and from allowed origins work.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RoomInfo, Session } from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  call,
  closeAll,
  createRoom,
  expectError,
  expectUnchanged,
  expectUpgradeRefused,
  register,
  roomName,
  SECURITY_VARS,
  snapshot,
  startServer,
  upgrade,
  type TestServer,
  type Who,
} from "./helpers.ts";

const ALLOWED = "https://chat.example.com";
let server: TestServer;
let olga: Who;
let room: string;

beforeAll(async () => {
  server = await startServer({
    vars: { ...SECURITY_VARS, ALLOWED_ORIGINS: `${ALLOWED}, https://other.example.org` },
  });
  olga = await register(server.url, "olga");
  room = roomName("origin");
  await createRoom(server.url, olga, room);
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

function foreignOrigins(): string[] {
  const { port } = server;
  return [
    "https://evil.example",
    "null",
    `http://127.0.0.1:${port + 1}`,
    // Not `https://127.0.0.1:<port>`: wrangler's local dev proxy rewrites any URL naming its own
    // host (whatever the scheme) to its inner origin before the worker sees the header.
    `http://127.0.0.1:${port}.evil.example`,
    `http://evil.example#http://127.0.0.1:${port}`,
    "https://chat.example.com.evil.example",
    "https://evil-chat.example.com",
    "http://chat.example.com",
    `${ALLOWED}:8443`,
  ];
}

async function online(): Promise<number> {
  const answer = await call(server.url, "GET", `/api/rooms/${room}`, { token: olga.token });
  return RoomInfo.parse(answer.json).online;
}

describe("the WebSocket upgrade", () => {
  it("a foreign Origin gets 403 and no socket; the room is unchanged", async () => {
    const guest = await register(server.url, "victim");
    const before = await snapshot(server.url, olga, room);
    for (const origin of foreignOrigins()) {
      const answer = await upgrade(server.url, room, guest.token, { origin });
      expectUpgradeRefused(answer, 403, "forbidden", `origin ${JSON.stringify(origin)}`);
      // With the Authorization header instead of the subprotocol, too.
      const withHeader = await upgrade(server.url, room, undefined, {
        origin,
        authorization: `Bearer ${guest.token}`,
      });
      expectUpgradeRefused(
        withHeader,
        403,
        "forbidden",
        `origin ${JSON.stringify(origin)} + header`,
      );
    }
    expect(await online()).toBe(0);
    // The victim never joined: no member.joined, no new member.
    await expectUnchanged(server.url, olga, room, before);
  });

  it("same origin, no Origin and an allowed origin work", async () => {
    for (const origin of [server.url, ALLOWED, "https://other.example.org", undefined]) {
      const answer = await upgrade(
        server.url,
        room,
        olga.token,
        origin === undefined ? {} : { origin },
      );
      expect({ origin, status: answer.status }).toEqual({ origin, status: 101 });
      expect(answer.protocol).toBe("edgechat.v1");
    }
  });
});

describe("the cookie routes", () => {
  it("refresh and logout from a foreign Origin: 403, the session is untouched", async () => {
    const victim = await register(server.url, "cookie-victim");
    const cookie = `edgechat_refresh=${victim.refreshToken}`;
    for (const origin of foreignOrigins()) {
      for (const path of ["/api/auth/refresh", "/api/auth/logout"]) {
        expectError(
          await call(server.url, "POST", path, { headers: { origin, cookie } }),
          403,
          "forbidden",
          `${path} from ${JSON.stringify(origin)} (cookie)`,
        );
        expectError(
          await call(server.url, "POST", path, {
            headers: { origin },
            body: { refreshToken: victim.refreshToken },
          }),
          403,
          "forbidden",
          `${path} from ${JSON.stringify(origin)} (body)`,
        );
      }
    }
    // Nothing was logged out or rotated: the access token works and the refresh token works once.
    const me = await call(server.url, "GET", "/api/auth/me", { token: victim.token });
    expect(me.status, me.text).toBe(200);
    const refreshed = await call(server.url, "POST", "/api/auth/refresh", {
      body: { refreshToken: victim.refreshToken },
    });
    expect(refreshed.status, refreshed.text).toBe(200);
  });

  it("an allowed origin refreshes with the cookie; the new refresh token is only in the cookie", async () => {
    const user = await register(server.url, "browser-user");
    const answer = await call(server.url, "POST", "/api/auth/refresh", {
      headers: { origin: ALLOWED, cookie: `edgechat_refresh=${user.refreshToken}` },
    });
    expect(answer.status, answer.text).toBe(200);
    const session = Session.parse(answer.json);
    expect(session.refreshToken).toBeUndefined();
    const setCookie = answer.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/edgechat_refresh=rt1\./);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(answer.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    // Same origin logs out.
    const out = await call(server.url, "POST", "/api/auth/logout", {
      headers: { origin: server.url, cookie: setCookie.split(";")[0]! },
    });
    expect(out.status).toBe(204);
    expectError(
      await call(server.url, "GET", "/api/auth/me", { token: session.token }),
      401,
      "unauthorized",
      "after logout",
    );
  });

  it("sign-in from a browser never puts the refresh token in the body", async () => {
    const answer = await call(server.url, "POST", "/api/auth/register", {
      headers: { origin: ALLOWED },
      body: { username: "browser-two", password: "browser password" },
    });
    expect(answer.status, answer.text).toBe(201);
    expect(Session.parse(answer.json).refreshToken).toBeUndefined();
  });
});

describe("CORS", () => {
  const preflight = (path: string, origin: string) =>
    call(server.url, "OPTIONS", path, {
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });

  it("a preflight from a foreign origin gets no access-control-allow-origin", async () => {
    for (const origin of foreignOrigins()) {
      for (const path of [
        "/api/rooms",
        `/api/rooms/${room}/messages`,
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/login",
      ]) {
        const answer = await preflight(path, origin);
        expect({ origin, path, acao: answer.headers.get("access-control-allow-origin") }).toEqual({
          origin,
          path,
          acao: null,
        });
        expect(answer.headers.get("access-control-allow-origin")).not.toBe("*");
      }
    }
  });

  it("a simple request from a foreign origin is not readable (no allow-origin)", async () => {
    const answer = await call(server.url, "GET", `/api/rooms/${room}/messages`, {
      token: olga.token,
      headers: { origin: "https://evil.example" },
    });
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allowed and same origins get their own origin back, with credentials", async () => {
    for (const origin of [ALLOWED, "https://other.example.org", server.url]) {
      const answer = await preflight("/api/rooms", origin);
      expect(answer.status).toBeLessThan(300);
      expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
      expect(answer.headers.get("access-control-allow-credentials")).toBe("true");
      expect(answer.headers.get("vary") ?? "").toMatch(/origin/i);
    }
  });
});
