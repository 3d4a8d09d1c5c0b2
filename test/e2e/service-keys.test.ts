/**
 * Service accounts' keys end to end (docs/service-keys.md): an admin makes a service through the
 * SDK, its key posts over REST and over the WebSocket (`bearer.<key>`), everyone sees the
 * service as the author; a command outside its scope is refused on the socket; revoking the
 * key, disabling the service or the end of a rotation's overlap closes its sockets (4401).
 */
import { expect, it } from "vitest";
import { ApiError, EdgechatApi, type IssuedKey } from "../../src/client/index.ts";
import { CLOSE } from "../../src/protocol/index.ts";
import {
  freshRoom,
  rawConnect,
  signIn,
  useServer,
  waitUntil,
  type Guest,
  type TestServer,
} from "./helpers.ts";
import { closeFrameCode } from "../security/helpers.ts";

let server: TestServer;
let admin: EdgechatApi;
let ada: Guest;

useServer(
  async (started) => {
    server = started;
    const api = new EdgechatApi(server.url);
    const root = await api.register("root", "root's password 1");
    admin = api.withToken(root.token);
    [ada] = await signIn(server, "ada");
  },
  { vars: { ADMIN_USERNAMES: "root" } },
);

let made = 0;
async function service(room: string): Promise<IssuedKey> {
  made += 1;
  return admin.admin.createService({
    name: `bot-${made}`,
    scope: { rooms: [room], actions: ["post", "react"], role: "member" },
  });
}

it("a service key posts over REST and over the WebSocket, as the service", async () => {
  const room = await freshRoom(ada);
  const issued = await service(room);
  const bot = new EdgechatApi(server.url, issued.key.secret);
  const watcher = await rawConnect(server.url, room, ada.token);

  const { seq } = await bot.postMessage(room, { text: "deploy started", clientId: "rest-1" });
  // The same key on a socket, the browser way: Sec-WebSocket-Protocol edgechat.v1, bearer.<key>.
  const socket = await rawConnect(server.url, room, issued.key.secret);
  const welcome = socket.of("welcome")[0]!;
  expect(welcome.you).toEqual({ id: issued.service.id, name: issued.service.name });
  socket.sendJson({ type: "post", clientId: "ws-1", text: "deploy done" });
  const ack = await socket.nth("ack", 1);
  expect(ack.clientId).toBe("ws-1");

  // Everyone sees both, authored by the service.
  await waitUntil(() => watcher.of("event").some((f) => f.event.seq === ack.seq), "the ws post");
  const posted = watcher
    .of("event")
    .map((f) => f.event)
    .filter((e) => e.type === "message.posted");
  expect(posted.map((e) => [e.seq, e.actor, e.data])).toEqual([
    [seq, { id: issued.service.id, name: issued.service.name }, { text: "deploy started" }],
    [ack.seq, { id: issued.service.id, name: issued.service.name }, { text: "deploy done" }],
  ]);
  const page = await ada.api.messages(room); // newest first
  expect(page.messages.map((m) => [m.author, m.text])).toEqual([
    [{ id: issued.service.id, name: issued.service.name }, "deploy done"],
    [{ id: issued.service.id, name: issued.service.name }, "deploy started"],
  ]);

  // Outside its scope, on the socket too: refused, naming the action.
  socket.sendJson({ type: "topic", clientId: "ws-2", topic: "hijacked" });
  const error = await socket.nth("error", 1);
  expect(error).toMatchObject({ code: "forbidden", clientId: "ws-2" });
  expect(error.message).toContain('"topic"');
  expect((await ada.api.getRoom(room)).topic).toBe("");
});

it("revoking a key closes its sockets at once and refuses it after; the other key goes on", async () => {
  const room = await freshRoom(ada);
  const issued = await service(room);
  const second = await admin.admin.addServiceKey(issued.service.id);
  const first = await rawConnect(server.url, room, issued.key.secret);
  const other = await rawConnect(server.url, room, second.key.secret);

  await admin.admin.revokeServiceKey(issued.service.id, issued.key.id);
  expect(await closeFrameCode(first)).toBe(CLOSE.tokenRevoked);
  const refused = await new EdgechatApi(server.url, issued.key.secret)
    .postMessage(room, { text: "still here", clientId: "late" })
    .catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ApiError);
  expect((refused as ApiError).status).toBe(401);
  // The other key's socket is untouched.
  other.sendJson({ type: "post", clientId: "other-1", text: "still up" });
  expect((await other.nth("ack", 1)).clientId).toBe("other-1");

  // Disabling the service closes every socket it has.
  await admin.admin.setServiceDisabled(issued.service.id, true);
  expect(await closeFrameCode(other)).toBe(CLOSE.tokenRevoked);
});

it("a rotated key's sockets close when its overlap ends; the new key's stay", async () => {
  const room = await freshRoom(ada);
  const issued = await service(room);
  const oldSocket = await rawConnect(server.url, room, issued.key.secret);
  const rotated = await admin.admin.rotateServiceKey(issued.service.id, issued.key.id, 1);
  const newSocket = await rawConnect(server.url, room, rotated.key.secret);
  // During the overlap both work.
  oldSocket.sendJson({ type: "post", clientId: "old-1", text: "old key" });
  expect((await oldSocket.nth("ack", 1)).clientId).toBe("old-1");
  // The overlap (1 s) ends: the object's alarm closes the old key's socket.
  expect(await closeFrameCode(oldSocket)).toBe(CLOSE.tokenRevoked);
  expect(newSocket.isOpen).toBe(true);
  newSocket.sendJson({ type: "post", clientId: "new-1", text: "new key" });
  expect((await newSocket.nth("ack", 1)).clientId).toBe("new-1");
});
