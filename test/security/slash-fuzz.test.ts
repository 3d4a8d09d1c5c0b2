/**
 * Slash commands' routes under generated bodies (fast-check) against the real server, judged by
 * an oracle written from docs/integrations.md ("Slash commands") and the contract (contract.ts),
 * not by the product's schemas: POST /slash (text and clientId, junk, extra keys), the owner's
 * custom commands (names, URLs private and public, lengths) and the response_url (tokens real,
 * mutated and foreign; JSON, `payload=` forms, other media types). Every answer is the one the
 * oracle allows, never a 5xx, never `internal`, never a stack trace; a response_url takes
 * exactly 5 valid uses.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlashServer, type SlashServer } from "../support/slash-server.ts";
import { clientId, junkString, text, weirdValue } from "./arbitraries.ts";
import { clientIdVerdict, errorBodyProblem, STACK, textVerdict, type Verdict } from "./contract.ts";
import {
  call,
  createRoom,
  roomName,
  SECURITY_VARS,
  signInGuest,
  sleep,
  startServer,
  type Answer,
  type TestServer,
  type Who,
} from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_SLASH_RUNS ?? 400);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** docs/integrations.md: the built-in names, which no custom command may take. */
const BUILTINS = [
  "me",
  "topic",
  "invite",
  "kick",
  "ban",
  "unban",
  "mute",
  "unmute",
  "slow",
  "help",
  "remind",
];
const NAME = /^[a-z0-9_-]{1,32}$/;
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

let server: TestServer;
let commands: SlashServer;
let olga: Who;
let alice: Who;
let room: string;

beforeAll(async () => {
  commands = await startSlashServer();
  server = await startServer({ vars: { ...SECURITY_VARS, WEBHOOK_ALLOW_LOOPBACK: "true" } });
  olga = await signInGuest(server.url, "olga");
  alice = await signInGuest(server.url, "alice");
  room = roomName("slashfuzz");
  await createRoom(server.url, olga, room);
  const created = await call(server.url, "POST", `/api/rooms/${room}/slash-commands/custom`, {
    token: olga.token,
    body: { name: "deploy", url: commands.url("/deploy") },
  });
  expect(created.status, created.text).toBe(201);
  commands.expect("/deploy", created.json as { signingSecret: string; verificationToken: string });
  commands.on("/deploy", () => ({}));
});
afterAll(async () => {
  await server?.dispose();
  await commands?.close();
});

/** What an answer may be: one of these statuses, with `check` for a 2xx body. */
type Allowed = { statuses: number[]; check?: (json: unknown) => string | undefined };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const worst = (...verdicts: Verdict[]): Verdict =>
  verdicts.includes("bad") ? "bad" : verdicts.includes("unclear") ? "unclear" : "ok";
const lengthVerdict = (v: unknown, max: number): Verdict =>
  typeof v !== "string"
    ? "bad"
    : [...v].length > max
      ? "bad"
      : v.length > max
        ? "unclear"
        : v.isWellFormed()
          ? "ok"
          : "unclear";

/** The failure of an answer against what is allowed, or undefined. */
function problemOf(answer: Answer, allowed: Allowed): string | undefined {
  if (answer.status >= 500) return `a ${answer.status}: ${answer.text.slice(0, 200)}`;
  if (STACK.test(answer.text)) return "a stack-like text";
  if (!allowed.statuses.includes(answer.status))
    return `status ${answer.status} (allowed ${allowed.statuses.join(", ")}): ${answer.text.slice(0, 200)}`;
  if (answer.status >= 400) return errorBodyProblem(answer.status, answer.json, answer.text);
  return allowed.check?.(answer.json);
}

/** docs/integrations.md: a run answers `command`/`posted` with a seq, `ephemeral` with text, or `accepted`. */
function slashResultProblem(json: unknown): string | undefined {
  if (!isObject(json)) return "no object";
  const seq = typeof json.seq === "number" && Number.isInteger(json.seq) && json.seq > 0;
  switch (json.kind) {
    case "command":
    case "posted":
      return seq ? undefined : "no seq";
    case "ephemeral":
      return typeof json.text === "string" ? undefined : "no text";
    case "accepted":
      return Object.keys(json).length === 1 ? undefined : "more than kind";
    default:
      return `kind ${JSON.stringify(json.kind)}`;
  }
}

/**
 * Runs `one` on RUNS generated values, fails with every problem found (the first ten), and
 * answers how often each status came, so that a test can show both sides of its oracle ran.
 */
async function fuzz<T>(
  arbitrary: fc.Arbitrary<T>,
  one: (value: T) => Promise<{ answer: Answer; problem: string | undefined }>,
): Promise<Map<number, number>> {
  const problems: string[] = [];
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      const { answer, problem } = await one(value);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (problem) problems.push(`${problem} ← ${JSON.stringify(value).slice(0, 300)}`);
    }),
    { numRuns: RUNS, seed: SEED },
  );
  expect(problems.slice(0, 10)).toEqual([]);
  return statuses;
}

const slashText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...BUILTINS, "deploy", "nope", "Topic", ""),
        fc.array(
          fc.oneof(junkString, fc.constantFrom("@olga", "@alice", "10m", "off", "30", "moderator")),
          { maxLength: 3 },
        ),
      )
      .map(([name, args]) => `/${name} ${args.join(" ")}`),
  },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: weirdValue },
);

describe("slash command routes under generated bodies", () => {
  it(`${RUNS} bodies on POST /slash: 400 for what the contract refuses, else what it did`, async () => {
    const bodies = fc.oneof(
      { weight: 6, arbitrary: fc.record({ text: slashText, clientId }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.record({ text: slashText, clientId, extra: weirdValue }) },
      { weight: 1, arbitrary: weirdValue },
    );
    const statuses = await fuzz(bodies, async (body) => {
      const answer = await call(server.url, "POST", `/api/rooms/${room}/slash`, {
        token: olga.token,
        body: typeof body === "string" ? JSON.stringify(body) : body,
      });
      if (!isObject(body) || Object.keys(body).some((k) => k !== "text" && k !== "clientId"))
        return { answer, problem: problemOf(answer, { statuses: [400] }) };
      const verdict = worst(textVerdict(body.text), clientIdVerdict(body.clientId));
      if (verdict === "bad") return { answer, problem: problemOf(answer, { statuses: [400] }) };
      const startsWithSlash = /^\s*\//.test(String(body.text));
      const allowed: Allowed = {
        // The owner may be refused acting on herself (403); custom runs are rate limited (429).
        statuses: [...(verdict === "unclear" ? [400] : []), 200, 403, 429],
        check: (json) =>
          slashResultProblem(json) ??
          (startsWithSlash || (isObject(json) && json.kind === "ephemeral")
            ? undefined
            : "text without / was run"),
      };
      return { answer, problem: problemOf(answer, allowed) };
    });
    expect(statuses.get(200)).toBeGreaterThan(RUNS / 10);
    expect(statuses.get(400)).toBeGreaterThan(RUNS / 10);
  });

  it(`${RUNS} bodies on the owner's custom commands: names, URLs, lengths`, async () => {
    const urls = fc.oneof(
      fc.constantFrom(
        // Allowed: public https, and loopback here (WEBHOOK_ALLOW_LOOPBACK, local development).
        { url: "https://example.com/slash", ok: true },
        { url: "https://hooks.example.org:8443/a?b=c#d", ok: true },
        { url: "http://127.0.0.1:9/x", ok: true },
        { url: "http://localhost:9/", ok: true },
        // Refused: docs/integrations.md's SSRF rules.
        { url: "http://example.com/", ok: false },
        { url: "https://10.1.2.3/", ok: false },
        { url: "https://169.254.169.254/latest", ok: false },
        { url: "https://[fd00::1]/", ok: false },
        { url: "https://[::ffff:10.0.0.1]/", ok: false },
        { url: "https://0x0a000001/", ok: false },
        { url: "https://intranet/", ok: false },
        { url: "https://db.internal/", ok: false },
        { url: "https://user:pw@example.com/", ok: false },
        { url: "ftp://example.com/", ok: false },
        { url: "not a url", ok: false },
        { url: `https://example.com/${"x".repeat(2040)}`, ok: false },
      ),
      weirdValue.map((url) => ({ url, ok: false })),
    );
    const names = fc.oneof(
      fc.stringMatching(/^[a-z0-9_-]{1,8}$/),
      fc.constantFrom(...BUILTINS, "deploy", "Deploy", "x".repeat(32), "x".repeat(33), "dé", ""),
      junkString,
    );
    const strings = (max: number) =>
      fc.oneof(
        fc.string({ maxLength: max + 5 }),
        fc.constant("x".repeat(max + 1)),
        fc.constant("\ud800"),
        weirdValue,
      );
    const generated = fc.record(
      {
        name: names,
        url: urls,
        description: strings(200),
        usageHint: strings(100),
        botName: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{3,12}$/), junkString, weirdValue),
        extra: weirdValue,
      },
      { requiredKeys: ["name", "url"] },
    );
    // Plausible bodies too, so that creation is exercised, not only refusal.
    const plausible = fc.record(
      {
        name: fc.stringMatching(/^[a-z0-9_-]{1,32}$/),
        url: fc.constantFrom(
          { url: "https://example.com/slash", ok: true },
          { url: "http://127.0.0.1:9/x", ok: true },
        ),
        description: fc.string({ maxLength: 200 }),
        usageHint: fc.string({ maxLength: 100 }),
        botName: fc.stringMatching(/^[A-Za-z0-9_.-]{3,32}$/),
      },
      { requiredKeys: ["name", "url"] },
    );
    const bodies = fc.oneof(
      { weight: 3, arbitrary: generated },
      { weight: 1, arbitrary: plausible },
    );
    const seen = await fuzz(bodies, async (generated) => {
      const { url, ...rest } = generated;
      const body = { ...rest, url: url.url };
      const answer = await call(server.url, "POST", `/api/rooms/${room}/slash-commands/custom`, {
        token: olga.token,
        body,
      });
      const name = body.name;
      const verdicts: Verdict[] = [
        "extra" in body ? "bad" : "ok",
        typeof name === "string" && NAME.test(name) && !BUILTINS.includes(name) ? "ok" : "bad",
        url.ok ? "ok" : "bad",
        "description" in body ? lengthVerdict(body.description, 200) : "ok",
        "usageHint" in body ? lengthVerdict(body.usageHint, 100) : "ok",
        "botName" in body
          ? typeof body.botName === "string" && USERNAME.test(body.botName)
            ? "ok"
            : "bad"
          : "ok",
      ];
      const verdict = worst(...verdicts);
      if (verdict === "bad") return { answer, problem: problemOf(answer, { statuses: [400] }) };
      const statuses = [...(verdict === "unclear" ? [400] : []), 201, 409];
      const problem = problemOf(answer, { statuses });
      // Keep the room under its 25 commands: what was made goes again.
      if (answer.status === 201)
        await call(server.url, "DELETE", `/api/rooms/${room}/slash-commands/custom/${name}`, {
          token: olga.token,
        });
      if (answer.status === 409 && name !== "deploy")
        return { answer, problem: `409 for a new name: ${answer.text}` };
      return { answer, problem };
    });
    expect(seen.get(201)).toBeGreaterThan(0);
    expect(seen.get(400)).toBeGreaterThan(RUNS / 10);
  });

  it(`${RUNS} follow-ups on response_urls: 400 for a bad body, 404 for a bad token, 5 uses each`, async () => {
    /** The live token's uses so far; a new one is minted once it is used up. */
    let live = { url: await mintResponseUrl(), uses: 0 };
    const other = roomName("other");
    await createRoom(server.url, olga, other);
    const tokens = fc.oneof(
      { weight: 4, arbitrary: fc.constant("live") },
      {
        weight: 2,
        arbitrary: fc.oneof(
          fc.stringMatching(/^[0-9a-f]{40}$/).map((hex) => `${room}.${hex}`),
          fc.constantFrom("", "..", "%2e%2e", `${other}.`, `${room}`, "a".repeat(300)),
          junkString.filter((s) => s.isWellFormed()).map(encodeURIComponent),
          fc.constant("foreign"),
        ),
      },
    );
    const flag = fc.oneof(fc.boolean(), fc.constantFrom("true", "false"), weirdValue);
    const messages = fc.record(
      {
        text: fc.oneof(fc.string({ maxLength: 30 }), weirdValue),
        response_type: fc.oneof(fc.constantFrom("in_channel", "ephemeral", null), weirdValue),
        replace_original: flag,
        delete_original: flag,
        blocks: fc.oneof(
          fc.constant([{ type: "section", text: { type: "plain_text", text: "b" } }]),
          weirdValue,
        ),
      },
      { requiredKeys: [] },
    );
    const bodies = fc.oneof(
      { weight: 5, arbitrary: messages.map((m) => ({ kind: "json" as const, m })) },
      { weight: 2, arbitrary: messages.map((m) => ({ kind: "form" as const, m })) },
      { weight: 1, arbitrary: weirdValue.map((m) => ({ kind: "json" as const, m })) },
      { weight: 1, arbitrary: junkString.map((raw) => ({ kind: "raw" as const, raw })) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom("text/plain", "multipart/form-data; boundary=x", "application/xml")
          .map((type) => ({ kind: "type" as const, type })),
      },
    );
    let minted = 0;
    const statuses = await fuzz(fc.tuple(tokens, bodies), async ([which, body]) => {
      const url =
        which === "live"
          ? live.url
          : which === "foreign"
            ? live.url.replace(`/${room}.`, `/${other}.`)
            : `${server.url}/api/slash/responses/${which}`;
      const request =
        body.kind === "json"
          ? { body: JSON.stringify(body.m), headers: { "content-type": "application/json" } }
          : body.kind === "form"
            ? {
                body: `payload=${encodeURIComponent(JSON.stringify(body.m))}`,
                headers: { "content-type": "application/x-www-form-urlencoded" },
              }
            : body.kind === "raw"
              ? { body: body.raw, headers: { "content-type": "application/json" } }
              : { body: "x", headers: { "content-type": body.type } };
      const answer = await call(server.url, "POST", new URL(url).pathname, request);
      const verdict =
        body.kind === "json" || body.kind === "form"
          ? messageVerdict(body.m)
          : body.kind === "raw"
            ? messageVerdict(jsonOrUndefined(body.raw))
            : "bad";
      if (verdict === "bad")
        return {
          answer,
          problem: problemOf(answer, { statuses: [400, ...(validPath(url) ? [] : [404])] }),
        };
      const fine = which === "live" && live.uses < 5;
      // An in-channel post is the bot's, which the room may refuse like anyone's (slow mode,
      // which the first property may have left on): the use is spent all the same.
      const sent = body.kind === "raw" ? jsonOrUndefined(body.raw) : "m" in body ? body.m : {};
      const posts = isObject(sent) && sent.response_type === "in_channel";
      const taken = fine ? [200, ...(posts ? [429] : [])] : [404];
      const problem = problemOf(answer, {
        statuses: [...(verdict === "unclear" ? [400] : []), ...taken],
        check: (json) => (isObject(json) && json.ok === true ? undefined : "not {ok: true}"),
      });
      if (fine && (answer.status === 200 || answer.status === 429)) live.uses += 1;
      if (which === "live" && live.uses === 5) {
        live = { url: await mintResponseUrl(), uses: 0 };
        minted += 1;
      }
      return { answer, problem };
    });
    // Tokens were used up and minted again; valid bodies were taken and bad ones refused.
    expect(minted).toBeGreaterThan(0);
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(404)).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
  });
});

/** docs/integrations.md: a follow-up's fields as Slack's; blocks are read as far as they can be. */
function messageVerdict(m: unknown): Verdict {
  if (!isObject(m)) return "bad";
  const flag = (v: unknown) =>
    v === undefined || v === null || typeof v === "boolean" || v === "true" || v === "false";
  const verdicts: Verdict[] = [
    m.text === undefined || m.text === null || typeof m.text === "string" ? "ok" : "bad",
    m.response_type === undefined ||
    m.response_type === null ||
    m.response_type === "in_channel" ||
    m.response_type === "ephemeral"
      ? "ok"
      : "bad",
    flag(m.replace_original) && flag(m.delete_original) ? "ok" : "bad",
    // Lenient by the docs ("a block we cannot read is skipped"); a non-list is not said.
    m.blocks === undefined || Array.isArray(m.blocks) ? "ok" : "unclear",
    typeof m.text === "string" && !m.text.isWellFormed() ? "unclear" : "ok",
  ];
  return worst(...verdicts);
}

function jsonOrUndefined(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** Whether a URL's token part could be a token at all (else any refusal may come first). */
const validPath = (url: string) =>
  /\/api\/slash\/responses\/[a-z0-9][a-z0-9_-]*\.[0-9a-f]{40}$/.test(url);

/** Runs /deploy as alice and answers with the response_url its server got. */
async function mintResponseUrl(): Promise<string> {
  const before = commands.at("/deploy").length;
  for (;;) {
    const answer = await call(server.url, "POST", `/api/rooms/${room}/slash`, {
      token: alice.token,
      body: { text: "/deploy fuzz", clientId: crypto.randomUUID() },
    });
    if (answer.status === 429) {
      await sleep(1100);
      continue;
    }
    expect(answer.json, answer.text).toEqual({ kind: "accepted" });
    return commands.at("/deploy")[before]!.fields.response_url;
  }
}
