/**
 * Password guessing: per account, repeated wrong passwords lock the account for the rest of the
 * window (429 with Retry-After, even for the right password: no free guesses), and it opens
 * again afterwards; per IP address, a spray over many usernames is throttled the same way.
 *
 * Every attempt runs a 100,000-iteration PBKDF2 hash, so how long six attempts take depends on
 * the machine. What must be locked is therefore asserted on a window no run can outlast
 * (LONG_WINDOW_SECONDS), and what must lift again on short windows, where each scenario measures
 * its own attempts: when they did not surely fall inside one window, a missing lock proves
 * nothing, and the scenario runs again on a fresh server with twice the window.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../src/protocol/index.ts";
import {
  call,
  createRoom,
  expectError,
  expectUnchanged,
  register,
  roomName,
  sleep,
  snapshot,
  startServer,
  type Answer,
  type TestServer,
  type Who,
  withoutIds,
} from "./helpers.ts";

/** The documented default: longer than any run of these tests could take. */
const LONG_WINDOW_SECONDS = 300;
/** The short windows, tried in turn while a scenario's attempts do not fit in one. */
const SHORT_WINDOW_SECONDS = [2, 4, 8, 16] as const;
const MAX_FAILURES = 5;
/** Enough for every short window in turn, should a busy machine need them all. */
const SHORT_WINDOWS_TIMEOUT_MS = 240_000;

type Timed = Answer & { sentAt: number; receivedAt: number };

async function timed(request: Promise<Answer> | (() => Promise<Answer>)): Promise<Timed> {
  const sentAt = Date.now();
  const answer = await (typeof request === "function" ? request() : request);
  return { ...answer, sentAt, receivedAt: Date.now() };
}

const attempt = (base: string, username: string, password: string): Promise<Timed> =>
  timed(() => call(base, "POST", "/api/auth/login", { body: { username, password } }));

/**
 * Whether the server surely saw `first` and `last` within one window: whatever instant it
 * stamped each with lies between the request's sending and its answer.
 */
const withinWindow = (first: Timed, last: Timed, windowSeconds: number): boolean =>
  last.receivedAt - first.sentAt < windowSeconds * 1000;

/** Waits out a Retry-After (seconds): the server's own word for when the lock lifts. */
const waitOut = (answer: Timed) =>
  sleep(
    Math.max(
      0,
      answer.receivedAt + Number(answer.headers.get("retry-after")) * 1000 + 250 - Date.now(),
    ),
  );

const TOO_SLOW = "too slow" as const;

/**
 * Runs `scenario` on a fresh server per window of SHORT_WINDOW_SECONDS until it completes; it
 * answers TOO_SLOW when its attempts did not surely fit in the window it was given.
 */
async function onShortWindow(
  vars: Record<string, string>,
  scenario: (server: TestServer, windowSeconds: number) => Promise<void | typeof TOO_SLOW>,
): Promise<void> {
  const tried: number[] = [];
  for (const windowSeconds of SHORT_WINDOW_SECONDS) {
    const server = await startServer({
      vars: { ...vars, AUTH_WINDOW_SECONDS: String(windowSeconds) },
    });
    try {
      if ((await scenario(server, windowSeconds)) !== TOO_SLOW) return;
      tried.push(windowSeconds);
    } finally {
      await server.dispose();
    }
  }
  throw new Error(`the attempts never fitted in one window (tried ${tried.join(", ")} s)`);
}

describe("per-account lockout", () => {
  let server: TestServer;
  let olga: Who;
  let room: string;
  beforeAll(async () => {
    server = await startServer({
      vars: {
        ADMIN_USERNAMES: "root",
        AUTH_WINDOW_SECONDS: String(LONG_WINDOW_SECONDS),
        AUTH_MAX_FAILURES: String(MAX_FAILURES),
        AUTH_MAX_ATTEMPTS_PER_IP: "100000",
      },
    });
    olga = await register(server.url, "olga", "the real password");
    room = roomName("bf");
    await createRoom(server.url, olga, room, "private");
  });
  afterAll(async () => server?.dispose());

  it("wrong passwords: 401 up to the limit, then 429 with Retry-After, even for the right password", async () => {
    const before = await snapshot(server.url, olga, room);
    const answers: number[] = [];
    let locked: Timed | undefined;
    // Bounded: the lockout must come within the limit, not after "401s forever".
    for (let i = 0; i < MAX_FAILURES + 5 && !locked; i++) {
      const answer = await attempt(server.url, "olga", `guess number ${i}`);
      answers.push(answer.status);
      if (answer.status === 429) locked = answer;
      else expectError(answer, 401, "unauthorized", `guess ${i}`);
    }
    expect(answers).toEqual([...Array(MAX_FAILURES).fill(401), 429]);
    expectError(locked!, 429, "rate_limited", "locked");
    const retryAfter = Number(locked!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(LONG_WINDOW_SECONDS);

    // No free guesses: the right password is refused the same way during the lockout.
    const right = await attempt(server.url, "olga", "the real password");
    expectError(right, 429, "rate_limited", "right password while locked");
    for (let i = 0; i < 5; i++)
      expectError(
        await attempt(server.url, "olga", `more guesses ${i}`),
        429,
        "rate_limited",
        `more ${i}`,
      );

    // The existing session is unaffected, and nothing changed in her room.
    const me = await call(server.url, "GET", "/api/auth/me", { token: olga.token });
    expect(me.status, me.text).toBe(200);
    await expectUnchanged(server.url, olga, room, before);
  });

  it("a lockout of one account does not lock another", async () => {
    const mia = await register(server.url, "mia", "mia's password");
    for (let i = 0; i < MAX_FAILURES; i++)
      await attempt(server.url, "nora-does-not-exist", `guessing ${i}`);
    expectError(
      await attempt(server.url, "nora-does-not-exist", "guessing again"),
      429,
      "rate_limited",
      "unknown locked",
    );
    const answer = await attempt(server.url, "mia", mia.password!);
    expect(answer.status, answer.text).toBe(200);
  });

  it("an unknown username locks exactly like a real one (no enumeration)", async () => {
    const real = await register(server.url, "realname", "realname password");
    const statuses = async (username: string) => {
      const seen: { status: number; body: string }[] = [];
      for (let i = 0; i < MAX_FAILURES + 1; i++) {
        const answer = await attempt(server.url, username, `wrong ${i}`);
        // Alike but for the seconds left and each answer's own request id.
        const body = withoutIds(answer.text).replace(/\d+ s\b/, "N s");
        seen.push({ status: answer.status, body });
      }
      return seen;
    };
    expect(await statuses("ghostname")).toEqual(await statuses(real.user.name));
  });

  it("the lock lifts when the oldest failure leaves the window, and the owner signs in", async () => {
    await onShortWindow(
      { ADMIN_USERNAMES: "root", AUTH_MAX_FAILURES: String(MAX_FAILURES) },
      async (short, windowSeconds) => {
        const owner = await register(short.url, "olga", "the real password");
        const failures: Timed[] = [];
        for (let i = 0; i < MAX_FAILURES; i++) {
          failures.push(await attempt(short.url, "olga", `guess number ${i}`));
          expectError(failures.at(-1)!, 401, "unauthorized", `guess ${i}`);
        }
        const right = await attempt(short.url, "olga", "the real password");
        if (right.status !== 429) {
          // Only excused when the first failure may already have left the window.
          expect(withinWindow(failures[0]!, right, windowSeconds), right.text).toBe(false);
          return TOO_SLOW;
        }
        expectError(right, 429, "rate_limited", "right password while locked");
        expect(Number(right.headers.get("retry-after"))).toBeLessThanOrEqual(windowSeconds);
        await waitOut(right);
        const answer = await attempt(short.url, "olga", "the real password");
        expect(answer.status, answer.text).toBe(200);
        expect(Session.parse(answer.json).user).toEqual(owner.user);
      },
    );
  });
});

describe("per-IP throttle", () => {
  const LIMIT = 5;
  const VARS = {
    ADMIN_USERNAMES: "root",
    AUTH_MAX_FAILURES: String(MAX_FAILURES),
    AUTH_MAX_ATTEMPTS_PER_IP: String(LIMIT),
  };

  /** Wrong passwords over fresh usernames, `attempts` of them at most, stopping at a 429. */
  async function spray(base: string, prefix: string, attempts: number): Promise<Timed[]> {
    const answers: Timed[] = [];
    for (let i = 0; i < attempts; i++) {
      const answer = await attempt(base, `${prefix}-${i}`, "Summer2026!");
      answers.push(answer);
      if (answer.status === 429) break;
      expectError(answer, 401, "unauthorized", `${prefix} ${i}`);
    }
    return answers;
  }

  /**
   * The 429 that must follow `allowed` 401s, or TOO_SLOW when the window opened by `opener` may
   * have passed before the last attempt (then a new window rightly let it through).
   */
  function blockAfter(
    answers: Timed[],
    allowed: number,
    opener: Timed,
    windowSeconds: number,
  ): Timed | typeof TOO_SLOW {
    expect(answers.slice(0, allowed).map((a) => a.status)).toEqual(Array(allowed).fill(401));
    const last = answers[allowed]!;
    if (last.status === 429) return last;
    expect(withinWindow(opener, last, windowSeconds), `not blocked: ${last.text}`).toBe(false);
    return TOO_SLOW;
  }

  describe(
    "within one long window",
    () => {
      let server: TestServer;
      let olga: Who;
      beforeAll(async () => {
        server = await startServer({
          vars: { ...VARS, AUTH_WINDOW_SECONDS: String(LONG_WINDOW_SECONDS) },
        });
        olga = await register(server.url, "olga", "the real password");
      });
      afterAll(async () => server?.dispose());

      it("a spray over many usernames gets 429 after the limit (the registration counted); then nothing is tried", async () => {
        // The registration was the window's first attempt.
        const answers = await spray(server.url, "sprayed", LIMIT);
        expect(answers.map((a) => a.status)).toEqual([...Array(LIMIT - 1).fill(401), 429]);
        const blocked = answers.at(-1)!;
        expectError(blocked, 429, "rate_limited", "blocked");
        const retryAfter = Number(blocked.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(LONG_WINDOW_SECONDS);
        // Blocked: the real password, and registrations, are refused too.
        expectError(
          await attempt(server.url, "olga", "the real password"),
          429,
          "rate_limited",
          "right password while blocked",
        );
        expectError(
          await call(server.url, "POST", "/api/auth/register", {
            body: { username: "squatter", password: "squatter password" },
          }),
          429,
          "rate_limited",
          "register while blocked",
        );
        // Guests and token holders are not affected.
        expect((await call(server.url, "GET", "/api/auth/me", { token: olga.token })).status).toBe(
          200,
        );
        expect(
          (await call(server.url, "POST", "/api/auth/guest", { body: { name: "passerby" } }))
            .status,
        ).toBe(200);
      });
    },
    SHORT_WINDOWS_TIMEOUT_MS,
  );

  it(
    "after the block the right password works, and a registration refused during it never happened",
    async () => {
      await onShortWindow(VARS, async (server, windowSeconds) => {
        // The registration opens the window and counts as its first attempt.
        const registration = await timed(
          call(server.url, "POST", "/api/auth/register", {
            body: { username: "olga", password: "the real password" },
          }),
        );
        expect(registration.status, registration.text).toBe(201);
        const blocked = blockAfter(
          await spray(server.url, "sprayed", LIMIT),
          LIMIT - 1,
          registration,
          windowSeconds,
        );
        if (blocked === TOO_SLOW) return TOO_SLOW;
        const refused = await call(server.url, "POST", "/api/auth/register", {
          body: { username: "squatter", password: "squatter password" },
        });
        expectError(refused, 429, "rate_limited", "register while blocked");
        await waitOut(blocked);
        const answer = await attempt(server.url, "olga", "the real password");
        expect(answer.status, answer.text).toBe(200);
        const squat = await call(server.url, "POST", "/api/auth/register", {
          body: { username: "squatter", password: "squatter password" },
        });
        expect(squat.status, squat.text).toBe(201);
      });
    },
    SHORT_WINDOWS_TIMEOUT_MS,
  );

  it(
    "blocks grow while the abuse goes on",
    async () => {
      await onShortWindow(VARS, async (server, windowSeconds) => {
        const retryAfters: number[] = [];
        for (let round = 0; round < 2; round++) {
          const answers = await spray(server.url, `again-${round}`, LIMIT + 1);
          const blocked = blockAfter(answers, LIMIT, answers[0]!, windowSeconds);
          if (blocked === TOO_SLOW) return TOO_SLOW;
          retryAfters.push(Number(blocked.headers.get("retry-after")));
          // The next round starts right after the block: the abuse goes on.
          await waitOut(blocked);
        }
        expect(retryAfters[1]).toBeGreaterThan(retryAfters[0]!);
      });
    },
    SHORT_WINDOWS_TIMEOUT_MS,
  );
});
