import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Account } from "../../src/account/account.ts";
import { accountKey } from "../../src/identity/refresh-token.ts";
import {
  AdminUserDetail,
  AdminUserList,
  AuditPage,
  BanList,
  ErrorBody,
  Session,
  SessionsEnded,
} from "../../src/protocol/index.ts";
import { call, Client, guest, newRoom } from "./helpers.ts";

/**
 * User administration (`/api/admin/users…`, docs/observability.md "Administration") through the
 * real worker entry: the index, ending sessions, the instance ban and deletion by an admin.
 */

const PASSWORD = "correct horse battery";
let n = 0;
const fresh = (prefix = "usr") => `${prefix}${++n}_${crypto.randomUUID().slice(0, 6)}`;

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return Session.parse(await registered.json());
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return Session.parse(await signedIn.json());
}

async function register(username: string): Promise<Session> {
  const res = await call("/api/auth/register", {
    method: "POST",
    json: { username, password: PASSWORD },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return Session.parse(await res.json());
}

const login = (username: string) =>
  call("/api/auth/login", { method: "POST", json: { username, password: PASSWORD } });
const refresh = (refreshToken: string) =>
  call("/api/auth/refresh", { method: "POST", json: { refreshToken } });
const me = (session: Session) => call("/api/auth/me", { token: session.token });

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = ErrorBody.parse(await res.json());
  expect(res.status).toBe(status);
  expect(body.error.code).toBe(code);
  return body.error.message;
}

async function search(admin: Session, query: string) {
  const res = await call(`/api/admin/users?${query}`, { token: admin.token });
  expect(res.status, await res.clone().text()).toBe(200);
  return AdminUserList.parse(await res.json());
}

/** The newest audit entries of `action` about `userId` (recorded after the response). */
async function auditOf(admin: Session, action: string, userId: string) {
  for (let tries = 0; tries < 50; tries++) {
    const res = await call(`/api/admin/audit?action=${action}`, { token: admin.token });
    const page = AuditPage.parse(await res.json());
    const found = page.entries.filter((entry) => entry.target.user === userId);
    if (found.length > 0) return found;
    await new Promise((wake) => setTimeout(wake, 20));
  }
  return [];
}

describe("user administration", { timeout: 20_000 }, () => {
  it("is for instance admins only: 401 without a token, 403 for users and guests", async () => {
    const ada = await register(fresh("ada"));
    const gus = await guest("gus");
    const routes: [string, string][] = [
      ["GET", "/api/admin/users"],
      ["GET", `/api/admin/users/${ada.user.name}`],
      ["DELETE", `/api/admin/users/${ada.user.name}/sessions`],
      ["POST", `/api/admin/users/${ada.user.name}/ban`],
      ["POST", `/api/admin/users/${ada.user.name}/unban`],
      ["DELETE", `/api/admin/users/${ada.user.name}`],
    ];
    for (const [method, path] of routes) {
      await expectError(await call(path, { method }), 401, "unauthorized");
      for (const who of [ada, gus])
        await expectError(await call(path, { method, token: who.token }), 403, "forbidden");
    }
    // Nothing happened to ada.
    expect((await me(ada)).status).toBe(200);
  });

  it("finds accounts by name prefix, case-insensitively, in pages", async () => {
    const admin = await root();
    const stem = `Pfx${crypto.randomUUID().slice(0, 6)}`;
    const names = ["Cat", "ant", "Bee", "dog", "eel"].map((suffix) => `${stem}${suffix}`);
    for (const name of names) await register(name);
    await register(`other${stem}`);

    const first = await search(admin, `prefix=${stem.toLowerCase()}&limit=3`);
    expect(first.users.map((u) => u.name)).toEqual(names.slice().sort(byLower).slice(0, 3));
    expect(first.users[0]).toMatchObject({ kind: "user", bannedAt: null });
    expect(first.users[0]!.id).toMatch(/^u_/);
    expect(first.nextAfter).not.toBeNull();
    const second = await search(
      admin,
      `prefix=${stem.toUpperCase()}&limit=3&after=${first.nextAfter}`,
    );
    expect(second.users.map((u) => u.name)).toEqual(names.slice().sort(byLower).slice(3));
    expect(second.nextAfter).toBeNull();

    for (const bad of ["prefix=a%20b", "prefix=%25", "limit=0", "limit=201", "limit=x"])
      await expectError(
        await call(`/api/admin/users?${bad}`, { token: admin.token }),
        400,
        "bad_request",
      );
    await expectError(
      await call(`/api/admin/users/${fresh("nobody")}`, { token: admin.token }),
      404,
      "not_found",
    );
  });

  it("ends a user's sessions: tokens and sockets at once; they may sign in again", async () => {
    const admin = await root();
    const name = fresh("eve");
    const eve = await register(name);
    const second = Session.parse(await (await login(name)).json());
    const room = await newRoom(eve, "ended");
    const socket = await Client.open(room, eve);

    const before = AdminUserDetail.parse(
      await (await call(`/api/admin/users/${name}`, { token: admin.token })).json(),
    );
    expect(before.sessions).toHaveLength(2);
    expect(before.roomsUsed).toBeGreaterThanOrEqual(1);
    expect(before.admin).toBe(false);

    const res = await call(`/api/admin/users/${name}/sessions`, {
      method: "DELETE",
      token: admin.token,
    });
    expect(res.status).toBe(200);
    const ended = SessionsEnded.parse(await res.json());
    expect(ended.ended).toBe(2);
    expect(ended.user.sessions).toEqual([]);
    expect((await socket.closed).code).toBe(4401);
    for (const session of [eve, second]) expect((await me(session)).status).toBe(401);
    await expectError(await refresh(eve.refreshToken!), 401, "unauthorized");
    expect((await login(name)).status).toBe(200);
    expect(await auditOf(admin, "account.sessions_ended", eve.user.id)).toMatchObject([
      { actor: { name: "root" }, data: { name, sessions: 2 } },
    ]);
  });

  it("bans instance-wide: sessions end at once, sign-in and refresh refused; unban restores", async () => {
    const admin = await root();
    const name = fresh("mal");
    const mal = await register(name);
    const room = await newRoom(mal, "banned");
    const socket = await Client.open(room, mal);

    const res = await call(`/api/admin/users/${name.toUpperCase()}/ban`, {
      method: "POST",
      token: admin.token,
      json: { reason: "spam" },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const banned = AdminUserDetail.parse(await res.json());
    expect(banned).toMatchObject({ name, banReason: "spam", sessions: [] });
    expect(banned.bannedAt).toBeGreaterThan(0);

    // The open socket is closed and the token refused at the very next request.
    expect((await socket.closed).code).toBe(4401);
    await expectError(await me(mal), 401, "unauthorized");
    await expectError(await refresh(mal.refreshToken!), 403, "forbidden");
    expect(await expectError(await login(name), 403, "forbidden")).toMatch(/banned/);
    // A wrong password still gets the answer anyone gets: the ban is no oracle for it.
    await expectError(
      await call("/api/auth/login", {
        method: "POST",
        json: { username: name, password: "nope nope" },
      }),
      401,
      "unauthorized",
    );
    const listed = await search(admin, `prefix=${name}`);
    expect(listed.users).toMatchObject([{ name, bannedAt: banned.bannedAt }]);
    expect(await auditOf(admin, "account.banned", mal.user.id)).toMatchObject([
      { actor: { name: "root" }, data: { name, reason: "spam", sessions: 1 } },
    ]);

    // Without a body the ban has no reason; banning again keeps the first time.
    const again = await call(`/api/admin/users/${name}/ban`, {
      method: "POST",
      token: admin.token,
    });
    expect(AdminUserDetail.parse(await again.json())).toMatchObject({
      bannedAt: banned.bannedAt,
      banReason: null,
    });

    const lifted = await call(`/api/admin/users/${name}/unban`, {
      method: "POST",
      token: admin.token,
    });
    expect(AdminUserDetail.parse(await lifted.json()).bannedAt).toBeNull();
    const back = await login(name);
    expect(back.status).toBe(200);
    expect((await me(Session.parse(await back.json()))).status).toBe(200);
    expect((await search(admin, `prefix=${name}`)).users[0]!.bannedAt).toBeNull();
    expect(await auditOf(admin, "account.unbanned", mal.user.id)).toHaveLength(1);
  });

  it("refuses an admin's ban or deletion of themselves, and unknown accounts", async () => {
    const admin = await root();
    for (const [method, path] of [
      ["POST", "/api/admin/users/ROOT/ban"],
      ["DELETE", "/api/admin/users/root"],
    ] as const)
      expect(
        await expectError(await call(path, { method, token: admin.token }), 403, "forbidden"),
      ).toMatch(/themselves|own account/);
    expect((await me(admin)).status).toBe(200);
    const ghost = fresh("ghost");
    for (const [method, path] of [
      ["POST", `/api/admin/users/${ghost}/ban`],
      ["POST", `/api/admin/users/${ghost}/unban`],
      ["DELETE", `/api/admin/users/${ghost}/sessions`],
      ["DELETE", `/api/admin/users/${ghost}`],
    ] as const)
      await expectError(await call(path, { method, token: admin.token }), 404, "not_found");
    await expectError(
      await call("/api/admin/users/x/ban", { method: "POST", token: admin.token }),
      400,
      "bad_request",
    );
    await expectError(
      await call("/api/admin/users/okname/ban", {
        method: "POST",
        token: admin.token,
        json: { reason: "x".repeat(501) },
      }),
      400,
      "bad_request",
    );
  });

  it("deletes an account: sessions end, the index forgets it, the name is free", async () => {
    const admin = await root();
    const name = fresh("del");
    const gone = await register(name);
    const room = await newRoom(gone, "deleted");
    const socket = await Client.open(room, gone);

    const res = await call(`/api/admin/users/${name}`, { method: "DELETE", token: admin.token });
    expect(res.status).toBe(204);
    expect((await socket.closed).code).toBe(4401);
    await expectError(await me(gone), 401, "unauthorized");
    await expectError(await login(name), 401, "unauthorized");
    expect((await search(admin, `prefix=${name}`)).users).toEqual([]);
    await expectError(
      await call(`/api/admin/users/${name}`, { token: admin.token }),
      404,
      "not_found",
    );
    expect(await auditOf(admin, "account.deleted_by_admin", gone.user.id)).toMatchObject([
      { actor: { name: "root" }, data: { name } },
    ]);

    const reborn = await register(name);
    expect(reborn.user.id).not.toBe(gone.user.id);
    expect((await search(admin, `prefix=${name}`)).users).toMatchObject([{ id: reborn.user.id }]);
  });

  it("moderates any room through the normal commands, a private one it is not in included", async () => {
    const admin = await root();
    const owner = await register(fresh("own"));
    const member = await guest("mem");
    const res = await call("/api/rooms", {
      method: "POST",
      token: owner.token,
      json: { name: `priv-${crypto.randomUUID().slice(0, 8)}`, visibility: "private" },
    });
    expect(res.status).toBe(201);
    const { name: room } = (await res.json()) as { name: string };
    const command = (frame: object) =>
      call(`/api/rooms/${room}/commands`, {
        method: "POST",
        token: admin.token,
        json: { clientId: crypto.randomUUID(), ...frame },
      });
    expect((await command({ type: "ban", userId: member.user.id })).status).toBe(201);
    const bans = await call(`/api/rooms/${room}/bans`, { token: admin.token });
    expect(BanList.parse(await bans.json()).bans.map((b) => b.id)).toEqual([member.user.id]);
    expect((await command({ type: "topic", topic: "set by an admin" })).status).toBe(201);
    expect((await command({ type: "unban", userId: member.user.id })).status).toBe(201);
  });

  it("migrates an account stored before the ban: it signs in and can be banned", async () => {
    const admin = await root();
    const name = fresh("old");
    await register(name);
    const stub = env.ACCOUNT.getByName(accountKey(name));
    // Back to the schema before the ban and the sessions' last use, then a restart of the object.
    await runInDurableObject(stub, (_account: Account, state) => {
      state.storage.sql.exec(`DROP TABLE account_version;
        ALTER TABLE account DROP COLUMN banned_at; ALTER TABLE account DROP COLUMN ban_reason;
        ALTER TABLE sessions DROP COLUMN last_used_at;`);
      new Account(state, env);
      const columns = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('sessions')")
        .toArray()
        .map((c) => c.name);
      expect(columns).toContain("last_used_at");
    });
    expect((await login(name)).status).toBe(200);
    const detail = await call(`/api/admin/users/${name}`, { token: admin.token });
    const sessions = AdminUserDetail.parse(await detail.json()).sessions;
    expect(sessions).toHaveLength(2);
    for (const session of sessions)
      expect(session.lastUsedAt).toBeGreaterThanOrEqual(session.createdAt);
    const banned = await call(`/api/admin/users/${name}/ban`, {
      method: "POST",
      token: admin.token,
    });
    expect(AdminUserDetail.parse(await banned.json()).bannedAt).not.toBeNull();
    await expectError(await login(name), 403, "forbidden");
  });

  it("documents every route in the OpenAPI document, the ban's body optional", async () => {
    type Doc = {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
    };
    const doc = await (await call("/api/openapi.json")).json<Doc>();
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(methods("/api/admin/users")).toEqual(["get"]);
    expect(methods("/api/admin/users/{user}")).toEqual(["delete", "get"]);
    expect(methods("/api/admin/users/{user}/sessions")).toEqual(["delete"]);
    expect(methods("/api/admin/users/{user}/ban")).toEqual(["post"]);
    expect(methods("/api/admin/users/{user}/unban")).toEqual(["post"]);
    expect(doc.paths["/api/admin/users/{user}/ban"]?.post?.requestBody?.required).toBe(false);
  });
});

const byLower = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1);
