import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ErrorBody, type Session } from "../../src/protocol/index.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";

type Message = { type: string; id?: string; payload?: any };

/** A graphql-transport-ws client inside workerd: every message kept, taken in order. */
class Live {
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.accept();
    ws.addEventListener("message", ({ data }) => {
      this.messages.push(JSON.parse(String(data)));
    });
    ws.addEventListener("close", ({ code, reason }) => {
      this.closed = { code, reason };
    });
  }

  /** Opens the room's GraphQL socket, with the token at the upgrade when `session` is given. */
  static async open(room: string, session?: Session): Promise<Live> {
    const res = await upgrade(room, session);
    if (res.status !== 101 || !res.webSocket)
      throw new Error(`upgrade: ${res.status} ${await res.text()}`);
    expect(res.headers.get("sec-websocket-protocol")).toBe("graphql-transport-ws");
    return new Live(res.webSocket);
  }

  /** connection_init (with `payload`) and its ack. */
  async init(payload?: unknown): Promise<void> {
    this.send({ type: "connection_init", ...(payload === undefined ? {} : { payload }) });
    expect(await this.next()).toEqual({ type: "connection_ack" });
  }

  subscribe(id: string, query: string, variables: object = {}): void {
    this.send({ id, type: "subscribe", payload: { query, variables } });
  }

  send(message: unknown): void {
    this.#ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  async next(timeoutMs = 5000): Promise<Message> {
    await until(() => this.messages.length > 0 || this.closed !== undefined, timeoutMs);
    const message = this.messages.shift();
    if (!message) throw new Error(`closed: ${JSON.stringify(this.closed)}`);
    return message;
  }

  async closedWith(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await until(() => this.closed !== undefined, timeoutMs);
    return this.closed!;
  }

  close(): void {
    this.#ws.close(1000, "bye");
  }
}

function upgrade(room: string, session?: Session, protocol = "graphql-transport-ws") {
  return call(`/api/rooms/${room}/graphql`, {
    headers: { upgrade: "websocket", "sec-websocket-protocol": protocol },
    ...(session ? { token: session.token } : {}),
  });
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((wake) => setTimeout(wake, 10));
  }
}

const EVENTS = `subscription($room: String!, $since: Int) {
  roomEvents(room: $room, since: $since) { seq type actor { name } data }
}`;

async function post(room: string, who: Session, text: string): Promise<number> {
  const result = await roomStub(room).command(
    { type: "post", clientId: crypto.randomUUID(), text },
    who.user,
  );
  if (!result.ok) throw new Error(result.error.message);
  return result.value.seq;
}

const seqOf = (message: Message) => message.payload.data.roomEvents.seq as number;

describe("roomEvents over graphql-transport-ws", () => {
  it("replays exactly what followed `since`, then goes live, for a token at the upgrade", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "live");
    const first = await post(room, ada, "one");
    await post(room, ada, "two");
    const live = await Live.open(room, ada);
    await live.init();
    live.subscribe("s1", EVENTS, { room, since: first });
    const replayed = await live.next();
    expect(replayed).toMatchObject({ id: "s1", type: "next" });
    expect(replayed.payload.data.roomEvents).toEqual({
      seq: first + 1,
      type: "message.posted",
      actor: { name: "ada" },
      data: { text: "two" },
    });
    const third = await post(room, ada, "three");
    expect(seqOf(await live.next())).toBe(third);
    live.close();
  });

  it("authenticates by connection_init's payload, and a subscriber is no member and not online", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada, "init");
    const live = await Live.open(room);
    await live.init({ authorization: `Bearer ${bob.token}` });
    live.subscribe("s", EVENTS, { room });
    const seq = await post(room, ada, "hello bob");
    const next = await live.next();
    expect(seqOf(next)).toBe(seq);
    const info = await roomStub(room).info(ada.user);
    expect(info).toMatchObject({ ok: true, value: { members: 1, online: 0 } });
    live.close();
  });

  it("a subscription added after events were delivered gets the next ones too", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "later");
    const live = await Live.open(room, ada);
    await live.init();
    live.subscribe("first", EVENTS, { room });
    const one = await post(room, ada, "one");
    expect(await live.next()).toMatchObject({
      id: "first",
      payload: { data: { roomEvents: { seq: one } } },
    });
    live.subscribe("second", `subscription($room: String!) { roomEvents(room: $room) { seq } }`, {
      room,
    });
    live.send({ type: "ping" });
    expect(await live.next()).toEqual({ type: "pong" });
    const two = await post(room, ada, "two");
    const both = [await live.next(), await live.next()];
    expect(both.map((m) => m.id).sort()).toEqual(["first", "second"]);
    expect(both.every((m) => m.payload.data.roomEvents.seq === two)).toBe(true);
    live.send({ id: "first", type: "complete" });
    live.send({ type: "ping" });
    expect(await live.next()).toEqual({ type: "pong" });
    const three = await post(room, ada, "three");
    expect(await live.next()).toMatchObject({
      id: "second",
      payload: { data: { roomEvents: { seq: three } } },
    });
    live.close();
  });

  it("two sockets with one subscription share its rendering and get the same payloads", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "share");
    const [a, b] = [await Live.open(room, ada), await Live.open(room, ada)];
    await a.init();
    await b.init();
    a.subscribe("x", EVENTS, { room, since: 0 });
    b.subscribe("y", EVENTS, { room });
    const created = [await a.next(), await a.next()].map(seqOf);
    expect(created).toEqual([1, 2]);
    await post(room, ada, "both");
    const [fromA, fromB] = [await a.next(), await b.next()];
    expect(fromA.payload).toEqual(fromB.payload);
    expect([fromA.id, fromB.id]).toEqual(["x", "y"]);
    a.close();
    b.close();
  });

  it("keeps its subscriptions when the room is evicted (hibernation), and completes on request", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "evict");
    const live = await Live.open(room, ada);
    await live.init();
    live.subscribe("s", EVENTS, { room });
    live.subscribe("t", `subscription($room: String!) { roomEvents(room: $room) { seq } }`, {
      room,
    });
    await post(room, ada, "before");
    const before = [await live.next(), await live.next()];
    expect(before.map((m) => m.id).sort()).toEqual(["s", "t"]);

    await evictDurableObject(roomStub(room));
    const seq = await post(room, ada, "after");
    const after = [await live.next(), await live.next()];
    expect(after.find((m) => m.id === "t")?.payload).toEqual({ data: { roomEvents: { seq } } });

    live.send({ id: "t", type: "complete" });
    live.send({ type: "ping" });
    expect(await live.next()).toEqual({ type: "pong" });
    const last = await post(room, ada, "only s");
    expect(await live.next()).toMatchObject({
      id: "s",
      payload: { data: { roomEvents: { seq: last } } },
    });
    live.close();
  });
});

describe("the protocol's refusals", () => {
  it("closes as graphql-ws says: subscribe before ack 4401, a second init 4429, a reused id 4409, junk 4400", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "proto");
    const early = await Live.open(room, ada);
    early.subscribe("s", EVENTS, { room });
    expect(await early.closedWith()).toMatchObject({ code: 4401 });

    const twice = await Live.open(room, ada);
    await twice.init();
    twice.send({ type: "connection_init" });
    expect(await twice.closedWith()).toMatchObject({ code: 4429 });

    const reused = await Live.open(room, ada);
    await reused.init();
    reused.subscribe("s", EVENTS, { room });
    reused.subscribe("s", EVENTS, { room });
    expect(await reused.closedWith()).toMatchObject({
      code: 4409,
      reason: "Subscriber for s already exists",
    });

    const junk = await Live.open(room, ada);
    junk.send("{not json");
    expect((await junk.closedWith()).code).toBe(4400);
  });

  it("closes a socket that never sends connection_init with 4408, and only that one", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "idle");
    const idle = await Live.open(room, ada);
    const busy = await Live.open(room, ada);
    await busy.init();
    busy.subscribe("s", EVENTS, { room });
    expect(await idle.closedWith(6000)).toMatchObject({ code: 4408 });
    await new Promise((wake) => setTimeout(wake, 500));
    const seq = await post(room, ada, "still open");
    expect(seqOf(await busy.next())).toBe(seq);
    expect(busy.closed).toBeUndefined();
    busy.close();
  });

  it("answers a bad subscription with an error message of the contract's code, and the socket goes on", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "bad");
    const other = await newRoom(ada, "other");
    const live = await Live.open(room, ada);
    await live.init();
    const cases: [string, string, object][] = [
      ["a", `{ me { id } }`, {}],
      ["b", `subscription { roomEvents(room: "${other}") { seq } }`, {}],
      ["c", `subscription { roomEvents(room: "${room}") { nope } }`, {}],
      ["d", `subscription($s: Int) { roomEvents(room: "${room}", since: $s) { seq } }`, { s: "x" }],
      ["e", `subscription { roomEvents(room: "${room}", since: -1) { seq } }`, {}],
      ["f", `subscription {`, {}],
    ];
    for (const [id, query, variables] of cases) {
      live.subscribe(id, query, variables);
      const answer = await live.next();
      expect(answer).toMatchObject({ id, type: "error" });
      expect(answer.payload[0].extensions.code).toBe("bad_request");
    }
    expect(cases.length).toBe(6);
    live.subscribe("ok", EVENTS, { room });
    const seq = await post(room, ada, "still here");
    expect(seqOf(await live.next())).toBe(seq);
    live.close();
  });

  it("refuses a resume further back than 1000 events with conflict, saying how to catch up", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "far");
    const stub = roomStub(room);
    for (let i = 0; i < 1002; i++)
      await stub.command({ type: "post", clientId: `c${i}`, text: `m${i}` }, ada.user);
    const live = await Live.open(room, ada);
    await live.init();
    live.subscribe("far", EVENTS, { room, since: 0 });
    const answer = await live.next();
    expect(answer).toMatchObject({ id: "far", type: "error" });
    expect(answer.payload[0]).toMatchObject({ extensions: { code: "conflict" } });
    expect(answer.payload[0].message).toContain("Room.events");
    live.subscribe("near", EVENTS, { room, since: 1004 - 1000 });
    expect(seqOf(await live.next())).toBe(5);
    live.close();
  }, 60_000);
});

describe("who may subscribe", () => {
  it("a service key signs in at connection_init too; a room outside its scope is no such room", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "svc");
    const other = await newRoom(ada, "svc-other");
    const admin = await root();
    const created = await call("/api/admin/services", {
      method: "POST",
      token: admin.token,
      json: {
        name: `watcher-${crypto.randomUUID().slice(0, 6)}`,
        scope: { rooms: [room], actions: ["post"], role: "member" },
      },
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: { secret: string } };
    const live = await Live.open(room);
    await live.init({ authorization: `Bearer ${key.secret}` });
    live.subscribe("s", EVENTS, { room });
    const seq = await post(room, ada, "for the bot");
    expect(seqOf(await live.next())).toBe(seq);
    live.close();
    const outside = await Live.open(other);
    outside.send({ type: "connection_init", payload: { authorization: `Bearer ${key.secret}` } });
    expect(await outside.closedWith()).toEqual({ code: 4403, reason: "no such room" });
  });

  it("a private room is refused like a missing one, at the upgrade and at connection_init", async () => {
    const ada = await guest("ada");
    const owner = await registeredUser();
    const stranger = await guest("eve");
    const secret = `secret-${crypto.randomUUID().slice(0, 8)}`;
    const created = await call("/api/rooms", {
      method: "POST",
      token: owner.token,
      json: { name: secret, visibility: "private" },
    });
    expect(created.status).toBe(201);
    const missing = `missing-${crypto.randomUUID().slice(0, 8)}`;

    const [hidden, absent] = [await upgrade(secret, stranger), await upgrade(missing, stranger)];
    expect([hidden.status, absent.status]).toEqual([404, 404]);
    // Alike but for the two requests' ids.
    const body = async (res: Response) => {
      const { requestId: _, traceId: __, ...error } = ErrorBody.parse(await res.json()).error;
      return error;
    };
    expect(await body(hidden)).toEqual(await body(absent));

    const reasons = [];
    for (const name of [secret, missing]) {
      const live = await Live.open(name);
      live.send({
        type: "connection_init",
        payload: { authorization: `Bearer ${stranger.token}` },
      });
      reasons.push(await live.closedWith());
    }
    expect(reasons[0]).toEqual({ code: 4403, reason: "no such room" });
    expect(reasons[1]).toEqual(reasons[0]);
    expect(ada.user.id).not.toBe(stranger.user.id);
  });

  it("a bad token: 401 at the upgrade, 4403 at connection_init; none at all: 4403 naming what is needed", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "tokens");
    const forged = { ...ada, token: `${ada.token.slice(0, -4)}AAAA` };
    expect((await upgrade(room, forged)).status).toBe(401);
    const bad = await Live.open(room);
    bad.send({ type: "connection_init", payload: { authorization: `Bearer ${forged.token}` } });
    expect(await bad.closedWith()).toEqual({
      code: 4403,
      reason: "the token is invalid or expired",
    });
    const none = await Live.open(room);
    none.send({ type: "connection_init", payload: {} });
    const closed = await none.closedWith();
    expect(closed.code).toBe(4403);
    expect(closed.reason).toContain("authorization");
  });

  it("a member who is banned is cut off with 4403; the upgrade needs the subprotocol", async () => {
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada, "ban");
    await post(room, bob, "hi");
    const live = await Live.open(room, bob);
    await live.init();
    live.subscribe("s", EVENTS, { room });
    const banned = await roomStub(room).command(
      { type: "ban", clientId: "b1", userId: bob.user.id },
      ada.user,
    );
    expect(banned.ok).toBe(true);
    expect((await live.closedWith()).code).toBe(4403);
    expect((await upgrade(room, bob)).status).toBe(403);
    const plain = await upgrade(room, ada, "graphql-ws");
    expect(plain.status).toBe(400);
    expect(await plain.json()).toMatchObject({ error: { code: "bad_request" } });
  });
});

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return registered.json();
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return signedIn.json();
}

async function registeredUser(): Promise<Session> {
  const username = `own${crypto.randomUUID().slice(0, 8)}`;
  const res = await call("/api/auth/register", {
    method: "POST",
    json: { username, password: "correct horse battery" },
  });
  if (res.status !== 201) throw new Error(`register: ${res.status}`);
  return res.json();
}

describe("roomEvents over SSE at /graphql", () => {
  const SEQS = `subscription($room: String!, $since: Int) { roomEvents(room: $room, since: $since) { seq type } }`;

  function stream(session: Session, variables: object) {
    return call("/graphql", {
      method: "POST",
      token: session.token,
      headers: { accept: "text/event-stream" },
      json: { query: SEQS, variables },
    });
  }

  /** The `next` events' data of an SSE body, read until `enough` says so or the stream ends. */
  async function nexts(res: Response, enough: (data: any[]) => boolean): Promise<any[]> {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const data = () =>
      text
        .split("\n\n")
        .filter((block) => block.startsWith("event: next\n"))
        .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)));
    while (!enough(data())) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += chunk.value;
    }
    await reader.cancel();
    return data();
  }

  it("streams the room's events after `since`, with the client's selection", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "sse");
    const first = await post(room, ada, "one");
    const res = await stream(ada, { room, since: first - 1 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const second = await post(room, ada, "two");
    const events = await nexts(res, (data) => data.length >= 2);
    expect(events).toEqual([
      { data: { roomEvents: { seq: first, type: "message.posted" } } },
      { data: { roomEvents: { seq: second, type: "message.posted" } } },
    ]);
  });

  it("a private room is not_found for a stranger, as a missing room; no token is unauthorized", async () => {
    const owner = await registeredUser();
    const stranger = await guest("eve");
    const secret = `sse-secret-${crypto.randomUUID().slice(0, 8)}`;
    await call("/api/rooms", {
      method: "POST",
      token: owner.token,
      json: { name: secret, visibility: "private" },
    });
    const missing = `sse-missing-${crypto.randomUUID().slice(0, 8)}`;
    const answers = [];
    for (const room of [secret, missing])
      answers.push(await nexts(await stream(stranger, { room }), (data) => data.length > 0));
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]![0].errors[0]).toMatchObject({
      message: "no such room",
      extensions: { code: "not_found" },
    });
    const anonymous = await stream({ ...stranger, token: "" }, { room: secret });
    const [refused] = await nexts(anonymous, (data) => data.length > 0);
    expect(refused.errors[0].extensions.code).toBe("unauthorized");
  });
});

describe("what a socket may hold", () => {
  it("subscriptions up to 12 KiB survive in the attachment; more is too_large; an 11th is quota", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "big");
    const live = await Live.open(room, ada);
    await live.init();
    // Variables the operation does not declare are kept with it, and count.
    live.subscribe("big", EVENTS, { room, pad: "x".repeat(11_500) });
    live.subscribe("over", EVENTS, { room, pad: "y".repeat(1_000) });
    expect(await live.next()).toMatchObject({
      id: "over",
      type: "error",
      payload: [{ extensions: { code: "too_large" } }],
    });
    await evictDurableObject(roomStub(room));
    const seq = await post(room, ada, "still held");
    expect(await live.next()).toMatchObject({
      id: "big",
      payload: { data: { roomEvents: { seq } } },
    });
    live.close();

    const many = await Live.open(room, ada);
    await many.init();
    for (let i = 0; i < 11; i++) many.subscribe(`s${i}`, EVENTS, { room });
    expect(await many.next()).toMatchObject({
      id: "s10",
      type: "error",
      payload: [{ extensions: { code: "quota" } }],
    });
    many.close();
  });
});
