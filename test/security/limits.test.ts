/**
 * The abuse limits (docs/limits.md), each set low: refused past its bound with the contract's
 * code (`rate_limited` with Retry-After, or `quota` for a standing cap), allowed again after its
 * window or once something is given up, and nobody else affected. Addresses are told apart by
 * `CF-Connecting-IP`, which local development passes on as the client sent it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BEARER_PREFIX, IssuedKey, Session, SUBPROTOCOL } from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  call,
  closeAll,
  command,
  createRoom,
  expectError,
  invite,
  rawConnect,
  register,
  roomName,
  SECURITY_VARS,
  sleep,
  startServer,
  tryUpgrade,
  wsUrl,
  type Answer,
  type TestServer,
  type Who,
} from "./helpers.ts";

let server: TestServer;

const WINDOW_SECONDS = 2;
beforeAll(async () => {
  server = await startServer({
    vars: {
      ...SECURITY_VARS,
      LIMIT_GUESTS_PER_IP: "3",
      LIMIT_GUESTS_WINDOW_SECONDS: String(WINDOW_SECONDS),
      LIMIT_ROOMS_PER_USER: "3",
      LIMIT_ROOMS_PER_IP: "5",
      LIMIT_ROOMS_WINDOW_SECONDS: String(WINDOW_SECONDS),
      LIMIT_ROOMS_OWNED: "4",
      LIMIT_COMMANDS_PER_SECOND: "5",
      LIMIT_COMMANDS_BURST: "5",
      LIMIT_SOCKETS_PER_ROOM: "2",
      LIMIT_SOCKETS_PER_USER: "3",
      LIMIT_INVITES_PER_ROOM: "2",
      LIMIT_INVITES_WINDOW_SECONDS: String(WINDOW_SECONDS),
    },
  });
});
afterAll(async () => server?.dispose());
afterEach(async () => {
  await closeAll();
  assertNoInvalidFrames();
});

let addresses = 0;
/** A fresh client address, so that tests do not share the per-address budgets. */
const newAddress = () => `198.51.100.${++addresses}`;
const from = (address: string) => ({ "cf-connecting-ip": address });

const guestFrom = (address: string, name: string) =>
  call(server.url, "POST", "/api/auth/guest", { body: { name }, headers: from(address) });

async function guest(address: string, name: string): Promise<Who> {
  const answer = await guestFrom(address, name);
  expect(answer.status, answer.text).toBe(200);
  return Session.parse(answer.json);
}

const create = (who: Who, name: string, address: string) =>
  call(server.url, "POST", "/api/rooms", {
    token: who.token,
    body: { name },
    headers: from(address),
  });

/** A refusal that says to come back later: 429 `rate_limited` with Retry-After in seconds. */
function expectRateLimited(answer: Answer, what: string): number {
  expectError(answer, 429, "rate_limited", what);
  const retryAfter = Number(answer.headers.get("retry-after"));
  expect(retryAfter, `${what}: Retry-After`).toBeGreaterThanOrEqual(1);
  return retryAfter;
}

describe("guest sign-ins per address", () => {
  it("refuses past the bound until the window has passed, other addresses unaffected", async () => {
    const address = newAddress();
    for (let i = 0; i < 3; i++) await guest(address, `guest${i}`);
    const retryAfter = expectRateLimited(await guestFrom(address, "guest3"), "4th guest");
    await guest(newAddress(), "elsewhere");
    await sleep(retryAfter * 1000 + 100);
    await guest(address, "guest4");
  });
});

describe("room creations", () => {
  it("per user: refused past the bound until the window has passed; another user creates", async () => {
    const address = newAddress();
    const ada = await guest(newAddress(), "ada");
    for (let i = 0; i < 3; i++)
      expect((await create(ada, roomName("ada"), address)).status).toBe(201);
    const retryAfter = expectRateLimited(await create(ada, roomName("ada"), address), "ada's 4th");
    const bob = await guest(newAddress(), "bob");
    expect((await create(bob, roomName("bob"), address)).status).toBe(201);
    await sleep(retryAfter * 1000 + 100);
    expect((await create(ada, roomName("ada"), address)).status).toBe(201);
  });

  it("per address: users who share an address share its bound", async () => {
    const address = newAddress();
    const [cy, di] = [await guest(newAddress(), "cyril"), await guest(newAddress(), "dina")];
    for (let i = 0; i < 3; i++)
      expect((await create(cy, roomName("cyril"), address)).status).toBe(201);
    for (let i = 0; i < 2; i++)
      expect((await create(di, roomName("dina"), address)).status).toBe(201);
    expectRateLimited(await create(di, roomName("dina"), address), "the address's 6th");
    // Attempts count, refused or not (as for sign-ins): dina has spent her 3. Another user, from
    // another address, is not affected.
    const eli = await guest(newAddress(), "elias");
    expect((await create(eli, roomName("elias"), newAddress())).status).toBe(201);
  });

  it("rooms owned: a standing cap (quota) that lifts when a room is handed over", async () => {
    const eve = await register(server.url, "eve");
    const fay = await register(server.url, "fay");
    const rooms: string[] = [];
    const make = async () => {
      const name = roomName("eve");
      const answer = await create(eve, name, newAddress());
      if (answer.status === 201) rooms.push(name);
      return answer;
    };
    for (let i = 0; i < 3; i++) expect((await make()).status).toBe(201);
    await sleep(WINDOW_SECONDS * 1000 + 100); // past the per-user window
    expect((await make()).status).toBe(201);
    expectError(await make(), 403, "quota", "eve's 5th room");
    await invite(server.url, eve, rooms[0]!, "fay");
    await command(server.url, eve, rooms[0]!, {
      type: "transfer",
      clientId: "hand-over",
      userId: fay.user.id,
    });
    // The slot comes back once the room has told eve's counter.
    let answer: Answer | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      answer = await make();
      if (answer.status === 201) break;
      await sleep(100);
    }
    expect(answer!.status, answer!.text).toBe(201);
  });
});

describe("commands per user in a room", () => {
  it("is one budget over HTTP and the socket; refused past it, back after a second; others unaffected", async () => {
    const address = newAddress();
    const owner = await guest(address, "owner");
    const room = roomName("budget");
    expect((await create(owner, room, newAddress())).status).toBe(201);
    const gus = await guest(address, "gus");
    const socket = await rawConnect(server.url, room, gus.token);
    const postHttp = (who: Who, i: number) =>
      call(server.url, "POST", `/api/rooms/${room}/messages`, {
        token: who.token,
        body: { text: `m${i}`, clientId: `${who.user.id}-${i}-${Date.now()}` },
      });
    for (let i = 0; i < 5; i++) expect((await postHttp(gus, i)).status).toBe(201);
    expectRateLimited(await postHttp(gus, 5), "gus's 6th over HTTP");
    // The socket spends the same budget: refused with the command's clientId and the wait.
    socket.sendJson({ type: "post", clientId: "ws-1", text: "by socket" });
    const refusal = await socket.nth("error", 1);
    expect(refusal).toMatchObject({ code: "rate_limited", clientId: "ws-1" });
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    expect(socket.isOpen).toBe(true);
    expect((await postHttp(owner, 1)).status).toBe(201);
    await sleep(1100);
    expect((await postHttp(gus, 6)).status).toBe(201);
  });
});

describe("commands per service in a room", () => {
  it("is one budget for all of a service's keys, by its id, as for a person", async () => {
    const root = await register(server.url, "root");
    const owner = await guest(newAddress(), "pam");
    const room = roomName("svcbudget");
    expect((await create(owner, room, newAddress())).status).toBe(201);
    const scope = { rooms: [room], actions: ["post"], role: "member" };
    const created = await call(server.url, "POST", "/api/admin/services", {
      token: root.token,
      body: { name: "chatty", scope },
    });
    expect(created.status, created.text).toBe(201);
    const first = IssuedKey.parse(created.json);
    const added = await call(server.url, "POST", `/api/admin/services/${first.service.id}/keys`, {
      token: root.token,
    });
    const second = IssuedKey.parse(added.json);
    const postWith = (key: string, i: number) =>
      call(server.url, "POST", `/api/rooms/${room}/messages`, {
        token: key,
        body: { text: `beep ${i}`, clientId: `svc-${i}-${Date.now()}` },
      });
    for (let i = 0; i < 5; i++) expect((await postWith(first.key.secret, i)).status).toBe(201);
    expectRateLimited(
      await postWith(second.key.secret, 5),
      "the service's 6th, with its other key",
    );
    expect(
      (
        await call(server.url, "POST", `/api/rooms/${room}/messages`, {
          token: owner.token,
          body: { text: "people are unaffected", clientId: "pam-1" },
        })
      ).status,
    ).toBe(201);
  });
});

describe("open sockets per user", () => {
  const upgrade = (room: string, who: Who) =>
    tryUpgrade(wsUrl(server.url, room), [SUBPROTOCOL, BEARER_PREFIX + who.token]);

  it("per room: the newest is refused (quota) while the open ones stay; one closed, one more may open", async () => {
    const owner = await guest(newAddress(), "hal");
    const room = roomName("sockets");
    expect((await create(owner, room, newAddress())).status).toBe(201);
    const ivy = await guest(newAddress(), "ivy");
    const first = await rawConnect(server.url, room, ivy.token);
    const second = await rawConnect(server.url, room, ivy.token);
    const third = await upgrade(room, ivy);
    expect(third.status).toBe(403);
    expect(JSON.parse(third.body)).toMatchObject({ error: { code: "quota" } });
    expect(first.isOpen && second.isOpen).toBe(true);
    expect((await upgrade(room, owner)).status).toBe(101);
    first.ws.close(1000, "done");
    await first.closed;
    let again = third;
    for (let attempt = 0; attempt < 20 && again.status !== 101; attempt++) {
      await sleep(100);
      again = await upgrade(room, ivy);
    }
    expect(again.status, again.body).toBe(101);
  });

  it("in all rooms together: refused past the bound in any room, allowed again once one closes", async () => {
    const owner = await guest(newAddress(), "jonas");
    const rooms = [roomName("r1"), roomName("r2"), roomName("r3")];
    for (const room of rooms) expect((await create(owner, room, newAddress())).status).toBe(201);
    const kai = await guest(newAddress(), "kai");
    const open = [
      await rawConnect(server.url, rooms[0]!, kai.token),
      await rawConnect(server.url, rooms[0]!, kai.token),
      await rawConnect(server.url, rooms[1]!, kai.token),
    ];
    const fourth = await upgrade(rooms[2]!, kai);
    expect(fourth.status).toBe(403);
    expect(JSON.parse(fourth.body)).toMatchObject({ error: { code: "quota" } });
    open[2]!.ws.close(1000, "done");
    await open[2]!.closed;
    let again = fourth;
    for (let attempt = 0; attempt < 20 && again.status !== 101; attempt++) {
      await sleep(100);
      again = await upgrade(rooms[2]!, kai);
    }
    expect(again.status, again.body).toBe(101);
  });
});

describe("invitations per room", () => {
  it("refuses past the bound until the window has passed; another room invites meanwhile", async () => {
    const lea = await register(server.url, "lea");
    const room = roomName("inv");
    const other = roomName("inv2");
    expect((await create(lea, room, newAddress())).status).toBe(201);
    expect((await create(lea, other, newAddress())).status).toBe(201);
    const invitees = await Promise.all(["mia", "ned", "oda"].map((n) => register(server.url, n)));
    for (const who of invitees.slice(0, 2)) await invite(server.url, lea, room, who.user.name);
    const refused = await call(server.url, "POST", `/api/rooms/${room}/members`, {
      token: lea.token,
      body: { username: "oda" },
    });
    const retryAfter = expectRateLimited(refused, "3rd invitation");
    await invite(server.url, lea, other, "oda");
    await sleep(retryAfter * 1000 + 100);
    await invite(server.url, lea, room, "oda");
  });
});
