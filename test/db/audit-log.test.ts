import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { AuditPage, type AuditEntry } from "../../src/protocol/index.ts";
import { freshRoom, guest, waitUntil } from "../e2e/helpers.ts";
import { caughtUp, get, query, register, useDbSuite } from "./harness.ts";

/**
 * The instance audit log's Postgres mirror on a real primary and two streaming replicas: the
 * entries reach `audit_log` once each, with their chain, and admins query it by actor, action
 * and time from a replica.
 */
const suite = useDbSuite();

type Row = {
  seq: string;
  action: string;
  actor_name: string;
  ip: string | null;
  hash: string;
  prev_hash: string;
};

/** The mirror on the primary, in seq order. */
const mirror = () =>
  query<Row>(
    suite.cluster.primaryUrl,
    sql`SELECT seq, action, actor_name, ip, hash, prev_hash FROM audit_log ORDER BY seq`,
  );

async function auditPage(path: string) {
  const res = await get(suite.server, path, suite.root.token);
  expect(res.status, path).toBe(200);
  return {
    page: AuditPage.parse(await res.json()),
    servedBy: res.headers.get("x-edgechat-served-by"),
  };
}

describe("the audit log's Postgres mirror", () => {
  it("holds every entry of the log once, chained as in the log, and is read from a replica", async () => {
    const { server, cluster } = suite;
    const start = Date.now();
    const failed = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.99" },
      body: JSON.stringify({ username: "root", password: "not root's password" }),
    });
    expect(failed.status).toBe(401);
    const olga = await guest(server.url, "olga");
    const bob = await guest(server.url, "bob");
    const room = await freshRoom(olga);
    await olga.api.command(room, { type: "ban", clientId: "ban-1", userId: bob.user.id });
    const dana = await register(server, `dana${Date.now() % 100000}`);

    // Every entry the log holds, in Postgres: the flush runs ~200 ms after each record.
    const rows = await waitUntil(async () => {
      const report = await suite.root.api.admin.verifyAuditLog();
      const found = await mirror();
      const has = (action: string) => found.some((r) => r.action === action);
      return report.ok &&
        found.length === report.lastSeq &&
        has("member.banned") &&
        has("auth.sign_in_failed") &&
        found.some((r) => r.actor_name === dana.user.name)
        ? found
        : undefined;
    }, "the audit log mirrored");
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    for (const [i, row] of rows.entries())
      expect(row.prev_hash).toBe(i === 0 ? "0".repeat(64) : rows[i - 1]!.hash);
    const report = await suite.root.api.admin.verifyAuditLog();
    expect(report).toMatchObject({ ok: true, head: rows.at(-1)!.hash });
    await caughtUp(cluster);

    const failures = await auditPage("/api/admin/audit?action=auth.sign_in_failed");
    expect(failures.page.source).toBe("postgres");
    expect(failures.servedBy).toMatch(/^replica-[12]$/);
    expect(failures.page.entries).toHaveLength(1);
    expect(failures.page.entries[0]).toMatchObject({
      actor: { id: "", name: "root" },
      ip: "203.0.113.99",
      data: { reason: "bad_credentials" },
    });

    const olgas = await auditPage(`/api/admin/audit?actor=${olga.user.id}`);
    expect(olgas.page.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(["member.banned", "room.created", "auth.guest_signed_in"]),
    );
    const ban = olgas.page.entries.find((e) => e.action === "member.banned")!;
    expect(ban.target).toEqual({ room, user: bob.user.id });

    // Time: everything since the start, nothing before it; an actor by name.
    const since = await auditPage(`/api/admin/audit?since=${start}&limit=200`);
    expect(since.page.entries.every((e) => e.at >= start)).toBe(true);
    expect(since.page.entries.map((e) => e.action)).toContain("member.banned");
    const earlier = await auditPage(`/api/admin/audit?until=${start - 1}&action=member.banned`);
    expect(earlier.page.entries).toEqual([]);
    const byName = await auditPage(`/api/admin/audit?actor=${dana.user.name.toUpperCase()}`);
    expect(byName.page.entries.map((e) => e.action)).toEqual(["account.registered"]);

    // What the mirror serves is what the log holds, entry by entry (hashes included).
    const fromMirror: AuditEntry[] = (await auditPage("/api/admin/audit?limit=200")).page.entries;
    expect(fromMirror.map((e) => e.hash)).toEqual(rows.map((r) => r.hash).reverse());
  });
});
