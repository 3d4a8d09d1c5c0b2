import { expect, it } from "vitest";
import { ApiError, EdgechatApi, type AdminApi, type AuditEntry } from "../../src/client/index.ts";
import { freshRoom, signIn, useServer, waitUntil, type Guest, type TestServer } from "./helpers.ts";

/**
 * The instance audit log through the real worker (`wrangler dev`): what an admin sees after
 * sign-ins, account changes and moderation, its filters, and who may see it.
 */
let server: TestServer;
let root: EdgechatApi;
let olga: Guest;
let bob: Guest;

useServer(
  async (started) => {
    server = started;
    const session = await new EdgechatApi(server.url).register("root", "root's password");
    root = new EdgechatApi(server.url, session.token);
    [olga, bob] = await signIn(server, "olga", "bob");
  },
  { vars: { ADMIN_USERNAMES: "root" } },
);

/** Entries are recorded just after the response: waits until `find` sees what it looks for. */
function entry(
  filter: Parameters<AdminApi["auditLog"]>[0],
  find: (e: AuditEntry) => boolean = () => true,
): Promise<AuditEntry> {
  return waitUntil(
    async () => (await root.admin.auditLog(filter)).entries.find(find),
    `an audit entry for ${JSON.stringify(filter)}`,
  );
}

it("shows a failed sign-in with the address it came from and the reason", async () => {
  const answer = await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": "198.51.100.77" },
    body: JSON.stringify({ username: "root", password: "a wrong guess" }),
  });
  expect(answer.status).toBe(401);
  const failed = await entry({ action: "auth.sign_in_failed" }, (e) => e.ip === "198.51.100.77");
  expect(failed).toMatchObject({
    actor: { id: "", name: "root" },
    target: {},
    data: { reason: "bad_credentials" },
  });
  // The registration is there too, with the address it came from (wrangler dev's own, here).
  const registered = await entry({ action: "account.registered", actor: "root" });
  expect(["127.0.0.1", "local"]).toContain(registered.ip);
});

it("shows a ban in a room, by whom, of whom, where", async () => {
  const room = await freshRoom(olga);
  await bob.api.postMessage(room, { text: "hello", clientId: "b1" });
  await olga.api.command(room, { type: "ban", clientId: "ban-1", userId: bob.user.id });
  const ban = await entry({ action: "member.banned" }, (e) => e.target.room === room);
  expect(ban).toMatchObject({
    actor: { id: olga.user.id, name: "olga" },
    target: { room, user: bob.user.id },
    ip: null,
  });
  // Chat is not recorded: bob's post left no entry, his guest sign-in did.
  const bobs = await root.admin.auditLog({ actor: bob.user.id });
  expect(bobs.entries.map((e) => e.action)).toEqual(["auth.guest_signed_in"]);
});

it("filters by actor, action and time, and pages with the cursor", async () => {
  const start = Date.now();
  const dana = await new EdgechatApi(server.url).register("dana", "dana's password");
  const api = new EdgechatApi(server.url, dana.token);
  const changed = await api.changePassword("dana's password", "dana's new password");
  await new EdgechatApi(server.url, changed.token).logout(changed.refreshToken);
  await entry({ actor: "dana", action: "auth.signed_out" });
  const end = Date.now();

  const all = await root.admin.auditLog({ actor: "DANA" });
  expect(all.entries.map((e) => e.action)).toEqual([
    "auth.signed_out",
    "account.password_changed",
    "account.registered",
  ]);
  expect(all.entries.every((e) => e.actor.id === dana.user.id)).toBe(true);
  const changes = await root.admin.auditLog({
    action: "account.password_changed",
    since: start,
    until: end,
  });
  expect(changes.entries.map((e) => e.actor.name)).toEqual(["dana"]);
  const before = await root.admin.auditLog({ actor: dana.user.id, until: start - 1 });
  expect(before.entries).toEqual([]);

  const first = await root.admin.auditLog({ actor: "dana", limit: 2 });
  expect(first.entries).toEqual(all.entries.slice(0, 2));
  const second = await root.admin.auditLog({ actor: "dana", limit: 2, before: first.nextBefore! });
  expect(second).toMatchObject({ entries: all.entries.slice(2), nextBefore: null });
});

it("verifies its chain, and is for admins only", async () => {
  const report = await root.admin.verifyAuditLog();
  expect(report).toMatchObject({ ok: true });
  if (!report.ok) return;
  const newest = await root.admin.auditLog({ limit: 1 });
  // Entries may still arrive between the two calls: the head is at or before the newest entry.
  expect(report.lastSeq).toBeGreaterThan(3);
  expect(newest.entries[0]!.seq).toBeGreaterThanOrEqual(report.lastSeq);
  for (const call of [() => olga.api.admin.auditLog(), () => olga.api.admin.verifyAuditLog()]) {
    const refused = await call().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(403);
  }
  const bad = await root.admin.auditLog({ limit: 1000 }).catch((error: unknown) => error);
  expect(bad).toMatchObject({ code: "bad_request", message: "limit: at most 200" });
});
