/**
 * The reminders' routes under generated bodies (fast-check) against the real server, judged by an
 * oracle written from docs/automation.md ("Schedules and reminders") and the contract
 * (contract.ts), not by the product's schemas: POST /reminders (kinds, texts, times, crons, zones,
 * clientIds, junk, extra keys) and DELETE /reminders/{id} (ids well-formed or not). Every answer
 * is one the oracle allows, never a 5xx, never `internal`, never a stack trace; what is set is
 * what was asked, and cancels.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientId, junkString, text, weirdValue } from "./arbitraries.ts";
import { clientIdVerdict, errorBodyProblem, STACK, textVerdict, type Verdict } from "./contract.ts";
import {
  call,
  createRoom,
  roomName,
  SECURITY_VARS,
  signInGuest,
  startServer,
  type Answer,
  type TestServer,
  type Who,
} from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_REMINDER_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** docs/automation.md, "Limits" and "REST and SDK". */
const TEXT_MAX = 1000;
const YEAR_MS = 366 * 24 * 3600 * 1000;
/** Times this close to a limit may fall either side by the time the server reads them. */
const SLACK_MS = 60_000;
const ID = /^rem_[0-9a-f]{16}$/;
const KEYS = ["to", "text", "at", "cron", "timeZone", "clientId"];

let server: TestServer;
let olga: Who;
let room: string;

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  olga = await signInGuest(server.url, "olga");
  room = roomName("remindfuzz");
  await createRoom(server.url, olga, room);
});
afterAll(async () => server?.dispose());

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const worst = (...verdicts: Verdict[]): Verdict =>
  verdicts.includes("bad") ? "bad" : verdicts.includes("unclear") ? "unclear" : "ok";

/** Offsets from now, with what the docs say of each: ahead within a year, or not. */
const atOffset = fc.oneof(
  fc.integer({ min: 5 * SLACK_MS, max: YEAR_MS - 5 * SLACK_MS }).map((ms) => ({ ms, ok: true })),
  fc.integer({ min: -YEAR_MS, max: -SLACK_MS }).map((ms) => ({ ms, ok: false })),
  fc.integer({ min: YEAR_MS + SLACK_MS, max: 5 * YEAR_MS }).map((ms) => ({ ms, ok: false })),
);

/** Crons with what the docs say of them; junk is left unjudged. */
const cron = fc.oneof(
  fc.constantFrom(
    { cron: "0 9 * * 1", verdict: "ok" as Verdict },
    { cron: "30 9 * * 1-5", verdict: "ok" as Verdict },
    { cron: "0 * * * *", verdict: "ok" as Verdict },
    { cron: "*/5 * * * *", verdict: "bad" as Verdict }, // more than hourly
    { cron: "0,30 9 * * *", verdict: "bad" as Verdict },
    { cron: "0 9 * *", verdict: "bad" as Verdict }, // four fields
    { cron: "0 0 9 * * 1", verdict: "bad" as Verdict }, // six
    { cron: "0 25 * * *", verdict: "bad" as Verdict },
    { cron: "0 9 31 2 *", verdict: "bad" as Verdict }, // never
  ),
  junkString.map((junk) => ({ cron: junk, verdict: "unclear" as Verdict })),
);

const zone = fc.oneof(
  fc.constantFrom(
    { timeZone: "UTC", verdict: "ok" as Verdict },
    { timeZone: "Europe/Paris", verdict: "ok" as Verdict },
    { timeZone: "America/New_York", verdict: "ok" as Verdict },
    { timeZone: "Mars/Olympus_Mons", verdict: "bad" as Verdict },
  ),
  junkString.map((junk) => ({ timeZone: junk, verdict: "unclear" as Verdict })),
);

const reminderText = fc.oneof(
  { weight: 6, arbitrary: text },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 995, max: 1005 }), fc.constantFrom("x", "é", "👍"))
      .map(([n, unit]) => unit.repeat(n)),
  },
);

/** A body with what each part is, before it is sent. */
type Plan = { body: unknown; verdict: Verdict };

const plans: fc.Arbitrary<Plan> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record(
        {
          to: fc.oneof(
            { weight: 6, arbitrary: fc.constantFrom("me", "here") },
            { weight: 1, arbitrary: junkString },
          ),
          text: reminderText,
          when: fc.oneof(
            { weight: 4, arbitrary: atOffset.map((at) => ({ kind: "at" as const, at })) },
            {
              weight: 3,
              arbitrary: fc
                .tuple(cron, fc.option(zone))
                .map(([c, z]) => ({ kind: "cron" as const, c, z })),
            },
            { weight: 1, arbitrary: fc.constant({ kind: "both" as const }) },
            { weight: 1, arbitrary: fc.constant({ kind: "neither" as const }) },
            {
              weight: 1,
              arbitrary: weirdValue.map((value) => ({ kind: "weird-at" as const, value })),
            },
          ),
          clientId: fc.option(clientId),
        },
        { requiredKeys: ["to", "text", "when"] },
      )
      .map((r) => plan(r)),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ to: fc.constant("me"), text: fc.constant("x"), extra: weirdValue })
      .map((body) => ({ body, verdict: "bad" as Verdict })),
  },
  { weight: 1, arbitrary: weirdValue.map((body) => ({ body, verdict: "bad" as Verdict })) },
);

type Raw = {
  to: string;
  text: string;
  when:
    | { kind: "at"; at: { ms: number; ok: boolean } }
    | {
        kind: "cron";
        c: { cron: string; verdict: Verdict };
        z: { timeZone: string; verdict: Verdict } | null;
      }
    | { kind: "both" }
    | { kind: "neither" }
    | { kind: "weird-at"; value: unknown };
  clientId?: string | null;
};

function plan(raw: Raw): Plan {
  const body: Record<string, unknown> = { to: raw.to, text: raw.text };
  const verdicts: Verdict[] = [raw.to === "me" || raw.to === "here" ? "ok" : "bad"];
  const t = textVerdict(raw.text);
  verdicts.push(
    [...raw.text].length > TEXT_MAX ? "bad" : raw.text.length > TEXT_MAX ? worst(t, "unclear") : t,
  );
  const { when } = raw;
  switch (when.kind) {
    case "at":
      body.at = Date.now() + when.at.ms;
      verdicts.push(when.at.ok ? "ok" : "bad");
      break;
    case "cron": {
      body.cron = when.c.cron;
      const length = when.c.cron.length;
      verdicts.push(length < 9 || length > 100 ? "bad" : when.c.verdict);
      if (when.z) {
        body.timeZone = when.z.timeZone;
        const zoneLength = when.z.timeZone.length;
        verdicts.push(zoneLength < 1 || zoneLength > 64 ? "bad" : when.z.verdict);
      }
      break;
    }
    case "both":
      body.at = Date.now() + 3_600_000;
      body.cron = "0 9 * * 1";
      verdicts.push("bad");
      break;
    case "neither":
      verdicts.push("bad");
      break;
    case "weird-at":
      body.at = when.value;
      // A weird value that happens to be a time ahead would be taken: none of them are.
      verdicts.push("bad");
      break;
  }
  if (raw.clientId !== undefined && raw.clientId !== null) {
    body.clientId = raw.clientId;
    verdicts.push(clientIdVerdict(raw.clientId));
  }
  return { body, verdict: worst(...verdicts) };
}

/** The failure of an answer, or undefined. */
function problemOf(answer: Answer, statuses: number[]): string | undefined {
  if (answer.status >= 500) return `a ${answer.status}: ${answer.text.slice(0, 200)}`;
  if (STACK.test(answer.text)) return "a stack-like text";
  if (!statuses.includes(answer.status))
    return `status ${answer.status} (allowed ${statuses.join(", ")}): ${answer.text.slice(0, 200)}`;
  if (answer.status >= 400) return errorBodyProblem(answer.status, answer.json, answer.text);
  return undefined;
}

/** A 201's reminder against what was asked. */
function madeProblem(json: unknown, body: Record<string, unknown>): string | undefined {
  if (!isObject(json)) return "no object";
  if (typeof json.id !== "string" || !ID.test(json.id)) return `id ${JSON.stringify(json.id)}`;
  if (json.to !== body.to) return "another `to`";
  if (typeof json.at !== "number") return "no at";
  if (body.at !== undefined && json.at !== body.at) return "another time";
  if (body.cron !== undefined && json.cron !== body.cron) return "another cron";
  return undefined;
}

describe("reminder routes under generated bodies", () => {
  it(`${RUNS} bodies on POST /reminders: 400 for what the docs refuse, else the reminder asked`, async () => {
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(plans, async ({ body, verdict }) => {
        const answer = await call(server.url, "POST", `/api/rooms/${room}/reminders`, {
          token: olga.token,
          body: typeof body === "string" ? JSON.stringify(body) : body,
        });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const allowed = verdict === "bad" ? [400] : verdict === "unclear" ? [400, 201] : [201];
        const problem =
          problemOf(answer, allowed) ??
          (answer.status === 201 && isObject(body) ? madeProblem(answer.json, body) : undefined);
        if (problem) problems.push(`${problem} ← ${JSON.stringify(body).slice(0, 300)}`);
        if (answer.status !== 201 || !isObject(answer.json)) return;
        // Cancelled at once, so that the 25 a person may have are never all taken.
        const id = String(answer.json.id);
        const gone = await call(server.url, "DELETE", `/api/rooms/${room}/reminders/${id}`, {
          token: olga.token,
        });
        if (gone.status !== 200) problems.push(`cancel ${id}: ${gone.status} ${gone.text}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(problems.slice(0, 10)).toEqual([]);
    expect(statuses.get(201)).toBeGreaterThan(RUNS / 20);
    expect(statuses.get(400)).toBeGreaterThan(RUNS / 10);
  });

  it(`${RUNS} ids on DELETE /reminders/{id}: 400 unless rem_ and 16 hex, then 404`, async () => {
    const ids = fc.oneof(
      // A lone surrogate has no URL form: no client can send it.
      junkString.filter((id) => id.isWellFormed()),
      fc.stringMatching(/^rem_[0-9a-f]{16}$/),
      fc.constantFrom("rem_", "rem_0123456789ABCDEF", "rem_0123456789abcdef0", "%2e%2e", "rem_%00"),
    );
    const problems: string[] = [];
    await fc.assert(
      fc.asyncProperty(ids, async (id) => {
        const answer = await call(
          server.url,
          "DELETE",
          `/api/rooms/${room}/reminders/${encodeURIComponent(id)}`,
          { token: olga.token },
        );
        // An empty or dot segment is another path (the client resolves it): the router's 404.
        const otherPath = id === "" || id === "." || id === "..";
        const allowed = ID.test(id) || otherPath ? [404] : [400];
        const problem = problemOf(answer, allowed);
        if (problem) problems.push(`${problem} ← ${JSON.stringify(id)}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(problems.slice(0, 10)).toEqual([]);
  });
});
