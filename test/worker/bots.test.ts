import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SERVICE_ACCOUNTS_NAME } from "../../src/identity/service-key.ts";
import { migrate } from "../../src/service-accounts/rows.ts";
import type { ServiceAccounts } from "../../src/service-accounts/service-accounts.ts";
import {
  AuditPage,
  ErrorBody,
  IssuedKey,
  ServiceList,
  type Session,
} from "../../src/protocol/index.ts";
import { call, guest, newRoom } from "./helpers.ts";

/**
 * Owners of service accounts (docs/integrations.md, "Bots") inside workerd: the migration that
 * gave existing accounts their creator as owner, the owner in the admins' list, the admins'
 * delete, and the bots' routes in the OpenAPI document. Users' own bots end to end are
 * test/e2e/bots.test.ts.
 */

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return registered.json();
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return signedIn.json();
}

async function errorOf(res: Response) {
  const { requestId: _, traceId: __, ...error } = ErrorBody.parse(await res.json()).error;
  return { status: res.status, ...error };
}

/** The ServiceAccounts tables as they were before owners (the schema of issue 14). */
const BEFORE_OWNERS = `
  DROP TABLE IF EXISTS accounts; DROP TABLE IF EXISTS scopes; DROP TABLE IF EXISTS keys;
  DROP TABLE IF EXISTS rooms_used; DROP TABLE IF EXISTS schema_version;
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
    created_by_id TEXT NOT NULL, created_by_name TEXT NOT NULL, created_at INTEGER NOT NULL,
    disabled_at INTEGER);
  CREATE TABLE scopes (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    rooms TEXT NOT NULL, actions TEXT NOT NULL, role TEXT NOT NULL);
  CREATE TABLE keys (
    key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
    secret_sha256 TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
    revoked_at INTEGER, last_used_at INTEGER, sockets_closed_at INTEGER);
  CREATE TABLE rooms_used (
    account_id TEXT NOT NULL, room TEXT NOT NULL, PRIMARY KEY (account_id, room));`;

describe("owners of service accounts", () => {
  it("migrates accounts made before owners: each one's creator becomes its owner, once", async () => {
    const object = env.SERVICE_ACCOUNTS.getByName("before-owners");
    const id = `svc_${"ab".repeat(16)}`;
    const migrated = await runInDurableObject(object, async (instance: ServiceAccounts, state) => {
      const sql = state.storage.sql;
      sql.exec(BEFORE_OWNERS);
      sql.exec(
        `INSERT INTO accounts (id, name, name_key, created_by_id, created_by_name, created_at)
         VALUES (?, 'oldbot', 'oldbot', 'u_admin1', 'root', 1)`,
        id,
      );
      sql.exec(
        `INSERT INTO scopes (account_id, rooms, actions, role) VALUES (?, '"*"', '["post"]', 'member')`,
        id,
      );
      migrate(state.storage);
      migrate(state.storage); // a second start changes nothing
      const version = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray();
      return { account: await instance.get(id), mine: await instance.list("u_admin1"), version };
    });
    expect(migrated.version).toEqual([{ version: 1 }]);
    expect(migrated.account).toMatchObject({
      ok: true,
      value: {
        id,
        name: "oldbot",
        owner: { id: "u_admin1", name: "root" },
        createdBy: { id: "u_admin1", name: "root" },
        scope: { rooms: "*", actions: ["post"], role: "member" },
      },
    });
    expect(migrated.mine.map((s) => s.id)).toEqual([id]);
  });

  it("shows admins each service's owner, and lets them delete one: its keys stop, it is recorded", async () => {
    const admin = await root();
    const room = await newRoom(await guest("ada"));
    const made = await call("/api/admin/services", {
      method: "POST",
      token: admin.token,
      json: {
        name: `doomed-${crypto.randomUUID().slice(0, 6)}`,
        scope: { rooms: [room], actions: ["post"], role: "member" },
      },
    });
    expect(made.status, await made.clone().text()).toBe(201);
    const issued = IssuedKey.parse(await made.json());
    expect(issued.service.owner).toEqual({ id: admin.user.id, name: "root" });
    const listed = ServiceList.parse(
      await (await call("/api/admin/services", { token: admin.token })).json(),
    ).services.find((s) => s.id === issued.service.id);
    expect(listed?.owner).toEqual({ id: admin.user.id, name: "root" });

    const one = `/api/admin/services/${issued.service.id}`;
    const ada = await guest("ada");
    expect(await errorOf(await call(one, { method: "DELETE", token: ada.token }))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
    const deleted = await call(one, { method: "DELETE", token: admin.token });
    expect(deleted.status).toBe(204);
    const post = await call(`/api/rooms/${room}/messages`, {
      method: "POST",
      token: issued.key.secret,
      json: { clientId: "after", text: "still here?" },
    });
    expect(await errorOf(post)).toEqual({
      status: 401,
      code: "unauthorized",
      message: "the service key is invalid",
    });
    expect(await errorOf(await call(one, { token: admin.token }))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    expect(await errorOf(await call(one, { method: "DELETE", token: admin.token }))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    // Nothing of it is left in the object's tables.
    const left = await runInDurableObject(
      env.SERVICE_ACCOUNTS.getByName(SERVICE_ACCOUNTS_NAME),
      (_o: ServiceAccounts, state) =>
        ["accounts", "scopes", "keys", "rooms_used"].map(
          (table) =>
            state.storage.sql
              .exec<{ n: number }>(
                `SELECT count(*) AS n FROM ${table} WHERE ${table === "accounts" ? "id" : "account_id"} = ?`,
                issued.service.id,
              )
              .one().n,
        ),
    );
    expect(left).toEqual([0, 0, 0, 0]);
    await expect
      .poll(async () => {
        const res = await call(`/api/admin/audit?action=service.deleted&limit=200`, {
          token: admin.token,
        });
        return AuditPage.parse(await res.json()).entries.find(
          (e) => e.target.user === issued.service.id,
        );
      })
      .toMatchObject({
        actor: { id: admin.user.id, name: "root" },
        data: { service: issued.service.name },
      });
  });

  it("documents every route of /api/bots in the OpenAPI document", async () => {
    type Doc = {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
    };
    const doc = await (await call("/api/openapi.json")).json<Doc>();
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(methods("/api/bots")).toEqual(["get", "post"]);
    expect(methods("/api/bots/{service}")).toEqual(["delete", "get", "patch"]);
    expect(methods("/api/bots/{service}/disable")).toEqual(["post"]);
    expect(methods("/api/bots/{service}/enable")).toEqual(["post"]);
    expect(methods("/api/bots/{service}/keys")).toEqual(["post"]);
    expect(methods("/api/bots/{service}/keys/{key}")).toEqual(["delete"]);
    expect(doc.paths["/api/bots/{service}/keys/{key}/rotate"]?.post?.requestBody?.required).toBe(
      false,
    );
  });
});
