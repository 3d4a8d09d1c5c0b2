/**
 * Every RPC service of proto/edgechat/v1 through the real server (wrangler dev), over each
 * transport a Worker serves (Connect binary, Connect JSON, gRPC-web, with connect-node's clients
 * as a back-end service makes them) and over plain gRPC through the gateway: the rooms, messages and every command by client_id, members
 * and roles, history paging and time travel, WatchRoom with exact resume, the admin service; and
 * the contract's refusals as RPC codes, with the contract's code beside them.
 */
import { request as httpRequest } from "node:http";
import { gunzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../src/gateway/server.ts";
import { EdgechatApi } from "../../src/client/index.ts";
import { AdminService } from "../../src/rpc/gen/edgechat/v1/admin_pb.js";
import { HistoryService } from "../../src/rpc/gen/edgechat/v1/history_pb.js";
import { MemberService } from "../../src/rpc/gen/edgechat/v1/members_pb.js";
import {
  ListMessagesRequestSchema,
  ListMessagesResponseSchema,
  MessageService,
} from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { RoomService } from "../../src/rpc/gen/edgechat/v1/rooms_pb.js";
import { Role, Visibility } from "../../src/rpc/gen/edgechat/v1/types_pb.js";
import { ERROR_CODE_HEADER } from "../../src/rpc/errors.ts";
import { roomName, useServer, type TestServer } from "./helpers.ts";

const ADMIN = `rpcadmin${Math.random().toString(36).slice(2, 6)}`;
let server: TestServer;
useServer((started) => void (server = started), { vars: { ADMIN_USERNAMES: ADMIN } });

type Who = { token: string; id: string; name: string };
async function register(prefix: string): Promise<Who> {
  const name = `${prefix}${Math.random().toString(36).slice(2, 8)}`;
  const session = await new EdgechatApi(server.url).register(name, "correct horse 1");
  return { token: session.token, id: session.user.id, name };
}

// The gateway in front of the same worker, for plain gRPC (HTTP/2).
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ upstreams: [server.url] });
});
afterAll(async () => gateway?.close());

const worker = () => `${server.url}/rpc`;
const TRANSPORTS: [string, () => Transport][] = [
  [
    "Connect binary",
    () => createConnectTransport({ baseUrl: worker(), httpVersion: "1.1", useBinaryFormat: true }),
  ],
  [
    "Connect JSON",
    () => createConnectTransport({ baseUrl: worker(), httpVersion: "1.1", useBinaryFormat: false }),
  ],
  ["gRPC-web", () => createGrpcWebTransport({ baseUrl: worker(), httpVersion: "1.1" })],
  ["plain gRPC through the gateway", () => createGrpcTransport({ baseUrl: gateway.url })],
];

/** The five services' clients over one transport, calling as `who`. */
function clients(transport: Transport, who: Who) {
  const headers = { authorization: `Bearer ${who.token}` };
  const as = <S extends Parameters<typeof createClient>[0]>(service: S): Client<S> => {
    const client = createClient(service, transport) as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    return new Proxy(client, {
      get:
        (target, name: string) =>
        (request: unknown, options: Record<string, unknown> = {}) =>
          target[name]!(request, { ...options, headers }),
    }) as Client<S>;
  };
  return {
    rooms: as(RoomService),
    messages: as(MessageService),
    members: as(MemberService),
    history: as(HistoryService),
    admin: as(AdminService),
  };
}

async function refused(
  call: Promise<unknown>,
): Promise<{ code: Code; contract: string | null; message: string }> {
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

describe.each(TRANSPORTS)("the services over %s", (_, makeTransport) => {
  it("rooms, messages and every message command, idempotent by client_id, then history and time travel", async () => {
    const transport = makeTransport();
    const ada = await register("ada");
    const api = clients(transport, ada);
    const name = roomName("rpc");
    const { room } = await api.rooms.createRoom({
      name,
      topic: "first",
      visibility: Visibility.PUBLIC,
    });
    expect(room).toMatchObject({
      name,
      topic: "first",
      visibility: Visibility.PUBLIC,
      memberCount: 1,
    });
    expect((await api.rooms.getRoom({ room: name })).room?.lastSeq).toBe(2n);
    const listed = await api.rooms.listRooms({ prefix: name, pageSize: 10 });
    expect(listed.rooms.map((r) => r.name)).toEqual([name]);

    const post = await api.messages.postMessage({ room: name, clientId: "p1", text: "hello" });
    expect(await api.messages.postMessage({ room: name, clientId: "p1", text: "hello" })).toEqual(
      post,
    );
    const reply = await api.messages.postMessage({
      room: name,
      clientId: "p2",
      text: "re",
      replyTo: post.seq,
    });
    await api.messages.editMessage({
      room: name,
      clientId: "e1",
      messageId: post.seq,
      text: "hello!",
    });
    await api.messages.react({
      room: name,
      clientId: "r1",
      messageId: post.seq,
      emoji: "👍",
      on: true,
    });
    await api.messages.deleteMessage({ room: name, clientId: "d1", messageId: reply.seq });
    await api.messages.undo({ room: name, clientId: "u1" });
    await api.messages.redo({ room: name, clientId: "u2" });
    const redacted = await api.messages.redactMessage({
      room: name,
      clientId: "x1",
      messageId: reply.seq,
      reason: "oops",
    });
    await api.rooms.setTopic({ room: name, clientId: "t1", topic: "second" });
    await api.rooms.setSlowMode({ room: name, clientId: "s1", seconds: 0 });

    const page = await api.messages.listMessages({ room: name, pageSize: 10 });
    expect(page.messages.map((m) => [m.id, m.text, m.deleted, m.redacted])).toEqual([
      [reply.seq, "", true, true],
      [post.seq, "hello!", false, false],
    ]);
    expect(page.messages[1]!.reactions).toMatchObject([{ emoji: "👍", userIds: [ada.id] }]);
    expect(page.messages[1]!.editedAt).toBeDefined();

    const events = await api.history.listEvents({ room: name, after: 0n, pageSize: 1000 });
    expect(events.events.map((e) => e.type)).toContain("message.redacted");
    expect(events.lastSeq).toBeGreaterThanOrEqual(redacted.seq);
    expect(events.events.find((e) => e.seq === post.seq)?.data).toEqual({ text: "hello" });
    const past = await api.history.getStateAt({
      room: name,
      moment: { case: "atSeq", value: post.seq },
    });
    expect(past).toMatchObject({ seq: post.seq, topic: "first" });
    expect(past.messages.map((m) => m.text)).toEqual(["hello"]);
    const byTime = await api.history.getStateAt({
      room: name,
      moment: { case: "atTime", value: timestampFromMs(Date.now()) },
    });
    expect(byTime.topic).toBe("second");
    expect((await api.admin.verifyRoomAudit({ room: name })).report).toMatchObject({ ok: true });
  });

  it("members and roles: invite, set a role, mute, ban and unban, leave and transfer", async () => {
    const transport = makeTransport();
    const [owner, bob, cy] = [await register("own"), await register("bob"), await register("cy")];
    const api = clients(transport, owner);
    const name = roomName("rpcm");
    await api.rooms.createRoom({ name, visibility: Visibility.PRIVATE });
    await api.members.invite({
      room: name,
      username: bob.name,
      role: Role.MODERATOR,
      clientId: "i1",
    });
    await api.members.invite({ room: name, username: cy.name, clientId: "i2" });
    await api.members.setRole({ room: name, clientId: "r1", userId: cy.id, role: Role.MODERATOR });
    await api.members.mute({ room: name, clientId: "m1", userId: cy.id, seconds: 60 });
    const muted = await api.members.listMembers({ room: name });
    expect(muted.members.find((m) => m.id === cy.id)).toMatchObject({ role: Role.MODERATOR });
    expect(muted.members.find((m) => m.id === cy.id)?.mutedUntil).toBeDefined();
    await api.members.unmute({ room: name, clientId: "m2", userId: cy.id });
    await api.members.ban({ room: name, clientId: "b1", userId: cy.id });
    expect((await api.members.listBans({ room: name })).bans.map((b) => b.id)).toEqual([cy.id]);
    await api.members.unban({ room: name, clientId: "b2", userId: cy.id });
    await api.members.kick({ room: name, clientId: "k1", userId: bob.id });
    await api.members.invite({ room: name, username: bob.name, clientId: "i3" });
    await api.rooms.transferOwnership({ room: name, clientId: "o1", userId: bob.id });
    await api.rooms.leaveRoom({ room: name, clientId: "l1" });
    const left = await clients(transport, bob).members.listMembers({ room: name });
    expect(left.members.map((m) => [m.name, m.role])).toEqual([[bob.name, Role.OWNER]]);
  });

  it("refuses as the contract says: no token, a private room for a stranger (as a missing one), a non-admin, bad input", async () => {
    const transport = makeTransport();
    const [owner, eve] = [await register("own"), await register("eve")];
    const name = roomName("rpcp");
    await clients(transport, owner).rooms.createRoom({ name, visibility: Visibility.PRIVATE });
    const anonymous = createClient(RoomService, transport);
    expect(await refused(anonymous.getRoom({ room: name }))).toMatchObject({
      code: Code.Unauthenticated,
      contract: "unauthorized",
    });
    const stranger = clients(transport, eve);
    const hidden = await refused(stranger.messages.listMessages({ room: name }));
    const missing = await refused(stranger.messages.listMessages({ room: roomName("none") }));
    expect(hidden).toEqual({ code: Code.NotFound, contract: "not_found", message: "no such room" });
    expect(missing).toEqual(hidden);
    expect(
      await refused(stranger.messages.postMessage({ room: name, clientId: "x", text: "in?" })),
    ).toEqual(hidden);
    expect(await refused(stranger.admin.getBacklog({}))).toMatchObject({
      code: Code.PermissionDenied,
      contract: "forbidden",
    });
    expect(
      await refused(stranger.messages.postMessage({ room: "NOT A ROOM", clientId: "x", text: "" })),
    ).toMatchObject({
      code: Code.InvalidArgument,
      contract: "bad_request",
    });
    expect(
      await refused(
        stranger.messages.editMessage({
          room: name,
          clientId: "x",
          messageId: 2n ** 60n,
          text: "x",
        }),
      ),
    ).toMatchObject({
      code: Code.InvalidArgument,
    });
  });

  it("WatchRoom replays after `since`, then streams live, and resumes exactly from the last seq", async () => {
    const transport = makeTransport();
    const ada = await register("ada");
    const api = clients(transport, ada);
    const name = roomName("rpcw");
    await api.rooms.createRoom({ name });
    const first = await api.messages.postMessage({ room: name, clientId: "a", text: "one" });
    const seen: bigint[] = [];
    const abort = new AbortController();
    const watching = (async () => {
      try {
        for await (const { event } of api.history.watchRoom(
          { room: name, since: first.seq - 1n },
          { signal: abort.signal },
        )) {
          seen.push(event!.seq);
          if (seen.length === 3) abort.abort();
        }
      } catch (error) {
        if (ConnectError.from(error).code !== Code.Canceled) throw error;
      }
    })();
    const second = await api.messages.postMessage({ room: name, clientId: "b", text: "two" });
    const third = await api.messages.postMessage({ room: name, clientId: "c", text: "three" });
    await watching;
    expect(seen).toEqual([first.seq, second.seq, third.seq]);
    // Resumed after the last seq it had: what came meanwhile, exactly once.
    const fourth = await api.messages.postMessage({ room: name, clientId: "d", text: "four" });
    for await (const { event } of api.history.watchRoom({ room: name, since: third.seq })) {
      expect(event!.seq).toBe(fourth.seq);
      break;
    }
  });
});

describe("the admin service", () => {
  it("answers an instance admin: the instance audit chain verifies; replicas and backlog need Postgres", async () => {
    const transport = createConnectTransport({ baseUrl: `${server.url}/rpc`, httpVersion: "1.1" });
    const session = await new EdgechatApi(server.url).register(ADMIN, "correct horse 1");
    const admin = clients(transport, {
      token: session.token,
      id: session.user.id,
      name: ADMIN,
    }).admin;
    expect((await admin.verifyInstanceAudit({})).report).toMatchObject({ ok: true });
    // One at a time: a second call made before the first is awaited would reject unhandled.
    for (const call of [() => admin.getReplicas({}), () => admin.getBacklog({})])
      expect(await refused(call())).toMatchObject({
        code: Code.Unavailable,
        contract: "unavailable",
      });
  });
});

describe("compression", () => {
  it("a unary protobuf answer is gzipped on the wire (the runtime, asked by the header); a stream is not", async () => {
    const ada = await register("ada");
    const transport = createConnectTransport({ baseUrl: worker(), httpVersion: "1.1" });
    const api = clients(transport, ada);
    const name = roomName("rpcz");
    await api.rooms.createRoom({ name });
    for (let i = 0; i < 30; i++)
      await api.messages.postMessage({
        room: name,
        clientId: `z${i}`,
        text: `message number ${i}, `.repeat(4),
      });
    const body = toBinary(
      ListMessagesRequestSchema,
      create(ListMessagesRequestSchema, { room: name, pageSize: 30 }),
    );
    const answer = await new Promise<{ encoding: string; wire: Buffer }>((resolve, reject) => {
      const request = httpRequest(`${worker()}/edgechat.v1.MessageService/ListMessages`, {
        method: "POST",
        headers: {
          "content-type": "application/proto",
          "accept-encoding": "gzip",
          authorization: `Bearer ${ada.token}`,
        },
      });
      request.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            encoding: String(res.headers["content-encoding"] ?? ""),
            wire: Buffer.concat(chunks),
          }),
        );
      });
      request.on("error", reject);
      request.end(Buffer.from(body));
    });
    expect(answer.encoding).toBe("gzip");
    const page = fromBinary(ListMessagesResponseSchema, gunzipSync(answer.wire));
    expect(page.messages).toHaveLength(30);
    expect(answer.wire.length).toBeLessThan(gunzipSync(answer.wire).length / 2);
  });
});
