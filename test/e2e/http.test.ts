import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/client/index.ts";
import {
  ErrorBody,
  EventsPage,
  MessagesPage,
  RoomInfo,
  Session,
} from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  closeAll,
  connect,
  freshRoom,
  guest,
  range,
  roomName,
  startServer,
  waitUntil,
  type Guest,
  type TestServer,
  signIn,
  useServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;

useServer(async (started) => {
  server = started;
  [ada] = await signIn(server, "ada");
});

type Answer = { status: number; headers: Headers; text: string; json: unknown };

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(server.url + path, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/**
 * The contract's error body with `code` and `status` and the request's id, and nothing that
 * looks like a stack trace.
 */
function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status, answer.text).toBe(status);
  const body = ErrorBody.safeParse(answer.json);
  expect(body.success, answer.text).toBe(true);
  expect(body.data!.error.code).toBe(code);
  expect(Object.keys(answer.json as object)).toEqual(["error"]);
  // The contract's two fields, and the request's id, also in its x-request-id (tracing is off
  // here: no traceId).
  expect(Object.keys((answer.json as { error: object }).error).sort()).toEqual([
    "code",
    "message",
    "requestId",
  ]);
  expect(body.data!.error.requestId).toBe(answer.headers.get("x-request-id"));
  expect(answer.text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|Error:/);
  expect(answer.headers.get("content-type") ?? "").toMatch(/application\/json/);
}

describe("auth", () => {
  it("signs a guest in", async () => {
    const answer = await call("POST", "/api/auth/guest", { body: { name: "grace" } });
    expect(answer.status).toBe(200);
    const session = Session.parse(answer.json);
    expect(session.user).toMatchObject({ name: "grace", kind: "guest" });
    expect(session.token.split(".")).toHaveLength(3);
    // Two guests of the same name are two users.
    const again = Session.parse(
      (await call("POST", "/api/auth/guest", { body: { name: "grace" } })).json,
    );
    expect(again.user.id).not.toBe(session.user.id);
  });

  it("refuses a bad guest name and a malformed body with 400", async () => {
    expectError(await call("POST", "/api/auth/guest", { body: { name: "a" } }), 400, "bad_request");
    expectError(
      await call("POST", "/api/auth/guest", { body: { name: "has space" } }),
      400,
      "bad_request",
    );
    expectError(await call("POST", "/api/auth/guest", { raw: "{not json" }), 400, "bad_request");
    expectError(await call("POST", "/api/auth/guest", { body: {} }), 400, "bad_request");
  });

  it("refuses a missing, malformed or forged token with 401", async () => {
    expectError(await call("GET", "/api/rooms"), 401, "unauthorized");
    expectError(await call("GET", "/api/rooms", { token: "not-a-jwt" }), 401, "unauthorized");
    expectError(
      await call("GET", "/api/rooms", { headers: { authorization: "Basic abc" } }),
      401,
      "unauthorized",
    );
    // Same header and payload, a different signature.
    const [header, payload] = ada.token.split(".");
    const forged = `${header}.${payload}.${Buffer.from("x".repeat(32)).toString("base64url")}`;
    expectError(await call("GET", "/api/rooms", { token: forged }), 401, "unauthorized");
    // A payload that claims another name under the original signature.
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, name: "admin" })).toString("base64url")}.${ada.token.split(".")[2]}`;
    expectError(await call("GET", "/api/rooms", { token: tampered }), 401, "unauthorized");
    // alg: none
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
    expectError(await call("GET", "/api/rooms", { token: none }), 401, "unauthorized");
    // Every room path is behind auth, unknown rooms included.
    expectError(await call("GET", "/api/rooms/nope"), 401, "unauthorized");
    expectError(await call("POST", "/api/rooms", { body: { name: "x1" } }), 401, "unauthorized");
  });
});

describe("rooms", () => {
  it("creates a room (201), refuses a repeat (409), lists and describes it", async () => {
    const name = roomName("create");
    const created = await call("POST", "/api/rooms", {
      token: ada.token,
      body: { name, topic: "tea" },
    });
    expect(created.status).toBe(201);
    const info = RoomInfo.parse(created.json);
    expect(info).toMatchObject({ name, topic: "tea", visibility: "public", members: 1, online: 0 });
    expect(info.lastSeq).toBeGreaterThanOrEqual(1);

    expectError(
      await call("POST", "/api/rooms", { token: ada.token, body: { name } }),
      409,
      "conflict",
    );
    const bob = await guest(server.url, "bob");
    expectError(
      await call("POST", "/api/rooms", { token: bob.token, body: { name } }),
      409,
      "conflict",
    );

    // The directory is updated asynchronously: wait for it, bounded.
    const listed = await waitUntil(
      async () => (await ada.api.listRooms()).rooms.find((r) => r.name === name),
      "room in the list",
    );
    expect(listed).toMatchObject({ name, topic: "tea", visibility: "public" });

    const got = await ada.api.getRoom(name);
    expect(got).toMatchObject({ name, topic: "tea", members: 1, online: 0, lastSeq: info.lastSeq });
  });

  it("counts members and online users", async () => {
    const name = await freshRoom(ada, "counts");
    const bob = await guest(server.url, "bob");
    const before = await ada.api.getRoom(name);
    expect(before).toMatchObject({ members: 1, online: 0 });

    const b1 = await connect(server.url, name, bob);
    const b2 = await connect(server.url, name, bob);
    const a1 = await connect(server.url, name, ada);
    // Two users online (bob twice counts once); bob became a member by connecting.
    expect(await bob.api.getRoom(name)).toMatchObject({ members: 2, online: 2 });
    b1.close();
    b2.close();
    await waitUntil(async () => (await ada.api.getRoom(name)).online === 1, "online back to 1");
    a1.close();
    await waitUntil(async () => (await ada.api.getRoom(name)).online === 0, "online back to 0");
    expect((await ada.api.getRoom(name)).members).toBe(2);
  });

  it("refuses bad room names with 400 and unknown rooms with 404", async () => {
    for (const bad of ["Upper", "-dash", "a".repeat(65), "sp ace", "dot.name"]) {
      expectError(
        await call("POST", "/api/rooms", { token: ada.token, body: { name: bad } }),
        400,
        "bad_request",
      );
      expectError(
        await call("GET", `/api/rooms/${encodeURIComponent(bad)}`, { token: ada.token }),
        400,
        "bad_request",
      );
    }
    expectError(
      await call("POST", "/api/rooms", {
        token: ada.token,
        body: { name: "ok1", visibility: "secret" },
      }),
      400,
      "bad_request",
    );
    const missing = roomName("missing");
    expectError(await call("GET", `/api/rooms/${missing}`, { token: ada.token }), 404, "not_found");
    expectError(
      await call("GET", `/api/rooms/${missing}/events`, { token: ada.token }),
      404,
      "not_found",
    );
    expectError(
      await call("GET", `/api/rooms/${missing}/messages`, { token: ada.token }),
      404,
      "not_found",
    );
    expectError(
      await call("POST", `/api/rooms/${missing}/messages`, {
        token: ada.token,
        body: { text: "hi", clientId: "c1" },
      }),
      404,
      "not_found",
    );
    // Asking did not create it.
    await expect(ada.api.getRoom(missing)).rejects.toMatchObject({
      status: 404,
      code: "not_found",
    });
  });
});

describe("messages and events", () => {
  it("posts over HTTP (201 {seq}); a repeated clientId gets the same seq and no new event", async () => {
    const name = await freshRoom(ada, "post");
    const first = await call("POST", `/api/rooms/${name}/messages`, {
      token: ada.token,
      body: { text: "hello", clientId: "c-1" },
    });
    expect(first.status).toBe(201);
    const { seq } = first.json as { seq: number };
    expect(Object.keys(first.json as object)).toEqual(["seq"]);
    const again = await call("POST", `/api/rooms/${name}/messages`, {
      token: ada.token,
      body: { text: "hello", clientId: "c-1" },
    });
    expect(again.status).toBe(201);
    expect(again.json).toEqual({ seq });
    // Even with a different text, the clientId decides.
    expect((await ada.api.postMessage(name, { text: "other", clientId: "c-1" })).seq).toBe(seq);
    const page = await ada.api.events(name);
    expect(page.lastSeq).toBe(seq);
    expect(page.events.filter((e) => e.type === "message.posted")).toHaveLength(1);

    // Another user's clientId space is separate.
    const bob = await guest(server.url, "bob");
    const bobs = await bob.api.postMessage(name, { text: "hi", clientId: "c-1" });
    expect(bobs.seq).toBeGreaterThan(seq);
  });

  it("refuses bad message bodies", async () => {
    const name = await freshRoom(ada, "badpost");
    const post = (body: unknown) =>
      call("POST", `/api/rooms/${name}/messages`, { token: ada.token, body });
    expectError(await post({ text: "   \n\t ", clientId: "c1" }), 400, "bad_request");
    expectError(await post({ text: "", clientId: "c1" }), 400, "bad_request");
    expectError(await post({ text: "x".repeat(4001), clientId: "c1" }), 400, "bad_request");
    expectError(await post({ text: "hi", clientId: "" }), 400, "bad_request");
    expectError(await post({ text: "hi", clientId: "c".repeat(65) }), 400, "bad_request");
    expectError(await post({ text: "hi" }), 400, "bad_request");
    expectError(await post({ text: "hi", clientId: "c2", replyTo: 999 }), 404, "not_found");
    // 4000 code points, each 2 UTF-16 units, are fine.
    expect((await post({ text: "😀".repeat(4000), clientId: "c3" })).status).toBe(201);
    expectError(await post({ text: "😀".repeat(4001), clientId: "c4" }), 400, "bad_request");
  });

  it("refuses a body over 64 KiB with 413", async () => {
    const name = await freshRoom(ada, "big");
    const big = { text: "x".repeat(70 * 1024), clientId: "big" };
    expectError(
      await call("POST", `/api/rooms/${name}/messages`, { token: ada.token, body: big }),
      413,
      "too_large",
    );
    expectError(
      await call("POST", "/api/auth/guest", { body: { name: "n".repeat(70 * 1024) } }),
      413,
      "too_large",
    );
    expectError(
      await call("POST", "/api/rooms", {
        token: ada.token,
        body: { name: "zz", topic: "t".repeat(70 * 1024) },
      }),
      413,
      "too_large",
    );
  });

  it("pages events with after/limit and refuses limit > 1000", async () => {
    const name = await freshRoom(ada, "events");
    const base = (await ada.api.getRoom(name)).lastSeq;
    for (let i = 0; i < 30; i++)
      await ada.api.postMessage(name, { text: `m${i}`, clientId: `e${i}` });
    const all = EventsPage.parse(
      (await call("GET", `/api/rooms/${name}/events`, { token: ada.token })).json,
    );
    expect(all.lastSeq).toBe(base + 30);
    expect(all.events.map((e) => e.seq)).toEqual(range(1, base + 30));
    expect(all.events[0]!.type).toBe("room.created");

    const page = await ada.api.events(name, base + 5, 10);
    expect(page.events.map((e) => e.seq)).toEqual(range(base + 6, base + 15));
    expect(page.events.map((e) => (e.data as { text: string }).text)).toEqual(
      range(5, 14).map((i) => `m${i}`),
    );
    expect(page.lastSeq).toBe(base + 30);
    expect((await ada.api.events(name, base + 30, 10)).events).toEqual([]);
    expect((await ada.api.events(name, 10_000, 10)).events).toEqual([]);
    // Ids are unique.
    expect(new Set(all.events.map((e) => e.id)).size).toBe(all.events.length);

    // Default limit 100 and max 1000.
    const q = (query: string) =>
      call("GET", `/api/rooms/${name}/events?${query}`, { token: ada.token });
    expect((await q("limit=1000")).status).toBe(200);
    for (const bad of [
      "limit=1001",
      "limit=0",
      "limit=-1",
      "limit=abc",
      "after=-1",
      "after=1.5",
      "after=x",
    ]) {
      expectError(await q(bad), 400, "bad_request");
    }
  });

  it("pages messages newest first with before/nextBefore and shows deleted messages", async () => {
    const name = await freshRoom(ada, "msgs");
    const seqs: number[] = [];
    for (let i = 0; i < 7; i++)
      seqs.push((await ada.api.postMessage(name, { text: `n${i}`, clientId: `m${i}` })).seq);

    const first = MessagesPage.parse(
      (await call("GET", `/api/rooms/${name}/messages?limit=3`, { token: ada.token })).json,
    );
    expect(first.messages.map((m) => m.id)).toEqual([seqs[6], seqs[5], seqs[4]]);
    expect(first.nextBefore).toBe(seqs[4]);
    const second = await ada.api.messages(name, { before: first.nextBefore!, limit: 3 });
    expect(second.messages.map((m) => m.id)).toEqual([seqs[3], seqs[2], seqs[1]]);
    const third = await ada.api.messages(name, { before: second.nextBefore!, limit: 3 });
    expect(third.messages.map((m) => m.id)).toEqual([seqs[0]]);
    expect(third.nextBefore).toBeNull();
    const m = first.messages[0]!;
    expect(m).toMatchObject({
      text: "n6",
      author: { id: ada.user.id, name: "ada" },
      reactions: {},
    });
    expect(m.deleted).toBeUndefined();

    // Edit, react and delete through the WebSocket; HTTP shows the current state.
    const client = await connect(server.url, name, ada);
    await client.conn.edit(seqs[1]!, "edited");
    await client.conn.react(seqs[2]!, "👍", true);
    await client.conn.delete(seqs[3]!);
    const page = await ada.api.messages(name, { limit: 10 });
    const byId = new Map(page.messages.map((x) => [x.id, x]));
    expect(byId.get(seqs[1]!)).toMatchObject({ text: "edited" });
    expect(byId.get(seqs[1]!)!.editedAt).toBeTypeOf("number");
    expect(byId.get(seqs[2]!)!.reactions).toEqual({ "👍": [ada.user.id] });
    const deleted = byId.get(seqs[3]!)!;
    expect(deleted).toMatchObject({ id: seqs[3], deleted: true, text: "" });
    expect(page.messages).toHaveLength(7);

    for (const bad of ["limit=1001", "limit=0", "before=0", "before=-3", "before=x"]) {
      expectError(
        await call("GET", `/api/rooms/${name}/messages?${bad}`, { token: ada.token }),
        400,
        "bad_request",
      );
    }
  });

  it("SDK surfaces refusals as ApiError with status and code", async () => {
    const error = await ada.api.getRoom(roomName("ghost")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found" });
  });
});

describe("the rest of the surface", () => {
  it("answers /healthz", async () => {
    const answer = await call("GET", "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true });
  });

  it("answers unknown /api paths and methods with a 404 error body", async () => {
    expectError(await call("GET", "/api/nope"), 404, "not_found");
    expectError(
      await call("GET", "/api/rooms/x/nope/deeper", { token: ada.token }),
      404,
      "not_found",
    );
    expectError(await call("DELETE", "/api/auth/guest"), 404, "not_found");
    expectError(await call("POST", "/api/nothing", { body: {} }), 404, "not_found");
  });

  it("serves an OpenAPI document with the paths", async () => {
    const answer = await call("GET", "/api/openapi.json");
    expect(answer.status).toBe(200);
    const doc = answer.json as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      "/api/auth/guest",
      "/api/rooms",
      "/api/rooms/{room}",
      "/api/rooms/{room}/events",
      "/api/rooms/{room}/messages",
      "/api/rooms/{room}/bans",
      "/api/rooms/{room}/ws",
      "/healthz",
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(Object.keys(doc.paths["/api/rooms/{room}/messages"]!).sort()).toEqual(["get", "post"]);
  });

  it("serves HTML docs", async () => {
    const answer = await call("GET", "/api/docs");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/text\/html/);
    expect(answer.text).toMatch(/<!doctype html>/i);
    expect(answer.text).toContain("/api/rooms/{room}/messages");
  });

  it("sends security headers on the API, errors, docs and the UI", async () => {
    for (const [method, path] of [
      ["GET", "/healthz"],
      ["GET", "/api/nope"],
      ["GET", "/api/docs"],
      ["GET", "/"],
      ["GET", "/api/rooms"],
    ] as const) {
      const { headers } = await call(method, path);
      const csp = headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain("unsafe-inline");
      expect(headers.get("strict-transport-security"), path).toMatch(/max-age=\d+/);
      expect(headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(headers.get("x-frame-options") ?? "", path).toMatch(/DENY|SAMEORIGIN/i);
      expect(headers.get("referrer-policy"), path).toBe("no-referrer");
    }
  });
});
