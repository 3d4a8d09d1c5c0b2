/**
 * Service keys over the RPC services (docs/service-keys.md, docs/rpc.md), through the real
 * server, over Connect binary, Connect JSON and gRPC-web as a back end would call them: a key
 * posts as its service; a room outside its scope is NOT_FOUND exactly as a room never created
 * (and a private one too); an action outside it PERMISSION_DENIED naming the action; a revoked,
 * a wrong and an unknown key UNAUTHENTICATED. The authorization of the security suite, mirrored.
 */
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { EdgechatApi, type IssuedKey } from "../../src/client/index.ts";
import { ERROR_CODE_HEADER } from "../../src/rpc/errors.ts";
import { MessageService } from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { RoomService } from "../../src/rpc/gen/edgechat/v1/rooms_pb.js";
import { roomName, useServer, type TestServer } from "./helpers.ts";

let server: TestServer;
let admin: EdgechatApi;
let owner: EdgechatApi;
useServer(
  async (started) => {
    server = started;
    const api = new EdgechatApi(server.url);
    admin = api.withToken((await api.register("root", "root's password 1")).token);
    owner = api.withToken((await api.register("rpcolga", "correct horse 1")).token);
  },
  { vars: { ADMIN_USERNAMES: "root" } },
);

const TRANSPORTS: [string, (baseUrl: string) => Transport][] = [
  [
    "Connect binary",
    (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
  ],
  [
    "Connect JSON",
    (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
  ],
  ["gRPC-web", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
];

/** What a call was refused with: the RPC code, the contract's code beside it, the message. */
async function refused(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => ConnectError.from(thrown),
  );
  if (!error) throw new Error("the call succeeded");
  return {
    code: error.code,
    contract: error.metadata.get(ERROR_CODE_HEADER),
    message: error.rawMessage,
  };
}

let made = 0;
describe.each(TRANSPORTS)("service keys over %s", (_, makeTransport) => {
  it("post as the service in scope; out of scope, refused as the security suite says", async () => {
    const transport = makeTransport(`${server.url}/rpc`);
    const room = roomName("rpcsvc");
    const outside = roomName("rpcout");
    const hidden = roomName("rpchid");
    await owner.createRoom({ name: room });
    await owner.createRoom({ name: outside });
    await owner.createRoom({ name: hidden, visibility: "private" });
    made += 1;
    const issued: IssuedKey = await admin.admin.createService({
      name: `rpcbot-${made}`,
      scope: { rooms: [room], actions: ["post"], role: "member" },
    });
    const headers = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    const messages = createClient(MessageService, transport);
    const rooms = createClient(RoomService, transport);
    const key = issued.key.secret;

    const { seq } = await messages.postMessage(
      { room, clientId: "rpc-1", text: "from a back end" },
      headers(key),
    );
    const page = await messages.listMessages({ room, pageSize: 10 }, headers(key));
    expect(page.messages.find((m) => m.id === seq)?.author).toMatchObject({
      id: issued.service.id,
      name: issued.service.name,
    });

    // Out of scope: what a room never created answers, word for word, public or private.
    const ghost = await refused(rooms.getRoom({ room: roomName("rpcghost") }, headers(key)));
    expect(ghost).toEqual({ code: Code.NotFound, contract: "not_found", message: "no such room" });
    for (const other of [outside, hidden]) {
      expect(await refused(rooms.getRoom({ room: other }, headers(key)))).toEqual(ghost);
      expect(
        await refused(
          messages.postMessage({ room: other, clientId: "rpc-x", text: "in?" }, headers(key)),
        ),
      ).toEqual(ghost);
    }

    // An action outside the scope: denied, naming it.
    expect(
      await refused(rooms.setTopic({ room, clientId: "rpc-t", topic: "mine" }, headers(key))),
    ).toEqual({
      code: Code.PermissionDenied,
      contract: "forbidden",
      message: 'this service\'s scope does not include "topic"',
    });

    // Wrong, unknown and revoked keys: unauthenticated, one message for the first two.
    const { keyId, secret } = { keyId: issued.key.id, secret: key.slice(22) };
    const wrong = `ecsk_${keyId}_${secret[0] === "A" ? "B" : "A"}${secret.slice(1)}`;
    const unknown = `ecsk_${"0".repeat(16)}_${secret}`;
    const invalid = {
      code: Code.Unauthenticated,
      contract: "unauthorized",
      message: "the service key is invalid",
    };
    for (const bad of [wrong, unknown])
      expect(await refused(rooms.getRoom({ room }, headers(bad)))).toEqual(invalid);
    await admin.admin.revokeServiceKey(issued.service.id, issued.key.id);
    expect(
      await refused(messages.postMessage({ room, clientId: "rpc-2", text: "after" }, headers(key))),
    ).toEqual({ ...invalid, message: "this key was revoked" });
  });
});
