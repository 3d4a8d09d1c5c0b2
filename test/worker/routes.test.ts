import { env, exports } from "cloudflare:workers";
import { listDurableObjectIds } from "cloudflare:test";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import {
  ErrorBody,
  EventsPage,
  MessagesPage,
  RoomInfo,
  RoomList,
  Session,
} from "../../src/protocol/index.ts";
import { TEST_SECRET } from "../support/secret.ts";
import { call, guest, newRoom } from "./helpers.ts";

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = ErrorBody.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.message).not.toMatch(/at .*\.(ts|js):\d+/); // never a stack trace
  return body;
}

describe("guest sign-in", () => {
  it("returns a token and a guest user", async () => {
    const res = await call("/api/auth/guest", { method: "POST", json: { name: "ada" } });
    expect(res.status).toBe(200);
    const session = Session.parse(await res.json());
    expect(session.user).toMatchObject({ name: "ada", kind: "guest" });
    expect(session.user.id).toMatch(/^g_/);
  });

  it("refuses a bad name, a non-JSON body and a missing body with 400", async () => {
    await expectError(
      await call("/api/auth/guest", { method: "POST", json: { name: "a b" } }),
      400,
      "bad_request",
    );
    await expectError(
      await call("/api/auth/guest", { method: "POST", json: {} }),
      400,
      "bad_request",
    );
    const notJson = await call("/api/auth/guest", {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    });
    await expectError(notJson, 400, "bad_request");
  });
});

describe("tokens are checked at the edge", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = () => ({
    sub: "g_x",
    name: "eve",
    kind: "guest",
    iss: "edgechat",
    aud: "edgechat",
    iat: now(),
    exp: now() + 60,
  });

  it("accepts a token the server signed, with a pinned algorithm", async () => {
    const valid = await sign(claims(), TEST_SECRET, "HS256");
    expect((await call("/api/rooms", { token: valid })).status).toBe(200);
    const otherAlgorithm = await sign(claims(), TEST_SECRET, "HS512");
    await expectError(await call("/api/rooms", { token: otherAlgorithm }), 401, "unauthorized");
  });

  it("refuses a missing, forged, expired or foreign token with 401", async () => {
    const forged = await sign(claims(), "another-secret-another-secret-another", "HS256");
    const expired = await sign({ ...claims(), exp: now() - 10 }, TEST_SECRET, "HS256");
    const wrongAudience = await sign({ ...claims(), aud: "someone-else" }, TEST_SECRET, "HS256");
    const wrongIssuer = await sign({ ...claims(), iss: "someone-else" }, TEST_SECRET, "HS256");
    const unsigned = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" }))}.${btoa(JSON.stringify(claims()))}.`;
    await expectError(await call("/api/rooms"), 401, "unauthorized");
    for (const token of [forged, expired, wrongAudience, wrongIssuer, unsigned, "garbage"]) {
      await expectError(await call("/api/rooms", { token }), 401, "unauthorized");
    }
  });

  it("refuses a WebSocket upgrade without a valid token before any room object is touched", async () => {
    const headers = { upgrade: "websocket", "sec-websocket-protocol": "edgechat.v1, bearer.nope" };
    await expectError(await call("/api/rooms/untouched/ws", { headers }), 401, "unauthorized");
    await expectError(
      await call(`/api/rooms/untouched/ws?token=abc`, { headers: { upgrade: "websocket" } }),
      401,
      "unauthorized",
    );
    const id = env.ROOM.idFromName("untouched");
    const touched = (await listDurableObjectIds(env.ROOM)).some((other) => other.equals(id));
    expect(touched).toBe(false);
  });
});

describe("rooms", () => {
  it("creates a room once (201, then 409) and shows it in the list", async () => {
    const ada = await guest("ada");
    const res = await call("/api/rooms", {
      method: "POST",
      token: ada.token,
      json: { name: "plaza", topic: "hello" },
    });
    expect(res.status).toBe(201);
    const room = RoomInfo.parse(await res.json());
    expect(room).toMatchObject({
      name: "plaza",
      topic: "hello",
      visibility: "public",
      lastSeq: 2,
      members: 1,
      online: 0,
    });
    await expectError(
      await call("/api/rooms", { method: "POST", token: ada.token, json: { name: "plaza" } }),
      409,
      "conflict",
    );
    await expect
      .poll(async () =>
        RoomList.parse(await (await call("/api/rooms", { token: ada.token })).json()).rooms.map(
          (r) => r.name,
        ),
      )
      .toContain("plaza");
  });

  it("answers 404 for a room never created, on every path", async () => {
    const ada = await guest("ada");
    for (const path of [
      "/api/rooms/nowhere",
      "/api/rooms/nowhere/events",
      "/api/rooms/nowhere/messages",
    ]) {
      await expectError(await call(path, { token: ada.token }), 404, "not_found");
    }
    const post = await call("/api/rooms/nowhere/messages", {
      method: "POST",
      token: ada.token,
      json: { text: "hi", clientId: "c" },
    });
    await expectError(post, 404, "not_found");
    const upgrade = await call("/api/rooms/nowhere/ws", {
      headers: {
        upgrade: "websocket",
        "sec-websocket-protocol": `edgechat.v1, bearer.${ada.token}`,
      },
    });
    await expectError(upgrade, 404, "not_found");
  });

  it("refuses a bad room name with 400", async () => {
    const ada = await guest("ada");
    await expectError(
      await call("/api/rooms", { method: "POST", token: ada.token, json: { name: "Bad Name" } }),
      400,
      "bad_request",
    );
    await expectError(
      await call("/api/rooms/Bad!/events", { token: ada.token }),
      400,
      "bad_request",
    );
  });

  it("posts over HTTP idempotently and pages events and messages", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(`/api/rooms/${room}/messages`, {
        method: "POST",
        token: ada.token,
        json: { text: `m${i}`, clientId: `c${i}` },
      });
      expect(res.status).toBe(201);
      seqs.push((await res.json<{ seq: number }>()).seq);
    }
    expect(seqs).toEqual([3, 4, 5, 6, 7]);
    const again = await call(`/api/rooms/${room}/messages`, {
      method: "POST",
      token: ada.token,
      json: { text: "m0", clientId: "c0" },
    });
    expect(await again.json()).toEqual({ seq: 3 });

    const events = EventsPage.parse(
      await (await call(`/api/rooms/${room}/events?after=2&limit=3`, { token: ada.token })).json(),
    );
    expect(events.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(events.lastSeq).toBe(7);

    const first = MessagesPage.parse(
      await (await call(`/api/rooms/${room}/messages?limit=2`, { token: ada.token })).json(),
    );
    expect(first.messages.map((m) => m.text)).toEqual(["m4", "m3"]);
    expect(first.nextBefore).toBe(6);
    const rest = MessagesPage.parse(
      await (await call(`/api/rooms/${room}/messages?before=6`, { token: ada.token })).json(),
    );
    expect(rest.messages.map((m) => m.id)).toEqual([5, 4, 3]);
    expect(rest.nextBefore).toBeNull();

    await expectError(
      await call(`/api/rooms/${room}/events?limit=1001`, { token: ada.token }),
      400,
      "bad_request",
    );
    await expectError(
      await call(`/api/rooms/${room}/events?after=-1`, { token: ada.token }),
      400,
      "bad_request",
    );
  });

  it("refuses an oversized body with 413 and a blank message with 400", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada);
    const big = await call(`/api/rooms/${room}/messages`, {
      method: "POST",
      token: ada.token,
      json: { text: "x".repeat(70_000), clientId: "c" },
    });
    await expectError(big, 413, "too_large");
    const blank = await call(`/api/rooms/${room}/messages`, {
      method: "POST",
      token: ada.token,
      json: { text: "  ", clientId: "c" },
    });
    await expectError(blank, 400, "bad_request");
    const events = EventsPage.parse(
      await (await call(`/api/rooms/${room}/events`, { token: ada.token })).json(),
    );
    expect(events.lastSeq).toBe(2); // nothing was applied
  });
});

describe("the app", () => {
  it("serves health, the OpenAPI document and its docs page", async () => {
    expect(await (await call("/healthz")).json()).toEqual({ ok: true });
    const doc = await (
      await call("/api/openapi.json")
    ).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/auth/guest",
        "/api/rooms",
        "/api/rooms/{room}",
        "/api/rooms/{room}/events",
        "/api/rooms/{room}/messages",
        "/api/rooms/{room}/ws",
      ]),
    );
    const docs = await call("/api/docs");
    expect(docs.headers.get("content-type")).toMatch(/text\/html/);
    expect(await docs.text()).toContain("/api/rooms/{room}/messages");
  });

  it("answers the Postgres reads with 503 when there is no Postgres, and keeps the rest working", async () => {
    const ada = await guest("ada");
    for (const path of ["/api/search?q=hello", "/api/directory", "/api/me/rooms"]) {
      await expectError(await call(path, { token: ada.token }), 503, "unavailable");
    }
    await expectError(await call("/api/search?q=", { token: ada.token }), 400, "bad_request");
    await expectError(await call("/api/admin/replicas", { token: ada.token }), 403, "forbidden");
    expect((await call("/api/rooms", { token: ada.token })).status).toBe(200);
  });

  it("answers unknown API paths with the contract's 404", async () => {
    await expectError(await call("/api/nothing-here"), 404, "not_found");
  });

  it("sets security headers with a real CSP on the UI and the API", async () => {
    for (const path of ["/", "/api/openapi.json"]) {
      const res = await exports.default.fetch(`http://edgechat.test${path}`);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });
});
