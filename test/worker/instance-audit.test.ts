import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { INSTANCE_AUDIT_NAME } from "../../src/audit/feed.ts";
import type { InstanceAudit } from "../../src/audit/instance-log.ts";
import {
  AuditChainReport,
  AuditPage,
  ErrorBody,
  type AuditEntry,
  type Session,
} from "../../src/protocol/index.ts";
import { call, guest, newRoom, roomStub } from "./helpers.ts";

/** Who an entry names: id and name, as the log keeps them (no kind). */
const who = (session: Session) => ({ id: session.user.id, name: session.user.name });

const log = () => env.INSTANCE_AUDIT.getByName(INSTANCE_AUDIT_NAME);

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return registered.json();
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return signedIn.json();
}

async function page(admin: Session, query = ""): Promise<AuditPage> {
  const res = await call(`/api/admin/audit${query}`, { token: admin.token });
  expect(res.status, await res.clone().text()).toBe(200);
  return AuditPage.parse(await res.json());
}

/** Entries are recorded after the response: polls until `find` sees what it looks for. */
async function eventually(admin: Session, query: string, find: (e: AuditEntry) => boolean) {
  let found: AuditEntry | undefined;
  await expect
    .poll(async () => (found = (await page(admin, query)).entries.find(find)) !== undefined)
    .toBe(true);
  return found!;
}

async function verify(admin: Session) {
  const res = await call("/api/admin/audit/verify", { token: admin.token });
  expect(res.status).toBe(200);
  return AuditChainReport.parse(await res.json());
}

describe("the instance audit log", () => {
  it("records sign-ins, failed ones with the name tried, the address and the reason", async () => {
    const admin = await root();
    const name = `gwen${crypto.randomUUID().slice(0, 6)}`;
    const gwen = await guest(name);
    const failed = await call("/api/auth/login", {
      method: "POST",
      json: { username: "root", password: "not the password" },
      headers: { "cf-connecting-ip": "198.51.100.23" },
    });
    expect(failed.status).toBe(401);
    const signIn = await eventually(admin, `?actor=${gwen.user.id}`, () => true);
    expect(signIn).toMatchObject({ action: "auth.guest_signed_in", actor: who(gwen), ip: "local" });
    const failure = await eventually(
      admin,
      "?action=auth.sign_in_failed&actor=ROOT",
      (e) => e.ip === "198.51.100.23",
    );
    expect(failure).toMatchObject({
      actor: { id: "", name: "root" },
      data: { reason: "bad_credentials" },
    });
    expect(await verify(admin)).toMatchObject({ ok: true });
  });

  it("records a room's moderation from its events, not its chat", async () => {
    const admin = await root();
    const owner = await guest("olga");
    const bob = await guest("bob");
    const room = await newRoom(owner);
    await roomStub(room).command({ type: "post", clientId: "b1", text: "hello" }, bob.user);
    await roomStub(room).command(
      { type: "ban", clientId: "ban1", userId: bob.user.id },
      owner.user,
    );
    const ban = await eventually(admin, "?action=member.banned", (e) => e.target.room === room);
    expect(ban).toMatchObject({ actor: who(owner), target: { room, user: bob.user.id }, ip: null });
    const mine = await page(admin, `?actor=${owner.user.id}`);
    // The room's entries in their order; the sign-in is recorded by the worker, in its own time.
    const actions = mine.entries.map((e) => e.action);
    expect(actions.filter((a) => a !== "auth.guest_signed_in")).toEqual([
      "member.banned",
      "room.created",
    ]);
    expect(actions).toContain("auth.guest_signed_in");
    const bobs = await page(admin, `?actor=${bob.user.id}`);
    expect(bobs.entries.map((e) => e.action)).toEqual(["auth.guest_signed_in"]);
  });

  it("pages newest first with a cursor, and filters by time", async () => {
    const admin = await root();
    const base = Date.now() - 10_000_000;
    const actor = { id: `u_${crypto.randomUUID().slice(0, 8)}`, name: "pager" };
    await log().record(
      [1, 2, 3, 4, 5].map((i) => ({
        at: base + i,
        actor,
        action: "account.password_changed" as const,
        target: {},
        ip: "203.0.113.1",
        data: { i },
      })),
    );
    const first = await page(admin, `?actor=${actor.id}&limit=2`);
    expect(first.entries.map((e) => e.data.i)).toEqual([5, 4]);
    expect(first.source).toBe("log");
    const second = await page(admin, `?actor=${actor.id}&limit=2&before=${first.nextBefore}`);
    expect(second.entries.map((e) => e.data.i)).toEqual([3, 2]);
    const last = await page(admin, `?actor=${actor.id}&limit=2&before=${second.nextBefore}`);
    expect(last).toMatchObject({ nextBefore: null });
    expect(last.entries.map((e) => e.data.i)).toEqual([1]);
    const window = await page(admin, `?actor=${actor.id}&since=${base + 2}&until=${base + 4}`);
    expect(window.entries.map((e) => e.data.i)).toEqual([4, 3, 2]);
  });

  it("records an entry with a ref once, however often it is sent", async () => {
    const entry = {
      at: Date.now(),
      actor: { id: "u_x", name: "x" },
      action: "member.kicked" as const,
      target: { room: "r", user: "u_y" },
      ip: null,
      data: {},
      ref: crypto.randomUUID(),
    };
    const before = (await log().backlog()).lastSeq;
    await log().record([entry, entry]);
    await log().record([entry]);
    expect((await log().backlog()).lastSeq).toBe(before + 1);
  });

  it("reports entries cut off its end, by the head anchored outside it", async () => {
    const admin = await root();
    await guest("ulla");
    await guest("vera");
    const last = (await log().backlog()).lastSeq;
    await expect
      .poll(async () => (await verify(admin)) as unknown)
      .toMatchObject({
        ok: true,
        lastSeq: last,
        anchoredSeq: last,
      });
    const [cut] = await runInDurableObject(log(), (_log: InstanceAudit, state) => {
      const row = state.storage.sql.exec("SELECT * FROM entries WHERE seq = ?", last).toArray();
      state.storage.sql.exec("DELETE FROM entries WHERE seq = ?", last);
      return row;
    });
    expect(await verify(admin)).toMatchObject({ ok: false, seq: last, problem: /cut off/ });
    // Put back, for the tests after this one (the instance has one log).
    await runInDurableObject(log(), (_log: InstanceAudit, state) => {
      const columns = Object.keys(cut!);
      state.storage.sql.exec(
        `INSERT INTO entries (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        ...Object.values(cut!),
      );
    });
    expect(await verify(admin)).toMatchObject({ ok: true });
  });

  it("reports an entry altered in storage, at its seq", async () => {
    const admin = await root();
    await guest("tess");
    await expect.poll(async () => (await log().backlog()).lastSeq).toBeGreaterThan(2);
    expect(await verify(admin)).toMatchObject({ ok: true });
    await runInDurableObject(log(), (_log: InstanceAudit, state) => {
      state.storage.sql.exec("UPDATE entries SET ip = '192.0.2.1' WHERE seq = 2");
    });
    expect(await verify(admin)).toEqual({
      ok: false,
      seq: 2,
      problem: "its content does not match its content hash",
    });
    await runInDurableObject(log(), (_log: InstanceAudit, state) => {
      state.storage.sql.exec("DELETE FROM entries WHERE seq = 2");
    });
    expect(await verify(admin)).toMatchObject({ ok: false, seq: 2, problem: /missing/ });
  });

  it("is for admins only, and refuses a bad query with a clear 400", async () => {
    const admin = await root();
    const ada = await guest("ada");
    for (const path of ["/api/admin/audit", "/api/admin/audit/verify"]) {
      const anonymous = await call(path);
      expect(anonymous.status).toBe(401);
      const forbidden = await call(path, { token: ada.token });
      expect(forbidden.status).toBe(403);
      expect(ErrorBody.parse(await forbidden.json()).error.code).toBe("forbidden");
    }
    for (const [query, message] of [
      ["?limit=500", /limit: at most 200/],
      ["?since=10&until=5", /since: must not be after until/],
      ["?action=message.posted", /action/],
      ["?before=-1", /before: expected a non-negative integer/],
    ] as const) {
      const res = await call(`/api/admin/audit${query}`, { token: admin.token });
      expect(res.status, query).toBe(400);
      const body = ErrorBody.parse(await res.json());
      expect(body.error.code).toBe("bad_request");
      expect(body.error.message).toMatch(message);
    }
  });
});
