/**
 * Property-based fuzzing against a real server (fast-check).
 *
 * WebSocket: one attacker connection sends thousands of random and mutated frames (random JSON,
 * valid frames with wrong types, huge or negative numbers, unicode junk, deep nesting, strings
 * around and over 64 KiB, binary frames, unknown types, missing clientId). Every reply is a
 * contract error with a known code, or an ack/pong for a frame that was valid; the server may
 * close the attacker for abuse (4400/4429) and the attacker reconnects. Meanwhile two other
 * clients chat: they see every one of each other's messages in order, and no event of the
 * attacker that was not acked to the attacker. The server stays healthy throughout.
 *
 * HTTP: random and mutated bodies for every JSON endpoint always get a 4xx with the contract's
 * error body (or a 2xx when the body happens to be valid), never a 5xx.
 */
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ClientFrame,
  ERROR_STATUS,
  ErrorBody,
  LIMITS,
  type RoomEvent,
  type ServerFrame,
} from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  call,
  closeAll,
  createRoom,
  RawClient,
  rawConnect,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  sleep,
  startServer,
  waitUntil,
  type TestServer,
  type Who,
} from "./helpers.ts";

const WS_RUNS = Number(process.env.FUZZ_WS_RUNS ?? 6000);
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 3000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Reconnect before the command bucket (40) could run dry, so no reply is a rate limit. */
const FRAMES_PER_CONNECTION = 30;

let server: TestServer;
let olga: Who;
let alice: Who;
let bob: Who;
let mallory: Who;
let room: string;

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  olga = await signInGuest(server.url, "olga");
  alice = await signInGuest(server.url, "alice");
  bob = await signInGuest(server.url, "bob");
  mallory = await signInGuest(server.url, "mallory");
  room = roomName("fuzz");
  await createRoom(server.url, olga, room);
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

// ---------------------------------------------------------------- arbitraries

const COMMANDS = [
  "post",
  "edit",
  "delete",
  "react",
  "topic",
  "leave",
  "role",
  "kick",
  "ban",
  "unban",
  "mute",
  "unmute",
  "transfer",
  "slow_mode",
] as const;
const SIGNALS = ["typing", "read", "ping"] as const;

const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\t\n ",
    "\u0000",
    "\u202e\u202d",
    "\ud800",
    "\udfff\ud800",
    "\ufeff",
    "👍",
    "👍🏽",
    "👩‍💻",
    "🇫🇷",
    "e\u0301",
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "__proto__",
    "constructor",
    "%s%s%n",
    "../../etc/passwd",
  ),
  fc.integer({ min: 3990, max: 4010 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 60, max: 70 }).map((n) => "c".repeat(n)),
);

const weirdNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1.5,
    0.1,
    1e308,
    -1e308,
    5e-324,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Nested arrays/objects, as deep as asked. */
const nested = (depth: number, object: boolean) =>
  object
    ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`
    : `${"[".repeat(depth)}${"]".repeat(depth)}`;

const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdNumber,
  junkString,
  fc.constantFrom(null, true, false, [], {}, "1", [1], { seq: 1 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 1, max: 200 }).map((d) => JSON.parse(nested(d, d % 2 === 0))),
);

const text = fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim().length > 0);
const clientId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 64 }),
  fc.uuid(),
  fc.nat({ max: 50 }).map((n) => `c${n}`), // repeats: idempotency
);
const messageId = fc.oneof(fc.integer({ min: 1, max: 400 }), fc.constantFrom(1, 2, 3));
const emoji = fc.constantFrom("👍", "❤️", "😂", "🇫🇷", "👩‍💻", "👍🏽", "🎉");
const someone = () =>
  fc.constantFrom(olga.user.id, alice.user.id, bob.user.id, mallory.user.id, "g_nobody", "x");

/** Frames that parse: every command and signal with plausible values. */
const validFrame = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ type: fc.constant("post"), clientId, text }) },
    {
      weight: 2,
      arbitrary: fc.record({ type: fc.constant("post"), clientId, text, replyTo: messageId }),
    },
    { weight: 2, arbitrary: fc.record({ type: fc.constant("edit"), clientId, messageId, text }) },
    { weight: 2, arbitrary: fc.record({ type: fc.constant("delete"), clientId, messageId }) },
    {
      weight: 3,
      arbitrary: fc.record({
        type: fc.constant("react"),
        clientId,
        messageId,
        emoji,
        on: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("topic"),
        clientId,
        topic: fc.string({ maxLength: 50 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant("leave"), clientId }) },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constantFrom("kick", "ban", "unban", "unmute", "transfer"),
        clientId,
        userId: someone(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("role"),
        clientId,
        userId: someone(),
        role: fc.constantFrom("moderator", "member"),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("mute"),
        clientId,
        userId: someone(),
        seconds: fc.integer({ min: 1, max: 3600 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant("slow_mode"),
        clientId,
        seconds: fc.integer({ min: 0, max: 3600 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ type: "typing" }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant("read"), seq: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ type: "ping", n: 1 }) },
  );

const FIELDS = [
  "type",
  "clientId",
  "text",
  "messageId",
  "emoji",
  "on",
  "topic",
  "userId",
  "role",
  "seconds",
  "seq",
  "replyTo",
];

/** A valid frame with one thing wrong (or, sometimes, nothing wrong after all). */
const mutatedFrame = (): fc.Arbitrary<string> =>
  fc
    .tuple(
      validFrame(),
      fc.oneof(
        fc.record({
          op: fc.constant("set" as const),
          key: fc.constantFrom(...FIELDS),
          value: weirdValue,
        }),
        fc.record({ op: fc.constant("drop" as const), key: fc.constantFrom(...FIELDS) }),
        fc.record({
          op: fc.constant("type" as const),
          value: fc.oneof(
            fc.constantFrom(
              ...COMMANDS,
              ...SIGNALS,
              "invite",
              "POST",
              "Post",
              "post ",
              "",
              "welcome",
              "ack",
              "event",
              "__proto__",
            ),
            junkString,
          ),
        }),
        fc.record({
          op: fc.constant("extra" as const),
          key: fc.string({ maxLength: 12 }),
          value: weirdValue,
        }),
        fc.record({
          op: fc.constant("wrap" as const),
          how: fc.constantFrom("array", "string", "nested"),
        }),
        fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
        fc.record({ op: fc.constant("garbage" as const), tail: junkString }),
        fc.record({ op: fc.constant("proto" as const) }),
      ),
    )
    .map(([frame, mutation]) => {
      const copy: Record<string, unknown> = { ...frame };
      switch (mutation.op) {
        case "set":
          copy[mutation.key] = mutation.value;
          return JSON.stringify(copy);
        case "drop":
          delete copy[mutation.key];
          return JSON.stringify(copy);
        case "type":
          copy.type = mutation.value;
          return JSON.stringify(copy);
        case "extra":
          copy[mutation.key] = mutation.value;
          return JSON.stringify(copy);
        case "wrap":
          return mutation.how === "array"
            ? JSON.stringify([copy])
            : mutation.how === "string"
              ? JSON.stringify(JSON.stringify(copy))
              : JSON.stringify({ frame: copy, type: "post" });
        case "truncate": {
          const json = JSON.stringify(copy);
          return json.slice(0, mutation.at % json.length);
        }
        case "garbage":
          return JSON.stringify(copy) + mutation.tail;
        case "proto":
          return JSON.stringify(copy).replace(
            "{",
            '{"__proto__":{"admin":true,"type":"ban"},"constructor":{"prototype":{"admin":true}},',
          );
      }
    });

type Outgoing = { binary: false; data: string } | { binary: true; data: Buffer };

const textFrame = (data: string): Outgoing => ({ binary: false, data });

/** Every kind of frame the fuzzer sends. */
const frameArb = (): fc.Arbitrary<Outgoing> =>
  fc.oneof(
    { weight: 8, arbitrary: validFrame().map((f) => textFrame(JSON.stringify(f))) },
    { weight: 12, arbitrary: mutatedFrame().map(textFrame) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => textFrame(JSON.stringify(v))) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map(textFrame) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 300 })
        .map((b) => ({ binary: true as const, data: Buffer.from(b) })),
    },
    {
      weight: 1,
      arbitrary: validFrame().map((f) => ({
        binary: true as const,
        data: Buffer.from(JSON.stringify(f)),
      })),
    },
    {
      // Strings around the 64 KiB limit, inside a frame that is otherwise valid.
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.integer({ min: LIMITS.frameBytes - 200, max: LIMITS.frameBytes + 4096 }),
          fc.constantFrom("a", "é", "👍"),
          clientId,
        )
        .map(([bytes, unit, id]) => {
          const unitBytes = Buffer.byteLength(unit);
          return textFrame(
            JSON.stringify({
              type: "post",
              clientId: id,
              text: unit.repeat(Math.floor(bytes / unitBytes)),
            }),
          );
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 10, max: 30_000 }), fc.boolean(), fc.boolean())
        .map(([depth, object, inField]) =>
          textFrame(
            inField
              ? `{"type":"post","clientId":"deep","text":${nested(depth, object)}}`
              : nested(depth, object),
          ),
        ),
    },
  );

// ---------------------------------------------------------------- expectations

type Expect =
  | { kind: "error"; codes: string[] } // refused before it is a command
  | { kind: "command"; clientId: string }
  | { kind: "pong" }
  | { kind: "none" }; // typing, read

/** What the contract says about a frame, computed from the same schema the server uses. */
function expectationOf(frame: Outgoing): Expect {
  if (frame.binary) return { kind: "error", codes: ["bad_request"] };
  // What arrives: `ws` encodes lone surrogates as U+FFFD.
  const wire = Buffer.from(frame.data, "utf8");
  if (wire.byteLength > LIMITS.frameBytes) return { kind: "error", codes: ["too_large"] };
  let json: unknown;
  try {
    json = JSON.parse(wire.toString("utf8"));
  } catch {
    return { kind: "error", codes: ["bad_request"] };
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) return { kind: "error", codes: ["bad_request"] };
  const valid = parsed.data;
  if (valid.type === "ping") return { kind: "pong" };
  if (valid.type === "typing" || valid.type === "read") return { kind: "none" };
  return { kind: "command", clientId: valid.clientId };
}

/** The codes a refused command may get: the rules' refusals (no rate limit: see FRAMES_PER_CONNECTION). */
const COMMAND_REFUSALS = ["forbidden", "not_found", "conflict", "bad_request", "rate_limited"];
const ABUSE_CLOSES = [4400, 4429];
const STACK = /\bat \S+ \(|\.ts:\d+|\.js:\d+|Error:|stack/i;

// ---------------------------------------------------------------- the attacker

class Attacker {
  socket!: RawClient;
  sent = 0;
  connections = 0;
  abuseCloses: number[] = [];
  /** Seqs acked to the attacker, and the clientIds of valid commands it sent. */
  readonly ackedSeqs = new Set<number>();
  readonly validClientIds = new Set<string>();
  readonly problems: string[] = [];
  counts = { frames: 0, valid: 0, acks: 0, errors: 0, pongs: 0 };

  async connect(): Promise<void> {
    this.socket = await rawConnect(server.url, room, mallory.token);
    this.connections += 1;
    this.sent = 0;
  }

  /** The close code the server sent, as soon as its close frame arrived (or undefined). */
  closeCode(): number | undefined {
    const ws = this.socket.ws as unknown as { _closeFrameReceived?: boolean; _closeCode?: number };
    if (this.socket.closeCode !== undefined) return this.socket.closeCode;
    return ws._closeFrameReceived ? ws._closeCode : undefined;
  }

  replies(): ServerFrame[] {
    return this.socket.frames.filter(
      (f) => f.type === "error" || f.type === "ack" || f.type === "pong",
    );
  }

  async send(frame: Outgoing): Promise<void> {
    if (
      this.sent >= FRAMES_PER_CONNECTION ||
      this.closeCode() !== undefined ||
      !this.socket.isOpen
    ) {
      this.socket.ws.terminate();
      await this.connect();
    }
    const expected = expectationOf(frame);
    if (expected.kind === "command") this.validClientIds.add(expected.clientId);
    const before = this.replies().length;
    this.socket.send(frame.data, frame.binary);
    this.sent += 1;
    this.counts.frames += 1;
    if (expected.kind !== "error") this.counts.valid += 1;
    if (expected.kind === "none") return;
    const what = `${frame.binary ? "binary" : "text"} ${String(frame.data).slice(0, 120)}`;
    await waitUntil(
      () => this.replies().length > before || this.closeCode() !== undefined,
      `a reply to ${what}`,
      10_000,
      1,
    );
    const reply = this.replies()[before];
    if (reply === undefined) {
      const code = this.closeCode()!;
      if (!ABUSE_CLOSES.includes(code)) this.problems.push(`closed with ${code} after ${what}`);
      this.abuseCloses.push(code);
      return;
    }
    this.check(expected, reply, what);
  }

  check(expected: Expect, reply: ServerFrame, what: string): void {
    if (reply.type === "error") {
      this.counts.errors += 1;
      if (
        !(reply.code in ERROR_STATUS) ||
        reply.code === "internal" ||
        reply.code === "unavailable"
      )
        this.problems.push(`error code ${reply.code} for ${what}`);
      if (STACK.test(reply.message)) this.problems.push(`stack-like message ${reply.message}`);
    }
    if (reply.type === "ack") {
      this.counts.acks += 1;
      this.ackedSeqs.add(reply.seq);
      if (!this.validClientIds.has(reply.clientId))
        this.problems.push(`ack for an invalid frame: ${what}`);
    }
    if (reply.type === "pong") this.counts.pongs += 1;
    switch (expected.kind) {
      case "error":
        if (reply.type !== "error" || ![...expected.codes, "rate_limited"].includes(reply.code))
          this.problems.push(
            `expected ${expected.codes} for ${what}, got ${JSON.stringify(reply).slice(0, 200)}`,
          );
        break;
      case "command":
        if (
          reply.type === "ack"
            ? reply.clientId !== expected.clientId
            : reply.type !== "error" ||
              reply.clientId !== expected.clientId ||
              !COMMAND_REFUSALS.includes(reply.code)
        )
          this.problems.push(
            `expected an ack or refusal of ${expected.clientId} for ${what}, got ${JSON.stringify(reply).slice(0, 200)}`,
          );
        break;
      case "pong":
        if (reply.type !== "pong" && !(reply.type === "error" && reply.code === "rate_limited"))
          this.problems.push(
            `expected a pong for ${what}, got ${JSON.stringify(reply).slice(0, 200)}`,
          );
        break;
    }
  }
}

/** A well-behaved member who posts numbered messages, one at a time, and records what it sees. */
class Chatter {
  socket!: RawClient;
  posted: number[] = [];
  n = 0;
  readonly who: Who;
  constructor(who: Who) {
    this.who = who;
  }
  async connect() {
    this.socket = await rawConnect(server.url, room, this.who.token);
  }
  async post(): Promise<void> {
    const clientId = `${this.who.user.name}-${this.n}`;
    const acks = this.socket.of("ack").length;
    this.socket.sendJson({ type: "post", clientId, text: `${this.who.user.name} ${this.n}` });
    const ack = await this.socket.nth("ack", acks + 1, 20_000);
    expect(ack.clientId).toBe(clientId);
    this.posted.push(ack.seq);
    this.n += 1;
  }
  events(): RoomEvent[] {
    return this.socket.of("event").map((f) => f.event);
  }
}

describe("WebSocket frames", () => {
  it(`${WS_RUNS} random and mutated frames from one attacker: contract errors only, others unaffected`, async () => {
    const started = Date.now();
    const attacker = new Attacker();
    await attacker.connect(); // joins the room (one member.joined, before anyone watches)
    const chatters = [new Chatter(alice), new Chatter(bob)];
    for (const chatter of chatters) await chatter.connect();
    // From here on everything is watched by both (bob's welcome comes after alice's and bob's joins).
    const firstSeq = chatters[1]!.socket.of("welcome")[0]!.lastSeq + 1;

    // The honest chat runs beside the fuzzer, slowly (well under any limit).
    let fuzzing = true;
    const chat = (async () => {
      for (let i = 0; fuzzing && i < 10_000; i++) {
        await chatters[i % 2]!.post();
        await sleep(40);
      }
    })();
    let health = 0;
    await fc.assert(
      fc.asyncProperty(frameArb(), async (frame) => {
        await attacker.send(frame);
        if (attacker.counts.frames % 250 === 0) {
          const answer = await call(server.url, "GET", "/healthz");
          expect(answer.status).toBe(200);
          health += 1;
        }
        expect(attacker.problems).toEqual([]);
      }),
      { numRuns: WS_RUNS, seed: SEED, endOnFailure: true, verbose: 1 },
    );
    fuzzing = false;
    await chat;
    // Every frame got its answer; now the others' view.
    const end = await call(server.url, "GET", `/api/rooms/${room}/events?after=0&limit=1`, {
      token: olga.token,
    });
    const lastSeq = (end.json as { lastSeq: number }).lastSeq;
    for (const chatter of chatters)
      await waitUntil(
        () => chatter.events().at(-1)?.seq === lastSeq,
        `${chatter.who.user.name} sees ${lastSeq}`,
      );

    expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
    for (const chatter of chatters) {
      const events = chatter.events().filter((e) => e.seq >= firstSeq);
      const name = chatter.who.user.name;
      // Every event, exactly once, in seq order: no gap, no duplicate.
      expect(
        events.map((e) => e.seq),
        name,
      ).toEqual(Array.from({ length: lastSeq - firstSeq + 1 }, (_, i) => firstSeq + i));
      expect(chatter.socket.isOpen, name).toBe(true);
      expect(chatter.socket.of("error"), name).toEqual([]);
      // Everyone else's messages, all of them, in order.
      for (const other of chatters) {
        const theirs = events.filter((e) => e.actor.id === other.who.user.id);
        expect(
          theirs.every((e) => e.type === "message.posted"),
          `${name} sees only posts of ${other.who.user.name}`,
        ).toBe(true);
        expect(theirs.map((e) => e.seq)).toEqual(other.posted);
        expect(theirs.map((e) => (e.data as { text: string }).text)).toEqual(
          other.posted.map((_, i) => `${other.who.user.name} ${i}`),
        );
      }
      // The attacker's events: only those acked to the attacker (and re-joins after a leave).
      const fromAttacker = events.filter((e) => e.actor.id === mallory.user.id);
      const unacked = fromAttacker.filter(
        (e) => e.type !== "member.joined" && !attacker.ackedSeqs.has(e.seq),
      );
      expect(unacked, name).toEqual([]);
      const joins = fromAttacker.filter((e) => e.type === "member.joined").length;
      const leaves = fromAttacker.filter((e) => e.type === "member.left").length;
      expect(joins).toBeLessThanOrEqual(leaves);
      // Nobody else acted.
      const strangers = events.filter(
        (e) => ![alice.user.id, bob.user.id, mallory.user.id].includes(e.actor.id),
      );
      expect(strangers, name).toEqual([]);
      // The attacker never managed anything a member may not do.
      const forbiddenTypes = fromAttacker.filter(
        (e) =>
          ![
            "message.posted",
            "message.edited",
            "message.deleted",
            "reaction.added",
            "reaction.removed",
            "member.joined",
            "member.left",
          ].includes(e.type),
      );
      expect(forbiddenTypes, name).toEqual([]);
    }
    // The honest messages are intact (the attacker may react to them, nothing more).
    const messages = await call(server.url, "GET", `/api/rooms/${room}/messages?limit=1000`, {
      token: olga.token,
    });
    const honest = (
      messages.json as {
        messages: {
          id: number;
          text: string;
          author: { id: string };
          deleted?: boolean;
          editedAt?: number;
        }[];
      }
    ).messages.filter((m) => m.author.id !== mallory.user.id);
    for (const m of honest) {
      expect(m.deleted, `message ${m.id}`).toBeUndefined();
      expect(m.editedAt, `message ${m.id}`).toBeUndefined();
    }
    const info = await call(server.url, "GET", `/api/rooms/${room}`, { token: olga.token });
    expect(info.json).toMatchObject({ topic: "" });
    const members = await call(server.url, "GET", `/api/rooms/${room}/members`, {
      token: olga.token,
    });
    const roles = Object.fromEntries(
      (members.json as { members: { id: string; role: string }[] }).members.map((m) => [
        m.id,
        m.role,
      ]),
    );
    expect(roles[olga.user.id]).toBe("owner");
    expect([undefined, "member"]).toContain(roles[mallory.user.id]);

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz ws: ${attacker.counts.frames} frames (${attacker.counts.valid} valid) in ${seconds} s over ${attacker.connections} connections; ` +
        `${attacker.counts.errors} errors, ${attacker.counts.acks} acks, ${attacker.counts.pongs} pongs, ` +
        `${attacker.abuseCloses.length} abuse closes (${[...new Set(attacker.abuseCloses)].join("/")}); ` +
        `${chatters[0]!.posted.length + chatters[1]!.posted.length} honest messages; ${health} health checks`,
    );
    expect(attacker.counts.frames).toBe(WS_RUNS);
  });

  it("a text frame that is not UTF-8 closes at most that socket; the server stays up", async () => {
    const socket = await rawConnect(server.url, room, mallory.token);
    const watcher = await rawConnect(server.url, room, alice.token);
    // ws sends the bytes as a text frame without checking them.
    socket.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    await sleep(200);
    expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
    await watcher.roundTrip();
    expect(watcher.isOpen).toBe(true);
    expect(watcher.of("error")).toEqual([]);
  });
});

// ---------------------------------------------------------------- HTTP bodies

describe("HTTP bodies", () => {
  it(`${HTTP_RUNS} random and mutated bodies on every JSON endpoint: 4xx with the error body, never 5xx`, async () => {
    const started = Date.now();
    const user = await register(server.url, "fuzzer", "fuzzer password");
    const tokens = { guest: mallory.token, user: user.token };
    type Target = {
      path: string;
      token?: keyof typeof tokens;
      valid: () => fc.Arbitrary<Record<string, unknown>>;
    };
    const targets: Target[] = [
      {
        path: "/api/rooms",
        token: "guest",
        valid: () =>
          fc.record({
            name: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/),
            topic: fc.string({ maxLength: 20 }),
            visibility: fc.constantFrom("public", "private"),
          }),
      },
      {
        path: `/api/rooms/${room}/messages`,
        token: "guest",
        valid: () => fc.record({ text, clientId }),
      },
      { path: `/api/rooms/${room}/commands`, token: "guest", valid: validFrame },
      { path: `/api/rooms/${room}/commands`, token: "user", valid: validFrame },
      {
        path: `/api/rooms/${room}/members`,
        token: "guest",
        valid: () =>
          fc.record({
            username: fc.constantFrom("fuzzer", "alice", "nobody1"),
            role: fc.constantFrom("member", "moderator"),
          }),
      },
      {
        path: "/api/auth/guest",
        valid: () => fc.record({ name: fc.stringMatching(/^[A-Za-z0-9_.-]{3,12}$/) }),
      },
      {
        path: "/api/auth/register",
        valid: () =>
          fc.record({
            username: fc.stringMatching(/^[A-Za-z0-9_.-]{3,12}$/),
            password: fc.string({ minLength: 8, maxLength: 20 }),
          }),
      },
      {
        path: "/api/auth/login",
        valid: () =>
          fc.record({
            username: fc.constantFrom("fuzzer", "nobody1"),
            password: fc.string({ minLength: 8, maxLength: 20 }),
          }),
      },
      {
        path: "/api/auth/refresh",
        valid: () =>
          fc.record({
            refreshToken: fc.oneof(
              fc.string(),
              fc.constant(`rt1.ZnV6emVy.${"0".repeat(32)}.${"A".repeat(43)}`),
            ),
          }),
      },
      { path: "/api/auth/logout", valid: () => fc.record({ refreshToken: fc.string() }) },
      {
        path: "/api/auth/password",
        token: "user",
        valid: () =>
          fc.record({
            currentPassword: fc.string({ minLength: 8, maxLength: 20 }),
            newPassword: fc.string({ minLength: 8, maxLength: 20 }),
          }),
      },
    ];
    const body = (target: Target): fc.Arbitrary<{ body: string; type: string | undefined }> =>
      fc
        .tuple(
          fc.oneof(
            { weight: 3, arbitrary: target.valid().map((v) => JSON.stringify(v)) },
            {
              weight: 6,
              arbitrary: fc
                .tuple(target.valid(), fc.string({ maxLength: 14 }), weirdValue, fc.boolean())
                .map(([v, key, value, pickExisting]) => {
                  const keys = Object.keys(v);
                  const k = pickExisting && keys.length ? keys[key.length % keys.length]! : key;
                  return JSON.stringify({ ...v, [k]: value });
                }),
            },
            { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
            { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
            {
              weight: 1,
              arbitrary: fc.integer({ min: 1, max: 20_000 }).map((d) => nested(d, d % 2 === 0)),
            },
            {
              weight: 1,
              arbitrary: fc
                .integer({ min: LIMITS.frameBytes - 50, max: LIMITS.frameBytes + 1000 })
                .map((n) => JSON.stringify({ text: "x".repeat(n), clientId: "big" })),
            },
          ),
          fc.oneof(
            { weight: 8, arbitrary: fc.constant("application/json") },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                undefined,
                "text/plain",
                "application/json; charset=utf-16",
                "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded",
                "application/JSON",
              ),
            },
          ),
        )
        .map(([b, type]) => ({ body: b, type }));
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets).chain((target) => fc.tuple(fc.constant(target), body(target))),
        async ([target, { body: payload, type }]) => {
          const headers: Record<string, string> = {};
          if (type !== undefined) headers["content-type"] = type;
          if (target.token) headers.authorization = `Bearer ${tokens[target.token]}`;
          const response = await fetch(server.url + target.path, {
            method: "POST",
            headers,
            body: payload,
          });
          const raw = await response.text();
          requests += 1;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const what = `${target.path} ${type} ${payload.slice(0, 120)} → ${response.status} ${raw.slice(0, 200)}`;
          if (response.status >= 500) problems.push(what);
          else if (response.status >= 400) {
            let json: unknown;
            try {
              json = JSON.parse(raw);
            } catch {
              json = undefined;
            }
            const parsed = ErrorBody.safeParse(json);
            if (!parsed.success) problems.push(`not the error body: ${what}`);
            else if (ERROR_STATUS[parsed.data.error.code] !== response.status)
              problems.push(`code/status mismatch: ${what}`);
            else if (STACK.test(parsed.data.error.message))
              problems.push(`stack-like message: ${what}`);
            if (response.status === 429 && !response.headers.get("retry-after"))
              problems.push(`429 without Retry-After: ${what}`);
          } else if (response.status < 200) problems.push(what);
          expect(problems).toEqual([]);
        },
      ),
      { numRuns: HTTP_RUNS, seed: SEED, endOnFailure: true },
    );
    // The password did not change by accident, and the server is healthy.
    expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz http: ${requests} bodies in ${seconds} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
    expect(requests).toBe(HTTP_RUNS);
  });
});
