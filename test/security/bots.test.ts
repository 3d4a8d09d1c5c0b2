/**
 * Users' own bots (docs/integrations.md, "Bots") against a real server: someone else's bot, and
 * a room one may not see, answer byte for byte what nothing at all answers; then generated
 * bodies (fast-check) on the bots' routes with a body, `POST /api/bots`, `PATCH
 * /api/bots/{service}` and the rotation, judged by an oracle written from the contract
 * (./contract.ts: botScopeVerdict and its kin), not by the product's schemas: a valid body
 * succeeds unless a written rule refuses it (a room not the caller's: 403; the cap or a name
 * taken: 409; ten usable keys: 409), an invalid one is 400, never a 5xx, never a stack.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IssuedKey, ServiceAccount } from "../../src/protocol/index.ts";
import { junkString, mutate, padTo, plausible, weirdValue, type Plan } from "./arbitraries.ts";
import {
  BOTS,
  CONTRACT,
  createBotVerdict,
  errorBodyProblem,
  rotateVerdict,
  SERVICE_ACTIONS,
  STATUS_OF,
  updateBotVerdict,
  type Code,
} from "./contract.ts";
import {
  call,
  createRoom,
  register,
  roomName,
  SECURITY_VARS,
  startServer,
  withoutIds,
  type TestServer,
  type Who,
} from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_BOTS_RUNS ?? 900);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 90_000);

let server: TestServer;
let olga: Who; // the fuzzer: owns `mine`
let nina: Who; // owns `hers` and `hersPrivate`
const mine = [roomName("bmine"), roomName("bmine"), roomName("bmine")];
const hers = roomName("bhers");
const hersPrivate = roomName("bhid");
const ghost = roomName("bghost"); // never created

beforeAll(async () => {
  server = await startServer({ vars: SECURITY_VARS });
  olga = await register(server.url, "bolga");
  nina = await register(server.url, "bnina");
  await createRoom(server.url, olga, mine[0]!);
  await createRoom(server.url, olga, mine[1]!);
  await createRoom(server.url, olga, mine[2]!, "private");
  await createRoom(server.url, nina, hers);
  await createRoom(server.url, nina, hersPrivate, "private");
});
afterAll(async () => server?.dispose());

async function makeBot(who: Who, name: string, rooms: string[]): Promise<IssuedKey> {
  const answer = await call(server.url, "POST", "/api/bots", {
    token: who.token,
    body: { name, scope: { rooms, actions: ["post"], role: "member" } },
  });
  expect(answer.status, answer.text).toBe(201);
  return IssuedKey.parse(answer.json);
}

describe("what a bot's routes tell", () => {
  it("answers someone else's bot byte for byte as one that does not exist, on every route", async () => {
    const theirs = await makeBot(nina, "ninasbot", [hers]);
    const missing = `svc_${"0".repeat(32)}`;
    const routes = (id: string, key: string): [string, string, unknown?][] => [
      ["GET", `/api/bots/${id}`],
      [
        "PATCH",
        `/api/bots/${id}`,
        { scope: { rooms: [mine[0]], actions: ["post"], role: "member" } },
      ],
      ["POST", `/api/bots/${id}/disable`],
      ["POST", `/api/bots/${id}/enable`],
      ["POST", `/api/bots/${id}/keys`],
      ["POST", `/api/bots/${id}/keys/${key}/rotate`, {}],
      ["DELETE", `/api/bots/${id}/keys/${key}`],
      ["DELETE", `/api/bots/${id}`],
    ];
    const answer = async ([method, path, body]: [string, string, unknown?]) => {
      const got = await call(server.url, method, path, { token: olga.token, body });
      return `${got.status} ${withoutIds(got.text)}`;
    };
    const forTheirs = await Promise.all(routes(theirs.service.id, theirs.key.id).map(answer));
    const forNothing = await Promise.all(routes(missing, theirs.key.id).map(answer));
    expect(forTheirs).toEqual(forNothing);
    for (const got of forTheirs) expect(got).toMatch(/^404 .*"code":"not_found"/);
    // Still nina's, untouched.
    const still = await call(server.url, "GET", `/api/bots/${theirs.service.id}`, {
      token: nina.token,
    });
    expect(ServiceAccount.parse(still.json).keys.map((k) => k.status)).toEqual(["active"]);
  });

  it("answers a private room one may not see as a room that does not exist, and as a public one", async () => {
    const answerFor = async (room: string) => {
      const got = await call(server.url, "POST", "/api/bots", {
        token: olga.token,
        body: { name: "probe", scope: { rooms: [room], actions: ["post"], role: "member" } },
      });
      return [got.status, withoutIds(got.text).replace(room, "<room>")];
    };
    const hidden = await answerFor(hersPrivate);
    expect(hidden[0]).toBe(403);
    expect(await answerFor(ghost)).toEqual(hidden);
    expect(await answerFor(hers)).toEqual(hidden);
  });
});

// ---------------------------------------------------------------- the fuzz

/** An answer the oracle allows: a status, and for a success what to check and remember. */
type Expected = {
  status: number;
  code?: Code;
  check?: (json: unknown) => string | undefined;
  apply?: (json: unknown) => Promise<void> | void;
};
const refused = (...codes: Code[]): Expected[] =>
  codes.map((code) => ({ status: STATUS_OF[code], code }));
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The world as the test made it: the fuzzer's bots, the names taken, the fixed bot's keys. */
class World {
  /** Lower-cased names of every service account on the server. */
  readonly names = new Set<string>();
  /** The fuzzer's bots, by id. */
  readonly bots = new Set<string>();
  fixed!: IssuedKey["service"];
  /** The fixed bot's newest key, and when each of its keys stops being usable (null: never). */
  current = "";
  readonly expiries = new Map<string, number | null>();

  usable(now: number): { surely: number; maybe: number } {
    let surely = 0;
    let maybe = 0;
    for (const at of this.expiries.values()) {
      if (at === null || at > now + 2000) surely += 1;
      else if (at > now - 2000) maybe += 1; // its end is too close to call
    }
    return { surely, maybe };
  }
}

/** The rooms a generated scope names: the fuzzer's, others', one never made, and bad names. */
const roomPick = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...mine) },
  { weight: 2, arbitrary: fc.constantFrom(hers, hersPrivate, ghost) },
  { weight: 1, arbitrary: fc.constantFrom("*", "Upper", "-dash", "a".repeat(65), "") },
  { weight: 1, arbitrary: junkString },
);
/** A member's actions, more often than a moderator's, so that member scopes are often valid. */
const actionPick = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("post", "react", "edit", "delete", "undo", "leave") },
  { weight: 1, arbitrary: fc.constantFrom(...SERVICE_ACTIONS) },
);
const wholeScope = fc.record({
  rooms: fc.oneof(
    { weight: 12, arbitrary: fc.array(roomPick, { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...mine), { minLength: 19, maxLength: 22 }) },
    { weight: 1, arbitrary: fc.constantFrom("*", [], mine[0]) },
    { weight: 1, arbitrary: weirdValue },
  ),
  actions: fc.oneof(
    { weight: 12, arbitrary: fc.array(actionPick, { minLength: 1, maxLength: 4 }) },
    {
      weight: 2,
      arbitrary: fc.array(
        fc.constantFrom("post", "transfer", "role", "audit", "invite_moderator", "fly", "POST"),
        { maxLength: 3 },
      ),
    },
    { weight: 1, arbitrary: weirdValue },
  ),
  role: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom("member", "moderator") },
    { weight: 1, arbitrary: fc.constantFrom("owner", "admin", "Member", 1, null) },
  ),
});
/** Whole scopes mostly; now and then one with a field dropped or one too many. */
const scopes: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 12, arbitrary: wholeScope },
  {
    weight: 1,
    arbitrary: fc
      .tuple(wholeScope, fc.constantFrom("rooms", "actions", "role"))
      .map(([scope, dropped]) =>
        Object.fromEntries(Object.entries(scope).filter(([k]) => k !== dropped)),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(wholeScope, fc.constantFrom("admin", "owner", "__proto__", "extra"))
      .map(([scope, extra]) => ({ ...scope, [extra]: true })),
  },
);
const botNames = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{3,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom("ninasbot", "NINASBOT", "ab", "a b", "x".repeat(33)) },
  { weight: 1, arbitrary: junkString },
);

type Target = {
  method: string;
  path: (world: World) => string;
  bodies: fc.Arbitrary<Record<string, unknown>>;
  /** What the contract allows for the JSON sent at `sentAt` (undefined: no body). */
  expect: (json: unknown, world: World, sentAt: number) => Expected[];
};

/** The rooms of a valid scope the fuzzer does not own, if any. */
const notMine = (scope: unknown) =>
  ((scope as { rooms: string[] }).rooms ?? []).filter((room) => !mine.includes(room));

const scopeProblem = (got: unknown, sent: unknown) => {
  const { rooms, actions, role } = sent as { rooms: string[]; actions: string[]; role: string };
  const want = { rooms: [...new Set(rooms)], actions: [...new Set(actions)], role };
  return JSON.stringify(got) === JSON.stringify(want)
    ? undefined
    : `scope ${JSON.stringify(got)}, not ${JSON.stringify(want)}`;
};

const TARGETS: Target[] = [
  {
    method: "POST",
    path: () => "/api/bots",
    bodies: fc.record({ name: botNames, scope: scopes }, { requiredKeys: ["name", "scope"] }),
    expect: (json, world) => {
      if (createBotVerdict(json) === "bad") return refused("bad_request");
      const { name, scope } = json as { name: string; scope: unknown };
      if (notMine(scope).length > 0) return refused("forbidden");
      if (world.bots.size >= BOTS.perUser || world.names.has(name.toLowerCase()))
        return refused("conflict");
      return [
        {
          status: 201,
          check: (body) => {
            const parsed = IssuedKey.safeParse(body);
            if (!parsed.success) return "not an issued key";
            const { service, key } = parsed.data;
            if (service.name !== name || service.owner.id !== olga.user.id) return "not hers";
            return key.secret.startsWith("ecsk_") ? scopeProblem(service.scope, scope) : "no key";
          },
          apply: async (body) => {
            const { service } = body as IssuedKey;
            world.names.add(name.toLowerCase());
            world.bots.add(service.id);
            // Keep under the cap, most of the time: delete one of hers now and then.
            if (world.bots.size >= BOTS.perUser - 1) {
              const doomed = [...world.bots].find((id) => id !== world.fixed.id)!;
              const gone = await call(server.url, "DELETE", `/api/bots/${doomed}`, {
                token: olga.token,
              });
              expect(gone.status, gone.text).toBe(204);
              world.bots.delete(doomed);
            }
          },
        },
      ];
    },
  },
  {
    method: "PATCH",
    path: (world) => `/api/bots/${world.fixed.id}`,
    bodies: fc.record({ scope: scopes }, { requiredKeys: ["scope"] }),
    expect: (json) => {
      if (updateBotVerdict(json) === "bad") return refused("bad_request");
      const { scope } = json as { scope: unknown };
      if (notMine(scope).length > 0) return refused("forbidden");
      return [
        {
          status: 200,
          check: (body) => {
            const parsed = ServiceAccount.safeParse(body);
            return parsed.success ? scopeProblem(parsed.data.scope, scope) : "not a service";
          },
        },
      ];
    },
  },
  {
    method: "POST",
    path: (world) => `/api/bots/${world.fixed.id}/keys/${world.current}/rotate`,
    bodies: fc.record(
      {
        overlapSeconds: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 0, max: BOTS.overlapMaxSeconds }) },
          { weight: 2, arbitrary: fc.constantFrom(0, 1, BOTS.overlapMaxSeconds + 1, -1, 1.5) },
          { weight: 1, arbitrary: weirdValue },
        ),
      },
      { requiredKeys: [] },
    ),
    expect: (json, world, sentAt) => {
      if (json !== undefined && rotateVerdict(json) === "bad") return refused("bad_request");
      const overlap = (json as { overlapSeconds?: number } | undefined)?.overlapSeconds ?? 86_400;
      const { surely, maybe } = world.usable(sentAt);
      const rotated: Expected = {
        status: 201,
        check: (body) => (IssuedKey.safeParse(body).success ? undefined : "not an issued key"),
        apply: async (body) => {
          const issued = body as IssuedKey;
          const old = issued.service.keys.find((k) => k.id === world.current);
          world.expiries.set(world.current, old?.expiresAt ?? sentAt + overlap * 1000);
          world.expiries.set(issued.key.id, null);
          world.current = issued.key.id;
          // Revoke the old keys still usable now and then, so that rotations go on.
          if (world.usable(Date.now()).surely + world.usable(Date.now()).maybe >= 8)
            for (const [id, at] of world.expiries)
              if (id !== world.current && (at === null || at > Date.now())) {
                const revoked = await call(
                  server.url,
                  "DELETE",
                  `/api/bots/${world.fixed.id}/keys/${id}`,
                  { token: olga.token },
                );
                expect(revoked.status, revoked.text).toBe(200);
                world.expiries.set(id, Date.now() - 10_000);
              }
        },
      };
      // docs/service-keys.md: at most 10 usable keys; the 11th is 409.
      if (surely >= 10) return refused("conflict");
      return surely + maybe >= 10 ? [rotated, ...refused("conflict")] : [rotated];
    },
  },
];

type Sent = { index: number; plan: Plan; json: boolean };

const planFor = (t: Target): fc.Arbitrary<Plan> =>
  fc.oneof(
    { weight: 12, arbitrary: plausible(t.bodies, { asIs: 10, mutated: 6 }) },
    {
      weight: 2,
      arbitrary: fc.jsonValue().map((v) => ({ kind: "text" as const, data: JSON.stringify(v) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: "binary", maxLength: 100 })
        .map((data) => ({ kind: "text" as const, data })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          t.bodies,
          fc.integer({ min: CONTRACT.frameBytes - 40, max: CONTRACT.frameBytes + 40 }),
        )
        .map(([base, bytes]) => ({ kind: "padded" as const, base, bytes })),
    },
  );

describe("generated bodies on the bots' routes", () => {
  it(
    `${RUNS} bodies on POST /api/bots, PATCH /api/bots/{service} and the rotation: as the contract says, never 5xx`,
    async () => {
      const world = new World();
      world.names.add("ninasbot");
      const fixed = await makeBot(olga, "fixedbot", [mine[0]!]);
      world.fixed = fixed.service;
      world.names.add("fixedbot");
      world.bots.add(fixed.service.id);
      world.current = fixed.key.id;
      world.expiries.set(fixed.key.id, null);

      const problems: string[] = [];
      const statuses: Record<number, number> = {};
      let requests = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: TARGETS.length - 1 }).chain((index) =>
            fc.record({
              index: fc.constant(index),
              plan: planFor(TARGETS[index]!),
              json: fc.boolean().map((b) => b || Math.random() < 0.9),
            }),
          ),
          async ({ index, plan, json: asJson }: Sent) => {
            const t = TARGETS[index]!;
            let payload: string;
            if (plan.kind === "plausible")
              payload = plan.mutation
                ? mutate(plan.base, plan.mutation)
                : JSON.stringify(plan.base);
            else if (plan.kind === "padded") payload = padTo(plan.base, plan.bytes);
            else payload = (plan as { data: string }).data;
            const sentAt = Date.now();
            let parsed: { ok: true; value: unknown } | { ok: false } = { ok: false };
            try {
              parsed = { ok: true, value: JSON.parse(payload) };
            } catch {
              // not JSON
            }
            const asRead = parsed.ok
              ? t.expect(parsed.value, world, sentAt)
              : refused("bad_request");
            let expected: Expected[];
            if (Buffer.byteLength(payload) > CONTRACT.frameBytes) expected = refused("too_large");
            else if (asJson) expected = asRead;
            // Not declared as JSON: refused, read anyway, or (an optional body) read as none.
            else
              expected = [
                ...refused("bad_request"),
                ...asRead,
                ...(t.path(world).endsWith("/rotate") ? t.expect(undefined, world, sentAt) : []),
              ];

            const path = t.path(world);
            const response = await fetch(server.url + path, {
              method: t.method,
              headers: {
                authorization: `Bearer ${olga.token}`,
                ...(asJson
                  ? { "content-type": "application/json" }
                  : { "content-type": "text/plain" }),
              },
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
            const what = `${t.method} ${path} ${payload.slice(0, 200)} → ${response.status} ${raw.slice(0, 300)}`;
            const why: string[] = [];
            const hit = expected.find((e) => {
              if (e.status !== response.status) return false;
              if (e.code && !(isObject(body) && isObject(body.error) && body.error.code === e.code))
                return false;
              const problem =
                response.status >= 400
                  ? errorBodyProblem(response.status, body, raw)
                  : e.check?.(body);
              if (problem) why.push(problem);
              return !problem;
            });
            if (!hit) {
              const allowed = [...new Set(expected.map((e) => `${e.status} ${e.code ?? ""}`))];
              problems.push(`${what}\n    expected ${allowed.join(" | ")} ${why.join("; ")}`);
            } else await hit.apply?.(body);
            expect(problems).toEqual([]);
          },
        ),
        { numRuns: RUNS, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: BUDGET_MS },
      );
      console.log(`fuzz bots: ${requests} requests; statuses ${JSON.stringify(statuses)}`);
      expect(requests).toBeGreaterThanOrEqual(Math.min(RUNS, BUDGET_MS / 100));
      // Every kind of answer came up: successes, bad bodies, rooms not hers.
      for (const status of [200, 201, 400, 403]) expect(statuses[status] ?? 0).toBeGreaterThan(0);
      // Her bots are as the oracle believes, and the server is healthy.
      const list = await call(server.url, "GET", "/api/bots", { token: olga.token });
      expect((list.json as { bots: { id: string }[] }).bots.map((b) => b.id).sort()).toEqual(
        [...world.bots].sort(),
      );
      expect((await call(server.url, "GET", "/healthz")).status).toBe(200);
    },
    BUDGET_MS + 60_000,
  );
});
