import { describe, expect, it } from "vitest";
import { ErrorBody, Session } from "../../src/protocol/index.ts";
import { call } from "./helpers.ts";

let n = 0;
const fresh = (prefix = "user") => `${prefix}${++n}_${crypto.randomUUID().slice(0, 6)}`;
const PASSWORD = "correct horse battery";

async function register(username: string, password = PASSWORD) {
  const res = await call("/api/auth/register", { method: "POST", json: { username, password } });
  expect(res.status).toBe(201);
  return Session.parse(await res.json());
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(ErrorBody.parse(await res.json()).error.code).toBe(code);
}

describe("accounts", () => {
  it("registers a unique username, case-insensitively, and signs in", async () => {
    const name = fresh("Ada");
    const session = await register(name);
    expect(session.user).toMatchObject({ name, kind: "user" });
    expect(session.user.id).toMatch(/^u_/);
    expect(session.refreshToken).toMatch(/^rt1\./); // no Origin header: a non-browser client
    const again = await call("/api/auth/register", {
      method: "POST",
      json: { username: name.toUpperCase(), password: PASSWORD },
    });
    await expectError(again, 409, "conflict");
    const login = await call("/api/auth/login", {
      method: "POST",
      json: { username: name.toLowerCase(), password: PASSWORD },
    });
    expect(login.status).toBe(200);
    expect(Session.parse(await login.json()).user.id).toBe(session.user.id);
    const me = await call("/api/auth/me", { token: session.token });
    expect(await me.json()).toEqual({ ...session.user, admin: false });
  });

  it("answers a wrong password and an unknown username alike", async () => {
    const name = fresh();
    await register(name);
    const wrong = await call("/api/auth/login", {
      method: "POST",
      json: { username: name, password: "not the password" },
    });
    const nobody = await call("/api/auth/login", {
      method: "POST",
      json: { username: fresh("nobody"), password: "not the password" },
    });
    expect(wrong.status).toBe(401);
    expect(nobody.status).toBe(401);
    // Alike but for the ids of the two requests.
    const contract = async (res: Response) => {
      const { requestId: _, traceId: __, ...error } = ErrorBody.parse(await res.json()).error;
      return error;
    };
    expect(await contract(wrong)).toEqual(await contract(nobody));
  });

  it("keeps the refresh token out of reach of scripts in browsers", async () => {
    const res = await call("/api/auth/register", {
      method: "POST",
      headers: { origin: "http://edgechat.test" },
      json: { username: fresh(), password: PASSWORD },
    });
    const session = Session.parse(await res.json());
    expect(session.refreshToken).toBeUndefined();
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^edgechat_refresh=rt1\./);
    for (const flag of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth"])
      expect(cookie).toContain(flag);
  });

  it("rotates refresh tokens, and a reused one ends the whole session", async () => {
    const first = await register(fresh());
    const refresh = (refreshToken: string) =>
      call("/api/auth/refresh", { method: "POST", json: { refreshToken } });
    const second = Session.parse(await (await refresh(first.refreshToken!)).json());
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const third = Session.parse(await (await refresh(second.refreshToken!)).json());
    expect((await call("/api/auth/me", { token: third.token })).status).toBe(200);
    // The first token again: theft. The session (and every token of it) ends.
    await expectError(await refresh(first.refreshToken!), 401, "unauthorized");
    await expectError(await refresh(third.refreshToken!), 401, "unauthorized");
    await expectError(await call("/api/auth/me", { token: third.token }), 401, "unauthorized");
  });

  it("ends a session on logout, and all of them on a password change", async () => {
    const name = fresh();
    const laptop = await register(name);
    const phone = Session.parse(
      await (
        await call("/api/auth/login", {
          method: "POST",
          json: { username: name, password: PASSWORD },
        })
      ).json(),
    );
    expect(
      (
        await call("/api/auth/logout", {
          method: "POST",
          json: { refreshToken: phone.refreshToken },
        })
      ).status,
    ).toBe(204);
    await expectError(await call("/api/auth/me", { token: phone.token }), 401, "unauthorized");
    expect((await call("/api/auth/me", { token: laptop.token })).status).toBe(200);

    const tablet = Session.parse(
      await (
        await call("/api/auth/login", {
          method: "POST",
          json: { username: name, password: PASSWORD },
        })
      ).json(),
    );
    const changed = await call("/api/auth/password", {
      method: "POST",
      token: laptop.token,
      json: { currentPassword: PASSWORD, newPassword: "a brand new password" },
    });
    expect(changed.status).toBe(200);
    const renewed = Session.parse(await changed.json());
    for (const old of [laptop, tablet])
      await expectError(await call("/api/auth/me", { token: old.token }), 401, "unauthorized");
    expect((await call("/api/auth/me", { token: renewed.token })).status).toBe(200);
    await expectError(
      await call("/api/auth/login", {
        method: "POST",
        json: { username: name, password: PASSWORD },
      }),
      401,
      "unauthorized",
    );
  });

  it("deletes an account with its password, freeing the name", async () => {
    const name = fresh();
    const session = await register(name);
    await expectError(
      await call("/api/auth/account", {
        method: "DELETE",
        token: session.token,
        json: { password: "wrong password" },
      }),
      401,
      "unauthorized",
    );
    expect(
      (
        await call("/api/auth/account", {
          method: "DELETE",
          token: session.token,
          json: { password: PASSWORD },
        })
      ).status,
    ).toBe(204);
    await expectError(await call("/api/auth/me", { token: session.token }), 401, "unauthorized");
    const again = await register(name);
    expect(again.user.id).not.toBe(session.user.id);
  });

  it("locks an account after repeated wrong passwords, then lets its owner in after the window", async () => {
    // The worker project's AUTH_WINDOW_SECONDS (vitest.config.ts): short enough to wait out.
    const { env } = await import("cloudflare:workers");
    const windowMs = Number((env as unknown as Record<string, string>).AUTH_WINDOW_SECONDS) * 1000;
    // Each attempt runs a full password hash. A missing lock is only excused when the first
    // failure may already have left the window (a busy machine); then a fresh account tries
    // again, a bounded number of times.
    let locked: Response | undefined;
    for (let round = 0; round < 3 && !locked; round++) {
      const name = fresh();
      await register(name);
      const attempt = (password: string) =>
        call("/api/auth/login", { method: "POST", json: { username: name, password } });
      const firstSentAt = Date.now();
      for (let i = 0; i < 5; i++) expect((await attempt(`guess number ${i}`)).status).toBe(401);
      const answer = await attempt(PASSWORD); // even the right password waits: no free guesses
      if (answer.status !== 429) {
        expect(Date.now() - firstSentAt, "not locked within the window").toBeGreaterThanOrEqual(
          windowMs,
        );
        expect(answer.status).toBe(200); // a failure left the window: four do not lock
        continue;
      }
      locked = answer;
      const lockedAt = Date.now();
      await expectError(answer, 429, "rate_limited");
      const retryAfter = Number(answer.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter * 1000).toBeLessThanOrEqual(windowMs);
      // Waits for what Retry-After announced, then the owner's password works.
      await new Promise((resolve) =>
        setTimeout(resolve, lockedAt + retryAfter * 1000 + 250 - Date.now()),
      );
      expect((await attempt(PASSWORD)).status).toBe(200);
    }
    expect(locked, "never locked: every round outlasted the window").toBeDefined();
  }, 60_000); // the wait for the window is most of it

  it("tells an admin named in the configuration that they are one", async () => {
    const res = await call("/api/auth/register", {
      method: "POST",
      json: { username: "Root", password: PASSWORD },
    });
    const session = Session.parse(await res.json());
    expect(await (await call("/api/auth/me", { token: session.token })).json()).toMatchObject({
      name: "Root",
      admin: true,
    });
  });

  it("refuses passwords outside 8 to 256 characters", async () => {
    await expectError(
      await call("/api/auth/register", {
        method: "POST",
        json: { username: fresh(), password: "short" },
      }),
      400,
      "bad_request",
    );
    await expectError(
      await call("/api/auth/register", {
        method: "POST",
        json: { username: fresh(), password: "x".repeat(257) },
      }),
      400,
      "bad_request",
    );
  });
});
