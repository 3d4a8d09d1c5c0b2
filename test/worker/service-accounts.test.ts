import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  SERVICE_ACCOUNTS_NAME,
  keyDigest,
  parseServiceKey,
} from "../../src/identity/service-key.ts";
import type { ServiceAccounts } from "../../src/service-accounts/service-accounts.ts";
import {
  AuditPage,
  ErrorBody,
  IssuedKey,
  MessagesPage,
  ServiceAccount,
  ServiceList,
  type ServiceScope,
  type Session,
} from "../../src/protocol/index.ts";
import { call, guest, newRoom } from "./helpers.ts";

const accounts = () => env.SERVICE_ACCOUNTS.getByName(SERVICE_ACCOUNTS_NAME);

/** The instance admin (ADMIN_USERNAMES=root in the worker project). */
async function root(): Promise<Session> {
  const json = { username: "root", password: "root's password" };
  const registered = await call("/api/auth/register", { method: "POST", json });
  if (registered.status === 201) return registered.json();
  const signedIn = await call("/api/auth/login", { method: "POST", json });
  if (signedIn.status !== 200) throw new Error(`root sign-in: ${signedIn.status}`);
  return signedIn.json();
}

let made = 0;
async function createService(admin: Session, scope: ServiceScope): Promise<IssuedKey> {
  made += 1;
  const name = `bot${made}-${crypto.randomUUID().slice(0, 6)}`;
  const res = await call("/api/admin/services", {
    method: "POST",
    token: admin.token,
    json: { name, scope },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return IssuedKey.parse(await res.json());
}

const post = (room: string, token: string, text = "hello") =>
  call(`/api/rooms/${room}/messages`, {
    method: "POST",
    token,
    json: { clientId: crypto.randomUUID(), text },
  });

/** The status, code and message of an error answer (its request and trace ids aside: per request). */
async function errorOf(res: Response) {
  const { requestId: _, traceId: __, ...error } = ErrorBody.parse(await res.json()).error;
  return { status: res.status, ...error };
}

/** Moves a key's times into the past, as if that long had gone by. */
const age = (keyId: string, column: "expires_at" | "last_used_at", at: number) =>
  runInDurableObject(accounts(), (_object: ServiceAccounts, state) => {
    state.storage.sql.exec(`UPDATE keys SET ${column} = ? WHERE key_id = ?`, at, keyId);
  });

describe("service accounts", () => {
  it("creates an account whose key, shown once, posts in its rooms as the service", async () => {
    const admin = await root();
    const room = await newRoom(await guest("ada"));
    const issued = await createService(admin, { rooms: [room], actions: ["post"], role: "member" });
    expect(issued.key.secret).toMatch(/^ecsk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(issued.service.keys).toEqual([
      expect.objectContaining({ id: issued.key.id, status: "active", lastUsedAt: null }),
    ]);

    const posted = await post(room, issued.key.secret);
    expect(posted.status, await posted.clone().text()).toBe(201);
    const page = MessagesPage.parse(
      await (await call(`/api/rooms/${room}/messages`, { token: issued.key.secret })).json(),
    );
    expect(page.messages.at(-1)).toMatchObject({
      text: "hello",
      author: { id: issued.service.id, name: issued.service.name },
    });

    // It is a service wherever someone asks who it is.
    const me = await call("/api/auth/me", { token: issued.key.secret });
    expect(await me.json()).toEqual({
      id: issued.service.id,
      name: issued.service.name,
      kind: "service",
      admin: false,
    });
    const gql = await call("/graphql", {
      method: "POST",
      token: issued.key.secret,
      json: { query: "{ me { id kind admin } }" },
    });
    expect(await gql.json()).toEqual({
      data: { me: { id: issued.service.id, kind: "service", admin: false } },
    });

    // Stored as SHA-256 of the secret, and nowhere in what admins read.
    const { secret } = parseServiceKey(issued.key.secret)!;
    const stored = await runInDurableObject(accounts(), (_o: ServiceAccounts, state) =>
      state.storage.sql
        .exec<{ secret_sha256: string }>(
          "SELECT secret_sha256 FROM keys WHERE key_id = ?",
          issued.key.id,
        )
        .one(),
    );
    expect(stored.secret_sha256).toBe(await keyDigest(secret));
    const list = await call("/api/admin/services", { token: admin.token });
    const text = await list.text();
    expect(text).not.toContain(secret);
    expect(text).not.toContain(stored.secret_sha256);
    const listed = ServiceList.parse(JSON.parse(text)).services.find(
      (s) => s.id === issued.service.id,
    );
    expect(listed?.keys[0]?.lastUsedAt).toEqual(expect.any(Number));
  });

  it("refuses a second account of the same name, whatever its case", async () => {
    const admin = await root();
    const issued = await createService(admin, { rooms: "*", actions: ["post"], role: "member" });
    const again = await call("/api/admin/services", {
      method: "POST",
      token: admin.token,
      json: {
        name: issued.service.name.toUpperCase(),
        scope: { rooms: "*", actions: ["post"], role: "member" },
      },
    });
    expect(await errorOf(again)).toMatchObject({ status: 409, code: "conflict" });
  });

  it("writes last-used at most once a minute", async () => {
    const admin = await root();
    const issued = await createService(admin, { rooms: "*", actions: ["post"], role: "member" });
    const { keyId, secret } = parseServiceKey(issued.key.secret)!;
    const digest = await keyDigest(secret);
    expect((await accounts().verify(keyId, digest)).ok).toBe(true);
    const lastUsed = async () => {
      const got = await accounts().get(issued.service.id);
      if (!got.ok) throw new Error(got.error.message);
      return got.value.keys[0]!.lastUsedAt;
    };
    const first = await lastUsed();
    expect(first).toEqual(expect.any(Number));
    // Within the minute: no write, however many requests.
    const earlier = (first as number) - 30_000;
    await age(keyId, "last_used_at", earlier);
    for (let i = 0; i < 5; i += 1) expect((await accounts().verify(keyId, digest)).ok).toBe(true);
    expect(await lastUsed()).toBe(earlier);
    // A minute on, the next use is written.
    await age(keyId, "last_used_at", earlier - 31_000);
    expect((await accounts().verify(keyId, digest)).ok).toBe(true);
    expect(await lastUsed()).toBeGreaterThan(earlier);
  });

  it("rotates with overlap: the old key works until its expiry, then not; the new one goes on", async () => {
    const admin = await root();
    const room = await newRoom(await guest("ada"));
    const issued = await createService(admin, { rooms: [room], actions: ["post"], role: "member" });
    const before = Date.now();
    const rotated = await call(
      `/api/admin/services/${issued.service.id}/keys/${issued.key.id}/rotate`,
      { method: "POST", token: admin.token, json: { overlapSeconds: 3600 } },
    );
    expect(rotated.status, await rotated.clone().text()).toBe(201);
    const next = IssuedKey.parse(await rotated.json());
    expect(next.key.id).not.toBe(issued.key.id);
    const old = next.service.keys.find((k) => k.id === issued.key.id)!;
    expect(old.status).toBe("expiring");
    expect(old.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(old.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);

    // Both work during the overlap.
    expect((await post(room, issued.key.secret)).status).toBe(201);
    expect((await post(room, next.key.secret)).status).toBe(201);
    // The overlap ends: the old key is refused, the new one is not.
    await age(issued.key.id, "expires_at", Date.now() - 1);
    expect(await errorOf(await post(room, issued.key.secret))).toEqual({
      status: 401,
      code: "unauthorized",
      message: "this key has expired: use the key that replaced it",
    });
    expect((await post(room, next.key.secret)).status).toBe(201);
    // An expired key cannot be rotated again.
    const late = await call(
      `/api/admin/services/${issued.service.id}/keys/${issued.key.id}/rotate`,
      { method: "POST", token: admin.token },
    );
    expect(await errorOf(late)).toMatchObject({ status: 409, code: "conflict" });
    // The alarm at the overlap's end marks the key's sockets closed, once.
    await runDurableObjectAlarm(accounts());
    const swept = await runInDurableObject(accounts(), (_o: ServiceAccounts, state) =>
      state.storage.sql
        .exec<{ at: number | null }>(
          "SELECT sockets_closed_at AS at FROM keys WHERE key_id = ?",
          issued.key.id,
        )
        .one(),
    );
    expect(swept.at).toEqual(expect.any(Number));
  });

  it("rotates with the default overlap of 24 h when no body is sent, and refuses a bad one", async () => {
    const admin = await root();
    const issued = await createService(admin, { rooms: "*", actions: ["post"], role: "member" });
    const path = `/api/admin/services/${issued.service.id}/keys/${issued.key.id}/rotate`;
    const tooLong = await call(path, {
      method: "POST",
      token: admin.token,
      json: { overlapSeconds: 31 * 86_400 },
    });
    expect(await errorOf(tooLong)).toMatchObject({
      status: 400,
      code: "bad_request",
      message: expect.stringMatching(/^overlapSeconds: at most/),
    });
    for (const body of ["{not json", '{"overlapSeconds": "1h"}', '{"overlap": 60}'])
      expect(
        await errorOf(
          await call(path, {
            method: "POST",
            token: admin.token,
            headers: { "content-type": "application/json" },
            body,
          }),
        ),
        body,
      ).toMatchObject({ status: 400, code: "bad_request" });
    const before = Date.now();
    const rotated = await call(path, { method: "POST", token: admin.token });
    expect(rotated.status, await rotated.clone().text()).toBe(201);
    const old = IssuedKey.parse(await rotated.json()).service.keys.find(
      (k) => k.id === issued.key.id,
    )!;
    expect(old.expiresAt! - before).toBeGreaterThanOrEqual(86_400_000);
    expect(old.expiresAt! - Date.now()).toBeLessThanOrEqual(86_400_000);
  });

  it("revokes a key at once, and disabling the account stops every key", async () => {
    const admin = await root();
    const room = await newRoom(await guest("ada"));
    const issued = await createService(admin, { rooms: [room], actions: ["post"], role: "member" });
    const base = `/api/admin/services/${issued.service.id}`;
    const second = IssuedKey.parse(
      await (await call(`${base}/keys`, { method: "POST", token: admin.token })).json(),
    );
    expect(second.service.keys).toHaveLength(2);

    const revoked = await call(`${base}/keys/${issued.key.id}`, {
      method: "DELETE",
      token: admin.token,
    });
    expect(revoked.status).toBe(200);
    expect(ServiceAccount.parse(await revoked.json()).keys).toContainEqual(
      expect.objectContaining({ id: issued.key.id, status: "revoked" }),
    );
    expect(await errorOf(await post(room, issued.key.secret))).toMatchObject({
      status: 401,
      message: "this key was revoked",
    });
    expect((await post(room, second.key.secret)).status).toBe(201);

    expect((await call(`${base}/disable`, { method: "POST", token: admin.token })).status).toBe(
      200,
    );
    expect(await errorOf(await post(room, second.key.secret))).toMatchObject({
      status: 401,
      message: "this service account is disabled",
    });
    expect((await call(`${base}/enable`, { method: "POST", token: admin.token })).status).toBe(200);
    expect((await post(room, second.key.secret)).status).toBe(201);
    // The revoked key stays revoked when the account comes back.
    expect((await post(room, issued.key.secret)).status).toBe(401);
  });

  it("answers a wrong secret and an unknown key id alike", async () => {
    const admin = await root();
    const room = await newRoom(await guest("ada"));
    const issued = await createService(admin, { rooms: [room], actions: ["post"], role: "member" });
    const { keyId, secret } = parseServiceKey(issued.key.secret)!;
    const flipped = `${secret.startsWith("A") ? "B" : "A"}${secret.slice(1)}`;
    const wrongSecret = await errorOf(await post(room, `ecsk_${keyId}_${flipped}`));
    const unknownId = await errorOf(await post(room, `ecsk_${"0".repeat(16)}_${secret}`));
    expect(wrongSecret).toEqual({
      status: 401,
      code: "unauthorized",
      message: "the service key is invalid",
    });
    expect(unknownId).toEqual(wrongSecret);
  });

  it("changes a scope, and records every change in the audit log without a secret", async () => {
    const admin = await root();
    const room = await newRoom(await guest("ada"));
    const other = await newRoom(await guest("bea"));
    const issued = await createService(admin, { rooms: [room], actions: ["post"], role: "member" });
    expect(await errorOf(await post(other, issued.key.secret))).toMatchObject({
      status: 404,
      code: "not_found",
    });
    const patched = await call(`/api/admin/services/${issued.service.id}`, {
      method: "PATCH",
      token: admin.token,
      json: { scope: { rooms: [room, other], actions: ["post"], role: "member" } },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect((await post(other, issued.key.secret)).status).toBe(201);
    const bad = await call(`/api/admin/services/${issued.service.id}`, {
      method: "PATCH",
      token: admin.token,
      json: { scope: { rooms: [room], actions: ["ban"], role: "member" } },
    });
    expect(await errorOf(bad)).toMatchObject({
      status: 400,
      code: "bad_request",
      message: expect.stringMatching(/^scope\.role: an action in this scope needs the moderator/),
    });

    let entries: AuditPage["entries"] = [];
    await expect
      .poll(async () => {
        const res = await call(`/api/admin/audit?actor=${admin.user.id}&limit=200`, {
          token: admin.token,
        });
        entries = AuditPage.parse(await res.json()).entries.filter(
          (e) => e.target.user === issued.service.id,
        );
        return entries.map((e) => e.action).sort();
      })
      .toEqual(["service.created", "service.scope_changed"]);
    expect(JSON.stringify(entries)).not.toContain(parseServiceKey(issued.key.secret)!.secret);
    expect(entries.find((e) => e.action === "service.created")).toMatchObject({
      actor: { id: admin.user.id, name: admin.user.name },
      data: { service: issued.service.name, key: issued.key.id },
    });
  });

  it("is for admins only, and says what is wrong with bad input", async () => {
    const ada = await guest("ada");
    expect(await errorOf(await call("/api/admin/services", { token: ada.token }))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
    expect(await errorOf(await call("/api/admin/services"))).toMatchObject({ status: 401 });
    const admin = await root();
    const noName = await call("/api/admin/services", {
      method: "POST",
      token: admin.token,
      json: { scope: { rooms: "*", actions: ["post"], role: "member" } },
    });
    expect(await errorOf(noName)).toMatchObject({ status: 400, code: "bad_request" });
    const badId = await call("/api/admin/services/nope", { token: admin.token });
    expect(await errorOf(badId)).toMatchObject({ status: 400, code: "bad_request" });
    const missing = await call(`/api/admin/services/svc_${"0".repeat(32)}`, { token: admin.token });
    expect(await errorOf(missing)).toMatchObject({ status: 404, code: "not_found" });
  });

  it("documents every route in the OpenAPI document, the rotation's body optional", async () => {
    type Doc = {
      paths: Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
      components: { securitySchemes: { bearer: { description?: string } } };
    };
    const doc = await (await call("/api/openapi.json")).json<Doc>();
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(methods("/api/admin/services")).toEqual(["get", "post"]);
    expect(methods("/api/admin/services/{service}")).toEqual(["delete", "get", "patch"]);
    expect(methods("/api/admin/services/{service}/disable")).toEqual(["post"]);
    expect(methods("/api/admin/services/{service}/enable")).toEqual(["post"]);
    expect(methods("/api/admin/services/{service}/keys")).toEqual(["post"]);
    expect(methods("/api/admin/services/{service}/keys/{key}")).toEqual(["delete"]);
    const rotate = doc.paths["/api/admin/services/{service}/keys/{key}/rotate"]?.post;
    expect(rotate?.requestBody?.required).toBe(false);
    expect(doc.components.securitySchemes.bearer.description).toContain("ecsk_");
  });
});
