/**
 * Password guessing: per account, repeated wrong passwords lock the account for the rest of the
 * window (429 with Retry-After, even for the right password: no free guesses), and it opens
 * again afterwards; per IP address, a spray over many usernames is throttled the same way.
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
} from "./helpers.ts";

const WINDOW_SECONDS = 2;
const MAX_FAILURES = 5;

const attempt = (base: string, username: string, password: string): Promise<Answer> =>
  call(base, "POST", "/api/auth/login", { body: { username, password } });

/** Waits out a Retry-After (seconds) with a little margin. */
const waitOut = (answer: Answer) => sleep(Number(answer.headers.get("retry-after")) * 1000 + 250);

describe("per-account lockout", () => {
  let server: TestServer;
  let olga: Who;
  let room: string;
  beforeAll(async () => {
    server = await startServer({
      vars: {
        ADMIN_USERNAMES: "root",
        AUTH_WINDOW_SECONDS: String(WINDOW_SECONDS),
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
    let locked: Answer | undefined;
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
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);

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

    // After the window, the real owner's password works.
    await waitOut(right);
    const answer = await attempt(server.url, "olga", "the real password");
    expect(answer.status, answer.text).toBe(200);
    expect(Session.parse(answer.json).user).toEqual(olga.user);
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
        seen.push({ status: answer.status, body: answer.text.replace(/\d+ s\b/, "N s") });
      }
      return seen;
    };
    expect(await statuses("ghostname")).toEqual(await statuses(real.user.name));
  });
});

describe("per-IP throttle", () => {
  const LIMIT = 5;
  let server: TestServer;
  let olga: Who;
  beforeAll(async () => {
    server = await startServer({
      vars: {
        ADMIN_USERNAMES: "root",
        AUTH_WINDOW_SECONDS: String(WINDOW_SECONDS),
        AUTH_MAX_FAILURES: String(MAX_FAILURES),
        AUTH_MAX_ATTEMPTS_PER_IP: String(LIMIT),
      },
    });
    olga = await register(server.url, "olga", "the real password");
    // Let the registration's attempt leave the window.
    await sleep(WINDOW_SECONDS * 1000 + 250);
  });
  afterAll(async () => server?.dispose());

  it("a spray over many usernames gets 429 after the limit; then nothing is tried, not even the right password", async () => {
    const statuses: number[] = [];
    let blocked: Answer | undefined;
    for (let i = 0; i < 20 && !blocked; i++) {
      const answer = await attempt(server.url, `sprayed-${i}`, "Summer2026!");
      statuses.push(answer.status);
      if (answer.status === 429) blocked = answer;
      else expectError(answer, 401, "unauthorized", `spray ${i}`);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
    expectError(blocked!, 429, "rate_limited", "blocked");
    // Blocked: the real password, and registrations, are refused too; no account appears.
    const right = await attempt(server.url, "olga", "the real password");
    expectError(right, 429, "rate_limited", "right password while blocked");
    expectError(
      await call(server.url, "POST", "/api/auth/register", {
        body: { username: "squatter", password: "squatter password" },
      }),
      429,
      "rate_limited",
      "register while blocked",
    );
    // Guests and token holders are not affected.
    expect((await call(server.url, "GET", "/api/auth/me", { token: olga.token })).status).toBe(200);
    expect(
      (await call(server.url, "POST", "/api/auth/guest", { body: { name: "passerby" } })).status,
    ).toBe(200);

    await waitOut(right);
    const answer = await attempt(server.url, "olga", "the real password");
    expect(answer.status, answer.text).toBe(200);
    // The registration during the block did not happen: the name is still free.
    const squat = await call(server.url, "POST", "/api/auth/register", {
      body: { username: "squatter", password: "squatter password" },
    });
    expect(squat.status, squat.text).toBe(201);
  });

  it("blocks grow while the abuse goes on", async () => {
    await sleep(WINDOW_SECONDS * 1000 + 250);
    const retryAfters: number[] = [];
    for (let round = 0; round < 2; round++) {
      let blocked: Answer | undefined;
      for (let i = 0; i < LIMIT + 3 && !blocked; i++) {
        const answer = await attempt(server.url, `again-${round}-${i}`, "Winter2026!");
        if (answer.status === 429) blocked = answer;
      }
      expect(blocked, `round ${round}`).toBeDefined();
      retryAfters.push(Number(blocked!.headers.get("retry-after")));
      await waitOut(blocked!);
    }
    expect(retryAfters[1]).toBeGreaterThan(retryAfters[0]!);
  });
});
