/**
 * Property-based fuzzing against a real server (fast-check), judged by an oracle written from the
 * contract (./contract.ts), not by the product's own schemas.
 *
 * WebSocket: one attacker connection sends thousands of generated frames: plausible commands
 * and signals aimed at real and missing messages, exact replays, the same frames mutated (wrong
 * types, dropped fields, unknown types, wrapping, truncation, prototype keys), random JSON and
 * text, binary frames, frames on both sides of 64 KiB, deep nesting. For each frame the oracle
 * predicts the answer: a contract error with the right code and clientId echo for an invalid
 * one; for a valid one an ack (with the original seq for a repeat) unless a documented rule
 * refuses it (a missing message: not_found; someone else's message or moderation: forbidden);
 * nothing at all for typing and read. The attacker reconnects before any limit could run out,
 * so no answer may be rate_limited and no close may happen (abuse closes are e2e's subject).
 * Meanwhile two other clients chat: they see every one of each other's messages in order, and
 * no event of the attacker that was not acked to the attacker.
 *
 * Query strings: generated parameters for each read route with a query (contract.ts,
 * ROOM_QUERY_ROUTES), judged by the same kind of oracle: 200 with the right seq, or 400.
 *
 * HTTP: the same oracle for every JSON endpoint, on a room where the test is the only writer, so
 * it predicts exact seqs; accounts, passwords, sessions and rooms are modelled too. A valid body
 * must succeed unless a documented rule refuses it; never a 5xx, never `internal`.
 */
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  clientId,
  framePlan,
  junkString,
  messageRef,
  mutate,
  nested,
  padTo,
  plausible,
  plausibleFrame,
  resolve,
  text,
  weirdValue,
  type Plan,
} from "./arbitraries.ts";
import {
  classifyFrame,
  clientIdVerdict,
  CONTRACT,
  describeOutcome,
  echoOf,
  errorBodyProblem,
  guestNameVerdict,
  passwordVerdict,
  queryVerdict,
  ROOM_NAME,
  ROOM_QUERY_ROUTES,
  RoomModel,
  seqAtTimeOf,
  seqFits,
  seqVerdict,
  STACK,
  STATUS_OF,
  textVerdict,
  topicVerdict,
  usernameVerdict,
  type Code,
  type Command,
  type Echo,
  type Outcome,
  type Verdict,
} from "./contract.ts";
import {
  assertNoInvalidFrames,
  call,
  closeAll,
  createRoom,
  handled,
  RawClient,
  rawConnect,
  register,
  roomName,
  SECURITY_VARS,
  signInGuest,
  startServer,
  waitUntil,
  type TestServer,
  type Who,
} from "./helpers.ts";

const WS_RUNS = Number(process.env.FUZZ_WS_RUNS ?? 6000);
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 3000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/**
 * Each property stops after this long even if its runs are not done (a very slow machine), so
 * the test ends within its timeout; the runs made are reported and all of them checked.
 */
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 90_000);
const TEST_TIMEOUT_MS = BUDGET_MS + 90_000;
/** The fewest runs a property may stop at: one per 90 ms of its budget on average. */
const atLeast = (runs: number) => Math.min(runs, Math.floor(BUDGET_MS / 90));
/** Frames per connection: under the command burst (40), so nothing is ever rate limited. */
const FRAMES_PER_CONNECTION = 30;
/** Refused-as-malformed frames per connection: under the burst (20) that ends in a 4400 close. */
const MALFORMED_PER_CONNECTION = 18;
/** SECURITY_VARS' AUTH_WINDOW_SECONDS: the per-account lockout's window. */
const AUTH_WINDOW_MS = Number(SECURITY_VARS.AUTH_WINDOW_SECONDS) * 1000;
const LOCKOUT_FAILURES = 5;

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

// ---------------------------------------------------------------- WebSocket expectations

/** A reply the oracle allows. */
type Allowed =
  | { reply: "error"; code: Code; echo: Echo }
  | { reply: "ack"; clientId: string; outcome: Extract<Outcome, { ok: true }> }
  | { reply: "pong" }
  | { reply: "none" };

type Outgoing = { binary: boolean; data: string | Buffer };

/** How a frame reads before any room rule applies. */
type Reading =
  | { kind: "refused"; code: Code; echo: Echo }
  | { kind: "pong" | "none" }
  | { kind: "command"; command: Command }
  | { kind: "unclear"; inner: Reading; echo: Echo }; // valid by one reading, bad_request by another

function read(frame: Outgoing): { reading: Reading; verdict: Verdict } {
  // What arrives: `ws` sends lone surrogates as U+FFFD.
  const wire = frame.binary ? (frame.data as Buffer) : Buffer.from(frame.data as string, "utf8");
  let json: unknown;
  let parsed = true;
  try {
    json = JSON.parse(wire.toString("utf8"));
  } catch {
    parsed = false;
  }
  const maybeEcho = (): Echo => {
    const echo = echoOf(json);
    return echo.rule === "absent" ? echo : { rule: "optional", clientId: echo.clientId };
  };
  // "Every frame is a text frame"; "A frame is at most 64 KiB".
  if (frame.binary)
    return {
      reading: { kind: "refused", code: "bad_request", echo: maybeEcho() },
      verdict: "bad",
    };
  if (wire.byteLength > CONTRACT.frameBytes)
    return { reading: { kind: "refused", code: "too_large", echo: maybeEcho() }, verdict: "bad" };
  if (!parsed)
    return {
      reading: { kind: "refused", code: "bad_request", echo: { rule: "absent" } },
      verdict: "bad",
    };
  const verdict = classifyFrame(json);
  if (verdict.verdict === "bad")
    return {
      reading: { kind: "refused", code: "bad_request", echo: echoOf(json) },
      verdict: "bad",
    };
  const inner: Reading =
    verdict.kind === "command"
      ? { kind: "command", command: verdict.command }
      : { kind: verdict.type === "ping" ? "pong" : "none" };
  if (verdict.verdict === "ok") return { reading: inner, verdict: "ok" };
  return { reading: { kind: "unclear", inner, echo: echoOf(json) }, verdict: "unclear" };
}

function allowedOf(reading: Reading, model: RoomModel, userId: string): Allowed[] {
  switch (reading.kind) {
    case "refused":
      return [{ reply: "error", code: reading.code, echo: reading.echo }];
    case "pong":
      return [{ reply: "pong" }];
    case "none":
      return [{ reply: "none" }];
    case "unclear":
      return [
        ...allowedOf(reading.inner, model, userId),
        { reply: "error", code: "bad_request", echo: reading.echo },
      ];
    case "command": {
      const { clientId } = reading.command;
      return model.outcomes(userId, reading.command).map((o) =>
        o.ok
          ? { reply: "ack" as const, clientId, outcome: o }
          : {
              reply: "error" as const,
              code: o.code,
              echo: { rule: "required" as const, clientId },
            },
      );
    }
  }
}

const describeAllowed = (allowed: Allowed[]) =>
  allowed
    .map((a) =>
      a.reply === "error"
        ? `${a.code}${a.echo.rule === "absent" ? "" : ` (${a.echo.rule} ${JSON.stringify(a.echo.clientId)})`}`
        : a.reply === "ack"
          ? `${describeOutcome(a.outcome)} for ${JSON.stringify(a.clientId)}`
          : a.reply,
    )
    .join(" | ");

type Reply = { type: string; code?: unknown; message?: unknown; clientId?: unknown; seq?: unknown };

/** The allowed reply that `reply` is, if any (checked by hand: no product schema involved). */
function match(reply: Reply, allowed: Allowed[]): Allowed | undefined {
  for (const a of allowed) {
    if (a.reply === "pong" && reply.type === "pong") return a;
    if (a.reply === "ack" && reply.type === "ack") {
      if (reply.clientId === a.clientId && seqFits(reply.seq, a.outcome.seq)) return a;
    }
    if (a.reply === "error" && reply.type === "error" && reply.code === a.code) {
      const echoed = Object.hasOwn(reply, "clientId") ? reply.clientId : undefined;
      const fits =
        a.echo.rule === "absent"
          ? echoed === undefined
          : a.echo.rule === "required"
            ? echoed === a.echo.clientId
            : echoed === undefined || echoed === a.echo.clientId;
      if (fits && typeof reply.message === "string" && !STACK.test(reply.message)) return a;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- the attacker

/** Event and ack frames of every watched socket, fed to the model as they arrive. */
class Watch {
  readonly #cursors = new Map<RawClient, number>();
  readonly #authors = new Map<RawClient, string>();
  readonly model: RoomModel;
  constructor(model: RoomModel) {
    this.model = model;
  }
  /** Watch `socket`; with `author`, its acks are that author's posts (honest chatters). */
  add(socket: RawClient, author?: string): void {
    this.#cursors.set(socket, 0);
    if (author) this.#authors.set(socket, author);
  }
  sync(): void {
    for (const [socket, from] of this.#cursors) {
      const author = this.#authors.get(socket);
      for (const frame of socket.frames.slice(from)) {
        if (frame.type === "event") this.model.observe(frame.event);
        if (frame.type === "ack" && author)
          this.model.observe({ seq: frame.seq, type: "message.posted", actor: { id: author } });
      }
      this.#cursors.set(socket, socket.frames.length);
    }
  }
}

class Attacker {
  socket!: RawClient;
  sent = 0;
  malformed = 0;
  connections = 0;
  sentinels = 0;
  /** Seqs acked to the attacker. */
  readonly ackedSeqs = new Set<number>();
  /** Wire texts of commands that were applied: sent again as exact replays. */
  readonly applied: string[] = [];
  readonly problems: string[] = [];
  readonly counts = {
    frames: 0,
    verdicts: { ok: 0, bad: 0, unclear: 0 } as Record<Verdict, number>,
    replies: {} as Record<string, number>,
    /** Applied commands (not repeats) by type. */
    acked: {} as Record<string, number>,
  };

  readonly who: Who;
  readonly model: RoomModel;
  readonly watch: Watch;
  constructor(who: Who, model: RoomModel, watch: Watch) {
    this.who = who;
    this.model = model;
    this.watch = watch;
  }

  async connect(): Promise<void> {
    this.socket = await rawConnect(server.url, room, this.who.token);
    this.watch.add(this.socket);
    this.model.connected(this.who.user.id, this.socket.of("welcome")[0]!.lastSeq);
    this.connections += 1;
    this.sent = 0;
    this.malformed = 0;
  }

  /** The close code the server sent, as soon as its close frame arrived (or undefined). */
  closeCode(): number | undefined {
    const ws = this.socket.ws as unknown as { _closeFrameReceived?: boolean; _closeCode?: number };
    if (this.socket.closeCode !== undefined) return this.socket.closeCode;
    return ws._closeFrameReceived ? ws._closeCode : undefined;
  }

  replies(): Reply[] {
    return this.socket.frames.filter(
      (f) => f.type === "error" || f.type === "ack" || f.type === "pong",
    ) as Reply[];
  }

  outgoing(plan: Plan): Outgoing {
    const userId = this.who.user.id;
    switch (plan.kind) {
      case "plausible": {
        const frame = resolve(plan.base, this.model, userId) as Record<string, unknown>;
        const data = plan.mutation ? mutate(frame, plan.mutation) : JSON.stringify(frame);
        return plan.binary ? { binary: true, data: Buffer.from(data) } : { binary: false, data };
      }
      case "padded":
        return { binary: false, data: padTo(plan.base, plan.bytes) };
      case "text":
        return { binary: false, data: plan.data };
      case "bytes":
        return { binary: true, data: Buffer.from(plan.data) };
      case "replay":
        return {
          binary: false,
          data: this.applied.length
            ? this.applied[plan.pick % this.applied.length]!
            : '{"type":"ping"}',
        };
    }
  }

  async send(plan: Plan): Promise<void> {
    const frame = this.outgoing(plan);
    const { reading, verdict } = read(frame);
    const silent =
      reading.kind === "none" || (reading.kind === "unclear" && reading.inner.kind === "none");
    const mayBeMalformed = verdict !== "ok";
    if (
      !this.socket.isOpen ||
      this.closeCode() !== undefined ||
      this.sent + (silent ? 2 : 1) > FRAMES_PER_CONNECTION ||
      (mayBeMalformed && this.malformed >= MALFORMED_PER_CONNECTION)
    ) {
      this.socket.ws.terminate();
      await this.connect();
    }
    this.watch.sync();
    const allowed = allowedOf(reading, this.model, this.who.user.id);
    const what = `${frame.binary ? "binary" : "text"} ${String(frame.data).slice(0, 160)}`;
    const before = this.replies().length;
    this.socket.send(frame.data, frame.binary);
    this.sent += 1;
    this.counts.frames += 1;
    this.counts.verdicts[verdict] += 1;

    let replies: Reply[];
    if (allowed.some((a) => a.reply === "none")) {
      // Nothing may come back; a refusal that must come after it shows that nothing did.
      const sentinel = `§sentinel-${++this.sentinels}`;
      this.socket.sendJson({ type: "topic", clientId: sentinel, topic: "" });
      this.sent += 1;
      await this.#waitFor(() => this.replies().some((r) => r.clientId === sentinel), what);
      const all = this.replies().slice(before);
      const at = all.findIndex((r) => r.clientId === sentinel);
      if (at < 0) return;
      const answer = all[at]!;
      if (answer.type !== "error" || answer.code !== "forbidden")
        this.problems.push(`the sentinel after ${what} got ${JSON.stringify(answer)}`);
      replies = all.slice(0, at);
    } else {
      await this.#waitFor(() => this.replies().length > before, what);
      replies = this.replies().slice(before, before + 1);
      if (replies.length === 0) return;
    }
    if (replies.length > 1) {
      this.problems.push(`${replies.length} replies to ${what}: ${JSON.stringify(replies)}`);
      return;
    }
    const reply = replies[0];
    const kind = reply
      ? reply.type === "error"
        ? `error ${String(reply.code)}`
        : reply.type
      : "none";
    this.counts.replies[kind] = (this.counts.replies[kind] ?? 0) + 1;
    const matched = reply ? match(reply, allowed) : allowed.find((a) => a.reply === "none");
    if (!matched) {
      this.problems.push(
        `${what}\n    expected ${describeAllowed(allowed)}\n    got ${reply ? JSON.stringify(reply).slice(0, 300) : "no reply"}`,
      );
      return;
    }
    if (reply?.type === "error" && (reply.code === "bad_request" || reply.code === "too_large"))
      this.malformed += 1;
    if (matched.reply === "ack") {
      const seq = reply!.seq as number;
      this.ackedSeqs.add(seq);
      matched.outcome.apply(seq);
      if (!matched.outcome.replay) {
        const type = reading.kind === "command" ? reading.command.type : "unclear";
        this.counts.acked[type] = (this.counts.acked[type] ?? 0) + 1;
        if (!frame.binary) this.applied.push(frame.data as string);
      }
      if (matched.outcome.settle) {
        // Whether an event was logged shows in the events: the model reads them up to the ack
        // before it predicts anything else (an action there is the top of the undo stack).
        await waitUntil(
          () => (this.socket.of("event").at(-1)?.event.seq ?? 0) >= seq,
          `the events up to ${seq}`,
          10_000,
          1,
        );
        this.watch.sync();
      }
    }
  }

  async #waitFor(done: () => boolean, what: string): Promise<void> {
    await waitUntil(
      () => done() || this.closeCode() !== undefined,
      `a reply to ${what}`,
      10_000,
      1,
    );
    if (!done()) this.problems.push(`closed with ${this.closeCode()} after ${what}`);
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
  events() {
    return this.socket.of("event").map((f) => f.event);
  }
}

type LoggedEvent = { seq: number; type: string; redacted?: true; data?: unknown };

/**
 * Events as they were delivered live, as the log serves them now: "empties the text of every
 * event that carried the message's text (served with `redacted: true`)". Every event the log
 * marks redacted must have had text, and keeps everything else.
 */
function asLoggedNow<T extends LoggedEvent>(live: T[], log: LoggedEvent[]): T[] {
  const redacted = new Set(log.filter((e) => e.redacted === true).map((e) => e.seq));
  return live.map((e) => {
    if (!redacted.has(e.seq)) return e;
    const data = e.data as { text?: unknown };
    expect(typeof data.text, `event ${e.seq} had text`).toBe("string");
    return { ...e, redacted: true, data: { ...data, text: "" } };
  });
}

/** The whole log, oldest first, as the owner sees it. */
async function logOf(name: string, owner: Who) {
  const events: {
    seq: number;
    type: string;
    actor: { id: string };
    data: unknown;
    redacted?: true;
  }[] = [];
  for (;;) {
    const page = await call(
      server.url,
      "GET",
      `/api/rooms/${name}/events?after=${events.at(-1)?.seq ?? 0}&limit=1000`,
      { token: owner.token },
    );
    expect(page.status, page.text).toBe(200);
    const { events: batch, lastSeq } = page.json as { events: typeof events; lastSeq: number };
    events.push(...batch);
    if (batch.length === 0 || events.at(-1)!.seq >= lastSeq) return { events, lastSeq };
  }
}

type MessageState = {
  id: number;
  author: { id: string };
  text: string;
  deleted?: boolean;
  redacted?: boolean;
  editedAt?: number;
  reactions: Record<string, string[]>;
};

/** Every message of a room in its current state, newest first, paged through. */
async function messagesOf(name: string, owner: Who): Promise<MessageState[]> {
  const messages: MessageState[] = [];
  for (let before: number | null | undefined; before !== null;) {
    const query = before === undefined ? "" : `&before=${before}`;
    const answer = await call(server.url, "GET", `/api/rooms/${name}/messages?limit=1000${query}`, {
      token: owner.token,
    });
    expect(answer.status, answer.text).toBe(200);
    const page = answer.json as { messages: MessageState[]; nextBefore: number | null };
    messages.push(...page.messages);
    before = page.nextBefore;
  }
  return messages;
}

/** The model's view of `who` in a room equals the server's: their messages and their reactions. */
async function expectModelMatches(name: string, owner: Who, model: RoomModel, who: Who) {
  const messages = await messagesOf(name, owner);
  const id = who.user.id;
  const theirs = messages
    .filter((m) => m.author.id === id)
    .map((m) => ({ id: m.id, deleted: m.deleted === true, redacted: m.redacted === true }))
    .sort((a, b) => a.id - b.id);
  expect(theirs, `${who.user.name}'s messages`).toEqual(
    model.messagesOf(id).sort((a, b) => a.id - b.id),
  );
  // "The message is served with `text: \"\"` and `redacted: true`."
  for (const m of messages.filter((m) => m.redacted))
    expect(m.text, `redacted message ${m.id}`).toBe("");
  // Whether a redacted message still shows its reactions is not written: not compared.
  const live = new Set(messages.filter((m) => !m.deleted && !m.redacted).map((m) => m.id));
  const reactions = messages
    .filter((m) => live.has(m.id))
    .flatMap((m) =>
      Object.entries(m.reactions)
        .filter(([, users]) => users.includes(id))
        .map(([e]) => `${m.id} ${e}`),
    )
    .sort();
  expect(reactions, `${who.user.name}'s reactions`).toEqual(
    model.reactionsOf(id).filter((r) => live.has(Number(r.split(" ")[0]))),
  );
}

describe("WebSocket frames", () => {
  it(
    `${WS_RUNS} generated frames from one attacker: every answer as the contract says, others unaffected`,
    async () => {
      const started = Date.now();
      const model = new RoomModel({ exact: false });
      for (const event of (await logOf(room, olga)).events) model.observe(event);
      const watch = new Watch(model);
      const attacker = new Attacker(mallory, model, watch);
      await attacker.connect(); // joins the room (one member.joined, before anyone watches)
      const chatters = [new Chatter(alice), new Chatter(bob)];
      for (const chatter of chatters) {
        await chatter.connect();
        watch.add(chatter.socket, chatter.who.user.id);
        model.connected(chatter.who.user.id, chatter.socket.of("welcome")[0]!.lastSeq);
      }
      // From here on everything is watched by both (bob's welcome comes after alice's and bob's joins).
      const firstSeq = chatters[1]!.socket.of("welcome")[0]!.lastSeq + 1;

      // The honest chat runs beside the fuzzer, at its own pace (one post at a time, well under
      // any limit).
      let fuzzing = true;
      const chat = (async () => {
        for (let i = 0; fuzzing && i < 10_000; i++) {
          await chatters[i % 2]!.post();
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      })();
      let health = 0;
      const someone = () =>
        fc.constantFrom(
          olga.user.id,
          alice.user.id,
          bob.user.id,
          mallory.user.id,
          "g_nobody",
          "x",
          "",
          "u".repeat(65),
        );
      await fc.assert(
        fc.asyncProperty(framePlan(someone), async (plan) => {
          await attacker.send(plan);
          if (attacker.counts.frames % 250 === 0) {
            const answer = await call(server.url, "GET", "/healthz");
            expect(answer.status).toBe(200);
            health += 1;
          }
          expect(attacker.problems).toEqual([]);
        }),
        {
          numRuns: WS_RUNS,
          seed: SEED,
          endOnFailure: true,
          verbose: 1,
          interruptAfterTimeLimit: BUDGET_MS,
        },
      );
      fuzzing = false;
      await chat;
      // Every frame got its answer; now the others' view.
      const { events: log, lastSeq } = await logOf(room, olga);
      for (const chatter of chatters)
        await waitUntil(
          () => chatter.events().at(-1)?.seq === lastSeq,
          `${chatter.who.user.name} sees ${lastSeq}`,
        );
      watch.sync(); // every event is in: the model's memberships are final

      expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
      for (const chatter of chatters) {
        const events = chatter.events().filter((e) => e.seq >= firstSeq);
        const name = chatter.who.user.name;
        // Every event, exactly once, in seq order, as in the log: no gap, no duplicate.
        expect(asLoggedNow(events, log), name).toEqual(log.filter((e) => e.seq >= firstSeq));
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
              "message.restored",
              "message.redacted",
              "reaction.added",
              "reaction.removed",
              "member.joined",
              "member.left",
            ].includes(e.type),
        );
        expect(forbiddenTypes, name).toEqual([]);
      }
      // The honest messages are intact (the attacker may react to them, nothing more).
      const messages = await messagesOf(room, olga);
      for (const m of messages.filter((m) => m.author.id !== mallory.user.id)) {
        expect(m.deleted, `message ${m.id}`).toBeUndefined();
        expect(m.redacted, `message ${m.id}`).toBeUndefined();
        expect(m.editedAt, `message ${m.id}`).toBeUndefined();
      }
      // Every compensating event of the attacker names an action of the attacker.
      const actions = new Map(log.map((e) => [e.seq, e]));
      for (const e of log.filter((e) => e.actor.id === mallory.user.id)) {
        const { undoes, redoes } = (e.data ?? {}) as { undoes?: number; redoes?: number };
        for (const of of [undoes, redoes].filter((s) => s !== undefined))
          expect(actions.get(of)?.actor.id, `event ${e.seq} takes back ${of}`).toBe(
            mallory.user.id,
          );
      }
      // The oracle's model of the attacker is the server's state.
      await expectModelMatches(room, olga, model, mallory);
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
      expect(roles[mallory.user.id]).toBe(model.isMember(mallory.user.id) ? "member" : undefined);

      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const { verdicts, replies, acked } = attacker.counts;
      console.log(
        `fuzz ws: ${attacker.counts.frames} of ${WS_RUNS} frames in ${seconds} s over ${attacker.connections} connections; ` +
          `contract verdicts ${JSON.stringify(verdicts)}; replies ${JSON.stringify(replies)}; ` +
          `applied ${JSON.stringify(acked)}; ` +
          `${attacker.applied.length} applied; ${chatters[0]!.posted.length + chatters[1]!.posted.length} honest messages; ${health} health checks`,
      );
      const frames = attacker.counts.frames;
      expect(frames).toBeGreaterThanOrEqual(atLeast(WS_RUNS));
      // The generators reach every part of the oracle.
      expect(verdicts.ok).toBeGreaterThan(frames / 5);
      expect(verdicts.bad).toBeGreaterThan(frames / 5);
      for (const kind of [
        "ack",
        "pong",
        "none",
        "error bad_request",
        "error too_large",
        "error forbidden",
        "error not_found",
        "error conflict",
      ])
        expect(replies[kind], kind).toBeGreaterThan(0);
      // Undo and redaction were applied, not only refused (redo succeeds only right after an
      // undo, too rarely to require at every seed: its count is in the line above).
      for (const type of ["undo", "redact"])
        expect(acked[type] ?? 0, `${type} applied`).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );

  it("a message of only Unicode white space is refused, U+0085 (NEXT LINE) included", async () => {
    // PROTOCOL.md: text is "not only white space". U+0085 has Unicode's White_Space property,
    // but JS `trim` keeps it, so a check built on `trim` lets a blank message through.
    const socket = await rawConnect(server.url, room, alice.token);
    for (const [i, blank] of ["\u0085", " \u0085\t", "\u00a0\u0085\u3000"].entries()) {
      const answer = await call(server.url, "POST", `/api/rooms/${room}/messages`, {
        token: alice.token,
        body: { text: blank, clientId: `blank-http-${i}` },
      });
      expect({ text: blank, status: answer.status, body: answer.text }).toMatchObject({
        status: 400,
      });
      const errors = socket.of("error").length;
      socket.sendJson({ type: "post", clientId: `blank-ws-${i}`, text: blank });
      await waitUntil(
        () =>
          socket.of("error").length > errors ||
          socket.of("ack").some((a) => a.clientId === `blank-ws-${i}`),
        "an answer",
      );
      expect(
        socket.frames.filter((f) => f.type === "ack" || f.type === "error").at(-1),
      ).toMatchObject({
        type: "error",
        code: "bad_request",
        clientId: `blank-ws-${i}`,
      });
    }
  });

  it("a text frame that is not UTF-8 closes at most that socket; the server stays up", async () => {
    const socket = await rawConnect(server.url, room, mallory.token);
    const watcher = await rawConnect(server.url, room, alice.token);
    // ws sends the bytes as a text frame without checking them.
    socket.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    // Handled once the socket is closed, or once a frame sent after it is answered (a ping with
    // an extra field goes through the room, in order, unlike the runtime's automatic pong).
    socket.sendJson({ type: "ping", after: "invalid UTF-8" });
    const ws = socket.ws as unknown as { _closeFrameReceived?: boolean; _closeCode?: number };
    await waitUntil(
      () =>
        socket.of("pong").length > 0 || ws._closeFrameReceived || socket.closeCode !== undefined,
      "the invalid frame handled: closed, or the next frame answered",
    );
    const closed = socket.closeCode ?? (ws._closeFrameReceived ? ws._closeCode : undefined);
    console.log(
      `invalid UTF-8: ${closed === undefined ? `answered ${JSON.stringify(socket.frames.filter((f) => f.type === "error" || f.type === "pong"))}` : `closed ${closed}`}`,
    );
    // A close, if any, says the data was invalid (1007) or the protocol broken (1002); not 1011.
    if (closed !== undefined) expect([1007, 1002]).toContain(closed);
    expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
    await handled(watcher);
    expect(watcher.isOpen).toBe(true);
    expect(watcher.of("error")).toEqual([]);
  });
});

// ---------------------------------------------------------------- HTTP bodies

/** An answer the oracle allows: a status, and for a success what to check and remember. */
type Expected = {
  status: number;
  code?: Code;
  check?: (json: unknown) => string | undefined;
  apply?: (json: unknown) => void;
};

const refused = (...codes: Code[]): Expected[] =>
  codes.map((code) => ({ status: STATUS_OF[code], code }));

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A session body: `{"token", "user": {"id", "name", "kind"}, "refreshToken"?}`. */
function sessionProblem(json: unknown, name: string, kind: "guest" | "user"): string | undefined {
  if (!isObject(json) || typeof json.token !== "string" || !isObject(json.user))
    return "not a session";
  const { id, name: got, kind: gotKind } = json.user;
  if (typeof id !== "string" || got !== name || gotKind !== kind) return `not ${kind} ${name}`;
  // docs/protocol.md: guest ids start with g_, so they never collide with registered users'.
  if ((kind === "guest") !== id.startsWith("g_")) return `id ${id} for a ${kind}`;
  return undefined;
}

type Account = { name: string; password: string; token?: string };

/** Accounts, sessions and rooms of the HTTP server, as the test made them. */
class World {
  readonly accounts = new Map<string, Account>();
  /** When each sign-in that did not succeed was answered, per lower-cased username. */
  readonly failures = new Map<string, number[]>();
  readonly rooms = new Set<string>();
  /** A session kept only for refresh and logout: its current and spent refresh tokens. */
  rita = { current: "", spent: [] as string[], known: false };
  readonly model: RoomModel;

  constructor(model: RoomModel) {
    this.model = model;
  }

  /**
   * Whether `username` may be locked now. The server can only have counted failures answered
   * within its window before now (a second more for clock skew); five of them may lock.
   */
  mayBeLocked(username: string, now: number): boolean {
    const recent = (this.failures.get(username.toLowerCase()) ?? []).filter(
      (at) => at > now - AUTH_WINDOW_MS - 1000,
    );
    return recent.length >= LOCKOUT_FAILURES;
  }

  failed(username: string): void {
    const key = username.toLowerCase();
    this.failures.set(key, [...(this.failures.get(key) ?? []), Date.now()]);
  }
}

type Target = {
  path: string;
  token?: "guest" | "user";
  /** Plausible bodies (references resolved before sending). */
  bodies: () => fc.Arbitrary<Record<string, unknown>>;
  /** What the contract allows for a JSON body sent at `sentAt`. */
  expect: (json: unknown, sentAt: number) => Expected[];
  /** Without a body (when the content type is not JSON and the server ignores the text). */
  bare?: () => Expected[];
};

/** Commands applied over HTTP (not repeats), by type. */
const httpApplied: Record<string, number> = {};

/** Commands over HTTP: the oracle's outcomes as statuses (201 `{"seq"}`). */
function commandExpectations(
  world: World,
  userId: string,
  command: Command,
  unclear: boolean,
): Expected[] {
  const expected = world.model.outcomes(userId, command).map((o): Expected =>
    o.ok
      ? {
          status: 201,
          check: (json) =>
            isObject(json) && seqFits(json.seq, o.seq) ? undefined : `not ${describeOutcome(o)}`,
          apply: (json) => {
            o.apply((json as { seq: number }).seq);
            if (!o.replay) httpApplied[command.type] = (httpApplied[command.type] ?? 0) + 1;
          },
        }
      : { status: STATUS_OF[o.code], code: o.code },
  );
  return unclear ? [...expected, ...refused("bad_request")] : expected;
}

describe("HTTP bodies", () => {
  it(
    `${HTTP_RUNS} generated bodies on every JSON endpoint: the answer the contract gives, never 5xx`,
    async () => {
      const started = Date.now();
      // A room of its own, where the test is the only writer: the oracle knows every seq.
      const hank = await signInGuest(server.url, "hank");
      const guest = await signInGuest(server.url, "mallory2");
      const user = await register(server.url, "fuzzer", "fuzzer password");
      const rita = await register(server.url, "rita", "rita's password");
      const target = roomName("fuzzhttp");
      await createRoom(server.url, hank, target);
      for (let i = 0; i < 5; i++)
        expect(
          (
            await call(server.url, "POST", `/api/rooms/${target}/messages`, {
              token: hank.token,
              body: { text: `seed ${i}`, clientId: `seed-${i}` },
            })
          ).status,
        ).toBe(201);
      const model = new RoomModel({ exact: true });
      for (const event of (await logOf(target, hank)).events) model.observe(event);
      const world = new World(model);
      world.accounts.set("fuzzer", { name: "fuzzer", password: user.password!, token: user.token });
      world.accounts.set("rita", { name: "rita", password: rita.password! });
      world.rita = { current: rita.refreshToken!, spent: [], known: true };
      world.rooms.add(room).add(target);
      // Someone who watches the room throughout: the fuzzing must not disturb them.
      const watcher = await rawConnect(server.url, target, hank.token);
      const watchedFrom = watcher.of("welcome")[0]!.lastSeq;

      const ids = { guest: guest.user.id, user: user.user.id };
      const someone = () =>
        fc.constantFrom(hank.user.id, guest.user.id, user.user.id, "g_nobody", "x", "");
      const usernames = fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9_.-]{3,12}$/),
        fc.constantFrom("fuzzer", "FUZZER", "rita", "nobody1", "ab", "a b c", "x".repeat(33)),
      );
      const passwords = fc.oneof(
        fc.string({ minLength: 8, maxLength: 20 }),
        fc.string({ maxLength: 8 }),
        fc.constantFrom("x".repeat(256), "x".repeat(257), "👍".repeat(4), "👍".repeat(129)),
        fc.constant({ $password: true }), // the account's real password, resolved when sending
      );
      const commandBodies = () => plausibleFrame(someone);

      const targets: Target[] = [
        {
          path: "/api/auth/guest",
          bodies: () =>
            fc.record({ name: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{3,12}$/), junkString) }),
          expect: (json) => {
            if (!isObject(json)) return refused("bad_request");
            const verdict = guestNameVerdict(json.name);
            const ok: Expected = {
              status: 200,
              check: (body) => sessionProblem(body, json.name as string, "guest"),
            };
            if (verdict === "bad") return refused("bad_request");
            return verdict === "ok" ? [ok] : [ok, ...refused("bad_request")];
          },
        },
        {
          path: "/api/auth/register",
          bodies: () => fc.record({ username: usernames, password: passwords }),
          expect: (json) => {
            if (!isObject(json)) return refused("bad_request");
            const verdicts = [usernameVerdict(json.username), passwordVerdict(json.password)];
            if (verdicts.includes("bad")) return refused("bad_request");
            const username = json.username as string;
            const taken = world.accounts.has(username.toLowerCase());
            const created: Expected = {
              status: 201,
              check: (body) => sessionProblem(body, username, "user"),
              apply: () =>
                world.accounts.set(username.toLowerCase(), {
                  name: username,
                  password: json.password as string,
                }),
            };
            const outcome = taken ? refused("conflict") : [created];
            return verdicts.includes("unclear") ? [...outcome, ...refused("bad_request")] : outcome;
          },
        },
        {
          path: "/api/auth/login",
          bodies: () => fc.record({ username: usernames, password: passwords }),
          expect: (json, sentAt) => {
            if (
              !isObject(json) ||
              typeof json.username !== "string" ||
              typeof json.password !== "string"
            )
              return refused("bad_request");
            const { username, password } = json as { username: string; password: string };
            const failed = () => world.failed(username);
            // The lockout is timing: allowed whenever the server may have counted five failures.
            const locked: Expected[] = world.mayBeLocked(username, sentAt)
              ? [{ status: 429, code: "rate_limited", apply: failed }]
              : [];
            const wrong: Expected[] = [
              { status: 401, code: "unauthorized", apply: failed },
              ...locked,
            ];
            // A name or password the rules would (or might) never accept: a bad request, or wrong.
            const verdicts = [usernameVerdict(username), passwordVerdict(password)];
            const malformed: Expected[] = verdicts.every((v) => v === "ok")
              ? []
              : [{ status: 400, code: "bad_request", apply: failed }];
            const account = world.accounts.get(username.toLowerCase());
            if (account?.password !== password) return [...wrong, ...malformed];
            const ok: Expected = {
              status: 200,
              check: (body) => sessionProblem(body, account.name, "user"),
            };
            return [ok, ...locked, ...malformed];
          },
        },
        {
          path: "/api/auth/refresh",
          bodies: () =>
            fc.record(
              {
                refreshToken: fc.oneof(
                  fc.string(),
                  fc.constant(`rt1.ZnV6emVy.${"0".repeat(32)}.${"A".repeat(43)}`),
                  fc.constantFrom({ $refresh: "current" }, { $refresh: "spent" }),
                  weirdValue,
                ),
              },
              { requiredKeys: [] },
            ),
          expect: (json) => {
            if (!isObject(json)) return refused("bad_request", "unauthorized");
            const token = json.refreshToken;
            if (token === undefined) return refused("bad_request", "unauthorized");
            if (typeof token !== "string") return refused("bad_request");
            if (token === world.rita.current && world.rita.known)
              return [
                {
                  status: 200,
                  check: (body) =>
                    sessionProblem(body, "rita", "user") ??
                    (typeof (body as { refreshToken?: unknown }).refreshToken === "string"
                      ? undefined
                      : "no new refresh token"),
                  apply: (body) => {
                    world.rita.spent.push(world.rita.current);
                    world.rita.current = (body as { refreshToken: string }).refreshToken;
                  },
                },
              ];
            if (world.rita.spent.includes(token))
              // docs/auth.md: a rotated token presented again ends the whole session.
              return [
                { status: 401, code: "unauthorized", apply: () => (world.rita.known = false) },
              ];
            return refused("bad_request", "unauthorized");
          },
          bare: () => refused("unauthorized", "bad_request"),
        },
        {
          path: "/api/auth/logout",
          bodies: () =>
            fc.record(
              {
                refreshToken: fc.oneof(
                  fc.string(),
                  fc.constantFrom({ $refresh: "current" }, { $refresh: "spent" }),
                  weirdValue,
                ),
              },
              { requiredKeys: [] },
            ),
          expect: (json) => {
            if (!isObject(json)) return refused("bad_request");
            const token = json.refreshToken;
            if (token !== undefined && typeof token !== "string") return refused("bad_request");
            const ends = () => (world.rita.known = false);
            if (token === world.rita.current && world.rita.known)
              return [{ status: 204, apply: ends }];
            // A token that is unknown, spent or absent: nothing to end, or a refusal. A spent one
            // of hers may end her session all the same.
            const apply =
              typeof token === "string" && world.rita.spent.includes(token) ? ends : undefined;
            return [{ status: 204 }, ...refused("bad_request", "unauthorized")].map((e) => ({
              ...e,
              apply,
            }));
          },
          bare: () => [{ status: 204 }, ...refused("bad_request")],
        },
        {
          path: "/api/auth/password",
          token: "user",
          bodies: () => fc.record({ currentPassword: passwords, newPassword: passwords }),
          expect: (json, sentAt) => {
            if (
              !isObject(json) ||
              typeof json.currentPassword !== "string" ||
              typeof json.newPassword !== "string"
            )
              return refused("bad_request");
            const account = world.accounts.get("fuzzer")!;
            const { currentPassword, newPassword } = json as {
              currentPassword: string;
              newPassword: string;
            };
            const current = passwordVerdict(currentPassword);
            const next = passwordVerdict(newPassword);
            const failed = () => world.failed("fuzzer");
            const locked: Expected[] = world.mayBeLocked("fuzzer", sentAt)
              ? [{ status: 429, code: "rate_limited", apply: failed }]
              : [];
            const right = currentPassword === account.password;
            const wrong: Expected[] = [
              { status: 401, code: "unauthorized", apply: failed },
              ...locked,
            ];
            // A new password out of 8-256 is a bad request (or the current one is checked first).
            if (next === "bad") return [...refused("bad_request"), ...(right ? [] : wrong)];
            const outcome: Expected[] = right
              ? [
                  {
                    status: 200,
                    check: (body) => sessionProblem(body, "fuzzer", "user"),
                    apply: (body) => {
                      account.password = newPassword;
                      account.token = (body as { token: string }).token;
                    },
                  },
                  ...locked,
                ]
              : current === "bad"
                ? [...wrong, { status: 400, code: "bad_request", apply: failed }]
                : wrong;
            return next === "unclear" || current === "unclear"
              ? [...outcome, ...refused("bad_request")]
              : outcome;
          },
        },
        {
          path: "/api/rooms",
          token: "guest",
          bodies: () =>
            fc.record(
              {
                name: fc.oneof(
                  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/),
                  fc.constantFrom(room, target, "Upper", "-dash", "a".repeat(65), ""),
                ),
                topic: fc.string({ unit: "grapheme", maxLength: 150 }),
                visibility: fc.constantFrom("public", "private", "secret"),
              },
              { requiredKeys: ["name"] },
            ),
          expect: (json) => {
            if (!isObject(json) || typeof json.name !== "string" || !ROOM_NAME.test(json.name))
              return refused("bad_request");
            const visibility = json.visibility ?? "public";
            if (visibility !== "public" && visibility !== "private") return refused("bad_request");
            const topic = json.topic === undefined ? "ok" : topicVerdict(json.topic);
            if (topic === "bad") return refused("bad_request");
            const name = json.name;
            const exists = world.rooms.has(name);
            // roles.md: guests cannot create private rooms. Which refusal comes first is not written.
            const outcome: Expected[] =
              exists && visibility === "private"
                ? refused("conflict", "forbidden")
                : exists
                  ? refused("conflict")
                  : visibility === "private"
                    ? refused("forbidden")
                    : [
                        {
                          status: 201,
                          check: (body) =>
                            isObject(body) &&
                            body.name === name &&
                            body.visibility === "public" &&
                            body.topic === (json.topic ?? "")
                              ? undefined
                              : "not the new room",
                          apply: () => world.rooms.add(name),
                        },
                      ];
            return topic === "unclear" ? [...outcome, ...refused("bad_request")] : outcome;
          },
        },
        {
          path: `/api/rooms/${target}/messages`,
          token: "guest",
          bodies: () =>
            fc.record(
              { text, clientId, replyTo: messageRef },
              { requiredKeys: ["text", "clientId"] },
            ),
          expect: (json) => {
            if (!isObject(json)) return refused("bad_request");
            const verdicts = [
              textVerdict(json.text),
              clientIdVerdict(json.clientId),
              json.replyTo === undefined ? "ok" : seqVerdict(json.replyTo),
            ];
            if (verdicts.includes("bad")) return refused("bad_request");
            const command = {
              type: "post",
              clientId: json.clientId,
              text: json.text,
              ...(json.replyTo === undefined ? {} : { replyTo: json.replyTo }),
            } as Command;
            return commandExpectations(world, ids.guest, command, verdicts.includes("unclear"));
          },
        },
        ...(["guest", "user"] as const).map((token): Target => ({
          path: `/api/rooms/${target}/commands`,
          token,
          bodies: commandBodies,
          expect: (json) => {
            const verdict = classifyFrame(json);
            if (verdict.verdict === "bad") return refused("bad_request");
            // A signal is not a command: "Every command can also be sent over HTTP".
            if (verdict.kind === "signal") return refused("bad_request");
            return commandExpectations(
              world,
              ids[token],
              verdict.command,
              verdict.verdict === "unclear",
            );
          },
        })),
        {
          path: `/api/rooms/${target}/members`,
          token: "guest",
          bodies: () =>
            fc.record(
              { username: usernames, role: fc.constantFrom("member", "moderator", "owner", 1) },
              { requiredKeys: ["username"] },
            ),
          expect: (json) => {
            if (!isObject(json) || usernameVerdict(json.username) === "bad")
              return refused("bad_request");
            if (json.role !== undefined && json.role !== "member" && json.role !== "moderator")
              return refused("bad_request");
            // A guest member may not invite; for a name nobody has, which refusal comes first is not written.
            return world.accounts.has((json.username as string).toLowerCase())
              ? refused("forbidden")
              : refused("forbidden", "not_found");
          },
        },
      ];

      type Sent = { path: string; index: number; plan: Plan; type: string | undefined };
      const contentTypes = fc.oneof(
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
      );
      const bodyPlan = (t: Target): fc.Arbitrary<Plan> =>
        fc.oneof(
          { weight: 9, arbitrary: plausible(t.bodies(), { asIs: 10, mutated: 8 }) },
          {
            weight: 2,
            arbitrary: fc
              .jsonValue()
              .map((v) => ({ kind: "text" as const, data: JSON.stringify(v) })),
          },
          {
            weight: 2,
            arbitrary: fc
              .string({ unit: "binary", maxLength: 100 })
              .map((data) => ({ kind: "text" as const, data })),
          },
          {
            weight: 1,
            arbitrary: fc
              .integer({ min: 1, max: 20_000 })
              .map((d) => ({ kind: "text" as const, data: nested(d, d % 2 === 0) })),
          },
          {
            // A plausible body padded to either side of the 64 KiB body limit.
            weight: 1,
            arbitrary: fc
              .tuple(
                t.bodies(),
                fc.integer({ min: CONTRACT.frameBytes - 40, max: CONTRACT.frameBytes + 40 }),
              )
              .map(([base, bytes]) => ({ kind: "padded" as const, base, bytes })),
          },
        );

      /** Resolves references: messages (`own` for `userId`), the fuzzer's password, Rita's tokens. */
      const resolveBody = (value: unknown, userId: string): unknown => {
        if (Array.isArray(value)) return value.map((v) => resolveBody(v, userId));
        if (!isObject(value)) return value;
        if (value.$password) return world.accounts.get("fuzzer")!.password;
        if (value.$refresh)
          return value.$refresh === "current"
            ? world.rita.current
            : (world.rita.spent.at(-1) ?? "rt1.none");
        if (value.$ref) return resolve(value, model, userId);
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, resolveBody(v, userId)]),
        );
      };

      const problems: string[] = [];
      const statuses: Record<number, number> = {};
      const verdicts: Record<string, number> = {};
      let requests = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: targets.length - 1 }).chain((index) =>
            fc.record({
              path: fc.constant(targets[index]!.path),
              index: fc.constant(index),
              plan: bodyPlan(targets[index]!),
              type: contentTypes,
            }),
          ),
          async ({ index, plan, type: chosenType }: Sent) => {
            const t = targets[index]!;
            if (!world.rita.known) {
              // Her session ended (or may have): a new one, so the oracle knows it again (once
              // any lock from the fuzzed guesses at her name has lifted).
              const fresh = await waitUntil(
                async () => {
                  const answer = await call(server.url, "POST", "/api/auth/login", {
                    body: { username: "rita", password: world.accounts.get("rita")!.password },
                  });
                  if (answer.status !== 429) return answer;
                },
                "Rita signs in again",
                AUTH_WINDOW_MS * 3,
                250,
              );
              expect(fresh.status, fresh.text).toBe(200);
              world.rita = {
                current: (fresh.json as { refreshToken: string }).refreshToken,
                spent: [],
                known: true,
              };
            }
            let payload: string;
            let usesSession = false;
            if (plan.kind === "plausible" || plan.kind === "padded") {
              const base = resolveBody(
                plan.base,
                t.token === "user" ? ids.user : ids.guest,
              ) as Record<string, unknown>;
              usesSession = JSON.stringify(plan.base).includes("$refresh");
              payload =
                plan.kind === "padded"
                  ? padTo(base, plan.bytes)
                  : plan.mutation
                    ? mutate(base, plan.mutation)
                    : JSON.stringify(base);
            } else payload = (plan as { data: string }).data;
            // Rita's real tokens go only as JSON, so the oracle knows what became of her session.
            const type = usesSession ? "application/json" : chosenType;

            const sentAt = Date.now();
            let json: unknown;
            let parsed = true;
            try {
              json = JSON.parse(payload);
            } catch {
              parsed = false;
            }
            const asJson = parsed ? t.expect(json, sentAt) : refused("bad_request");
            let expected: Expected[];
            if (Buffer.byteLength(payload) > CONTRACT.frameBytes) expected = refused("too_large");
            else if (type === "application/json") expected = asJson;
            // Not declared as JSON (or not quite): refused, read as JSON anyway, or read as no body.
            else expected = [...refused("bad_request"), ...asJson, ...(t.bare?.() ?? [])];
            const verdict = expected.some((e) => e.status < 300)
              ? "may succeed"
              : expected.every((e) => e.code === "bad_request" || e.code === "too_large")
                ? "invalid"
                : "refused by a rule";
            verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;

            const headers: Record<string, string> = {};
            if (type !== undefined) headers["content-type"] = type;
            if (t.token === "guest") headers.authorization = `Bearer ${guest.token}`;
            if (t.token === "user")
              headers.authorization = `Bearer ${world.accounts.get("fuzzer")!.token}`;
            const response = await fetch(server.url + t.path, {
              method: "POST",
              headers,
              body: payload,
            });
            const raw = await response.text();
            requests += 1;
            statuses[response.status] = (statuses[response.status] ?? 0) + 1;
            let body: unknown;
            try {
              body = raw === "" ? undefined : JSON.parse(raw);
            } catch {
              body = undefined;
            }
            const what = `POST ${t.path} (${type}) ${payload.slice(0, 160)} → ${response.status} ${raw.slice(0, 200)}`;
            const candidates = expected.filter(
              (e) =>
                e.status === response.status &&
                (e.code === undefined ||
                  (isObject(body) && isObject(body.error) && body.error.code === e.code)),
            );
            const why: string[] = [];
            const hit = candidates.find((e) => {
              const problem =
                response.status >= 400
                  ? errorBodyProblem(response.status, body, raw)
                  : e.check?.(body);
              if (problem) why.push(problem);
              return !problem;
            });
            if (!hit) {
              const allowed = [
                ...new Set(expected.map((e) => `${e.status}${e.code ? ` ${e.code}` : ""}`)),
              ];
              problems.push(
                `${what}\n    expected ${allowed.join(" | ")}${why.length ? ` (${why.join("; ")})` : ""}`,
              );
            } else {
              if (response.status === 429 && !response.headers.get("retry-after"))
                problems.push(`429 without Retry-After: ${what}`);
              hit.apply?.(body);
            }
            expect(problems).toEqual([]);
          },
        ),
        { numRuns: HTTP_RUNS, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: BUDGET_MS },
      );

      // The oracle's exact model is the room: every seq, every message and reaction of both fuzzers.
      const { events: log, lastSeq } = await logOf(target, hank);
      expect(lastSeq).toBe(model.lastSeq);
      await expectModelMatches(target, hank, model, guest);
      await expectModelMatches(target, hank, model, user);
      // The watcher saw every event after its welcome, once, in order, and nothing went wrong for it.
      await waitUntil(
        () => watcher.of("event").at(-1)?.event.seq === lastSeq || lastSeq === watchedFrom,
        "the watcher catches up",
      );
      expect(
        asLoggedNow(
          watcher.of("event").map((f) => f.event),
          log,
        ),
      ).toEqual(log.filter((e) => e.seq > watchedFrom));
      expect(watcher.of("error")).toEqual([]);
      expect(watcher.isOpen).toBe(true);
      // The fuzzer's password is the one the oracle believes (once any lock has lifted), and the
      // server is healthy.
      const fuzzer = world.accounts.get("fuzzer")!;
      expect((await call(server.url, "GET", "/api/auth/me", { token: fuzzer.token })).status).toBe(
        200,
      );
      await waitUntil(
        async () =>
          (
            await call(server.url, "POST", "/api/auth/login", {
              body: { username: "fuzzer", password: fuzzer.password },
            })
          ).status === 200,
        "the fuzzer signs in with the password the oracle knows",
        AUTH_WINDOW_MS * 3,
        500,
      );
      expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `fuzz http: ${requests} of ${HTTP_RUNS} bodies in ${seconds} s; oracle ${JSON.stringify(verdicts)}; statuses ${JSON.stringify(statuses)}; applied ${JSON.stringify(httpApplied)}; room at seq ${lastSeq}`,
      );
      // Undo was applied over HTTP too (redo and redact are rarer: their counts are logged).
      expect(httpApplied.undo ?? 0, "undo applied over HTTP").toBeGreaterThan(0);
      expect(requests).toBeGreaterThanOrEqual(atLeast(HTTP_RUNS));
      expect(statuses[201] ?? 0).toBeGreaterThan(requests / 20);
      expect(statuses[400] ?? 0).toBeGreaterThan(requests / 5);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("HTTP query parameters", () => {
  const QUERY_RUNS = Number(process.env.FUZZ_QUERY_RUNS ?? 400);

  it(
    "read routes answer every generated query string as the oracle predicts: never a 5xx",
    async () => {
      const target = roomName("fuzzq");
      await createRoom(server.url, olga, target);
      for (let i = 0; i < 4; i++) {
        const answer = await call(server.url, "POST", `/api/rooms/${target}/messages`, {
          token: olga.token,
          body: { text: `message ${i}`, clientId: `q-${i}` },
        });
        expect(answer.status, answer.text).toBe(201);
      }
      const events = await call(server.url, "GET", `/api/rooms/${target}/events?limit=1000`, {
        token: olga.token,
      });
      const times: number[] = (events.json as { events: { at: number }[] }).events.map((e) => e.at);
      const first = times[0]!;
      const number = fc.oneof(
        fc.integer({ min: 0, max: times.length + 3 }).map(String),
        fc.integer({ min: first - 5000, max: Date.now() + 5000 }).map(String),
        fc.constantFrom("0", "-1", "1.5", "1e3", " 1", "", "007", "0x10", "9".repeat(16)),
        fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
        junkString,
      );
      const key = fc.constantFrom("at", "atTime", "before", "limit", "at", "atTime", "x");
      const routes = Object.keys(ROOM_QUERY_ROUTES) as (keyof typeof ROOM_QUERY_ROUTES)[];
      const problems: string[] = [];
      const verdicts: Record<string, number> = {};
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.oneof(
            // A plausible moment (a seq or a time near the log's), perhaps paged…
            fc
              .tuple(
                fc.oneof(
                  fc.integer({ min: 1, max: times.length }).map((n) => ["at", String(n)]),
                  fc
                    .integer({ min: first, max: Date.now() + 5000 })
                    .map((n) => ["atTime", String(n)]),
                ),
                fc.array(fc.tuple(fc.constantFrom("before", "limit"), number), { maxLength: 2 }),
              )
              .map(([moment, rest]) => [moment as [string, string], ...rest]),
            // …or anything at all.
            fc.array(fc.tuple(key, number), { maxLength: 4 }),
          ),
          async (route, params) => {
            const verdict = queryVerdict(route, params, times);
            verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
            const query = new URLSearchParams(params).toString();
            const path = `/api/rooms/${target}${route}?${query}`;
            const answer = await call(server.url, "GET", path, { token: alice.token });
            const what = `GET ${path} (${verdict}) → ${answer.status} ${answer.text.slice(0, 200)}`;
            const allowed = { ok: [200], bad: [400], unclear: [200, 400] }[verdict];
            if (!allowed.includes(answer.status)) problems.push(what);
            else if (answer.status === 400) {
              const problem = errorBodyProblem(400, answer.json, answer.text);
              if (problem) problems.push(`${what}: ${problem}`);
            } else if (verdict === "ok") {
              const seq = (answer.json as { seq?: unknown }).seq;
              const at = params.find(([k]) => k === "at")?.[1];
              const atTime = params.find(([k]) => k === "atTime")?.[1];
              const expected = at ? Number(at) : seqAtTimeOf(Number(atTime), times);
              if (seq !== expected) problems.push(`${what}: seq ${String(seq)}, not ${expected}`);
            }
            expect(problems).toEqual([]);
          },
        ),
        { numRuns: QUERY_RUNS, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: BUDGET_MS },
      );
      console.log(`fuzz queries: oracle ${JSON.stringify(verdicts)}`);
      expect(verdicts.ok ?? 0).toBeGreaterThan(QUERY_RUNS / 20);
      expect(verdicts.bad ?? 0).toBeGreaterThan(QUERY_RUNS / 5);
      expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
    },
    TEST_TIMEOUT_MS,
  );
});
