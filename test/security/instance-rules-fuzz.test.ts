/**
 * The instance's rules' routes (docs/automation.md, "Instance rules") under generated bodies
 * (fast-check) against the real server, as the admin: a valid rule with one part replaced by junk,
 * with an extra key, or no rule at all. Judged by an oracle written from the docs and the
 * contract, not by the product's schemas: a name is 1 to 80 characters once trimmed, valid
 * Unicode; an incoming-webhook trigger is refused; anything else may be taken or refused, but
 * every answer is a 201 with the rule asked or the contract's 400, never a 5xx, never a stack.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { junkString, weirdValue } from "./arbitraries.ts";
import { errorBodyProblem, STACK, type Verdict } from "./contract.ts";
import {
  call,
  register,
  SECURITY_VARS,
  startServer,
  type Answer,
  type TestServer,
  type Who,
} from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_INSTANCE_RULE_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const ID = /^rl_[0-9a-f]{16}$/;

let server: TestServer;
let root: Who;

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  root = await register(server.url, "root");
});
afterAll(async () => server?.dispose());

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const VALID = {
  name: "Incident",
  trigger: { on: "message", match: { keywords: ["incident"] } },
  conditions: { rooms: ["ops"] },
  actions: [{ do: "post", text: "see the runbook" }],
};

/** docs/automation.md: a rule's name is 1 to 80 characters once trimmed, in valid Unicode. */
function nameVerdict(name: unknown): Verdict {
  if (typeof name !== "string" || !name.isWellFormed()) return "bad";
  const trimmed = name.trim();
  return trimmed.length >= 1 && trimmed.length <= 80 ? "ok" : "bad";
}

type Plan = { body: unknown; verdict: Verdict };

const plans: fc.Arbitrary<Plan> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .oneof(junkString, weirdValue)
      .map((name) => ({ body: { ...VALID, name }, verdict: nameVerdict(name) })),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom("trigger", "conditions", "actions", "enabled"), weirdValue)
      .map(([key, value]) => ({ body: { ...VALID, [key]: value }, verdict: "unclear" as Verdict })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(junkString, fc.constantFrom("keywords", "pattern"))
      .map(([junk, field]) => ({
        body: {
          ...VALID,
          trigger: { on: "message", match: { [field]: field === "keywords" ? [junk] : junk } },
        },
        verdict: "unclear" as Verdict,
      })),
  },
  {
    weight: 1,
    arbitrary: fc.stringMatching(/^ih_[0-9a-f]{24}$/).map((hook) => ({
      body: { ...VALID, trigger: { on: "webhook", hook } },
      verdict: "bad" as Verdict,
    })),
  },
  {
    weight: 1,
    arbitrary: weirdValue.map((extra) => ({ body: { ...VALID, extra }, verdict: "ok" as Verdict })),
  },
  {
    weight: 1,
    arbitrary: weirdValue
      .filter((body) => !isObject(body))
      .map((body) => ({ body, verdict: "bad" as Verdict })),
  },
);

function problemOf(answer: Answer, statuses: number[]): string | undefined {
  if (answer.status >= 500) return `a ${answer.status}: ${answer.text.slice(0, 200)}`;
  if (STACK.test(answer.text)) return "a stack-like text";
  if (!statuses.includes(answer.status))
    return `status ${answer.status} (allowed ${statuses.join(", ")}): ${answer.text.slice(0, 200)}`;
  if (answer.status >= 400) return errorBodyProblem(answer.status, answer.json, answer.text);
  return undefined;
}

/** A 201's rule against what was sent. */
function madeProblem(json: unknown, body: Record<string, unknown>): string | undefined {
  if (!isObject(json) || !isObject(json.rule)) return "no rule";
  const { rule } = json;
  if (typeof rule.id !== "string" || !ID.test(rule.id)) return `id ${JSON.stringify(rule.id)}`;
  if (typeof body.name === "string" && rule.name !== body.name.trim()) return "another name";
  if (isObject(rule.by) && rule.by.name !== "root") return "another saver";
  return undefined;
}

describe("the instance's rules under generated bodies", () => {
  it(`${RUNS} bodies on POST /api/admin/rules: 400 for what the docs refuse, else the rule asked`, async () => {
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(plans, async ({ body, verdict }) => {
        const answer = await call(server.url, "POST", "/api/admin/rules", {
          token: root.token,
          body: typeof body === "string" ? JSON.stringify(body) : body,
        });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const allowed = verdict === "bad" ? [400] : verdict === "unclear" ? [400, 201] : [201];
        const problem =
          problemOf(answer, allowed) ??
          (answer.status === 201 && isObject(body) ? madeProblem(answer.json, body) : undefined);
        if (problem) problems.push(`${problem} ← ${JSON.stringify(body).slice(0, 300)}`);
        if (answer.status !== 201 || !isObject(answer.json) || !isObject(answer.json.rule)) return;
        // Deleted at once, so that the instance's 50 are never all taken.
        const id = String(answer.json.rule.id);
        const gone = await call(server.url, "DELETE", `/api/admin/rules/${id}`, {
          token: root.token,
        });
        if (gone.status !== 200) problems.push(`delete ${id}: ${gone.status} ${gone.text}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(problems.slice(0, 10)).toEqual([]);
    expect(statuses.get(201)).toBeGreaterThan(RUNS / 20);
    expect(statuses.get(400)).toBeGreaterThan(RUNS / 10);
    const left = await call(server.url, "GET", "/api/admin/rules", { token: root.token });
    expect(left.json).toMatchObject({ rules: [] });
  });

  it(`${RUNS} ids on PUT and DELETE /api/admin/rules/{id}: 400 unless rl_ and 16 hex`, async () => {
    const ids = fc.oneof(
      junkString.filter((id) => id.isWellFormed()),
      fc.stringMatching(/^rl_[0-9a-f]{16}$/),
      fc.constantFrom("rl_", "rl_0123456789ABCDEF", "rl_0123456789abcdef0", "%2e%2e", "rl_%00"),
    );
    const problems: string[] = [];
    await fc.assert(
      fc.asyncProperty(ids, fc.constantFrom("PUT", "DELETE"), async (id, method) => {
        const path = `/api/admin/rules/${encodeURIComponent(id)}`;
        const body = method === "PUT" ? VALID : undefined;
        const answer = await call(server.url, method, path, { token: root.token, body });
        const wellFormed = ID.test(id);
        const allowed = !wellFormed ? [400, 404] : method === "PUT" ? [200] : [404];
        const problem = problemOf(answer, allowed);
        if (problem) problems.push(`${method} ${JSON.stringify(id)}: ${problem}`);
        if (method === "PUT" && answer.status === 200)
          await call(server.url, "DELETE", path, { token: root.token });
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(problems.slice(0, 10)).toEqual([]);
  });
});
