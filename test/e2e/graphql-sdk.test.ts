/**
 * The SDK's typed GraphQL operations (src/client/graphql/) through the real server, started with
 * GRAPHQL_TRUSTED_DOCUMENTS=only: the strictest mode, where nothing but the manifest's documents
 * runs. The typed helper's data, its errors as the contract's ApiError, and a raw query refused.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  ApiError,
  EdgechatApi,
  PostMessageDocument,
  RoomPageDocument,
  YourRoomsDocument,
  type YourRoomsQuery,
} from "../../src/client/index.ts";
import { roomName, useServer, type Guest, type TestServer } from "./helpers.ts";

async function registered(server: TestServer, prefix: string): Promise<Guest> {
  const username = `${prefix}${Math.random().toString(36).slice(2, 8)}`;
  const session = await new EdgechatApi(server.url).register(username, "correct horse 1");
  return { ...session, api: new EdgechatApi(server.url, session.token) };
}

describe("the SDK's typed GraphQL with GRAPHQL_TRUSTED_DOCUMENTS=only", () => {
  let server: TestServer;
  let ada: Guest;
  let bob: Guest;
  useServer(
    async (started) => {
      server = started;
      ada = await registered(server, "ada");
      bob = await registered(server, "bob");
    },
    { vars: { GRAPHQL_TRUSTED_DOCUMENTS: "only" } },
  );

  it("runs the typed documents: your rooms with unread counts, a post, a room's page", async () => {
    const room = roomName("sdk");
    await ada.api.createRoom({ name: room, topic: "typed" });
    const posted = await bob.api.graphql(PostMessageDocument, {
      room,
      clientId: "sdk-1",
      text: "hello from bob",
    });
    expect(posted.postMessage.seq).toBeGreaterThan(1);

    const mine = await ada.api.graphql(YourRoomsDocument);
    expectTypeOf(mine).toEqualTypeOf<YourRoomsQuery>();
    expect(mine.me.rooms).toEqual([
      {
        name: room,
        topic: "typed",
        visibility: "public",
        role: "owner",
        lastSeq: posted.postMessage.seq,
        readSeq: 0,
        unread: 1,
        lastActivityAt: expect.any(Number),
      },
    ]);

    const page = await ada.api.graphql(RoomPageDocument, { room });
    expect(page.room.members.map((m) => [m.name, m.role])).toEqual([
      [ada.user.name, "owner"],
      [bob.user.name, "member"],
    ]);
    const [newest] = page.room.messages.edges;
    expect(newest?.node).toMatchObject({
      text: "hello from bob",
      author: { id: bob.user.id, name: bob.user.name },
      reactions: [],
    });
  });

  it("throws the contract's ApiError: its code, that code's status, the server's message", async () => {
    const ghost = roomName("ghost");
    const missing = await ada.api.graphql(RoomPageDocument, { room: ghost }).catch((e) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ code: "not_found", status: 404, message: "no such room" });
    const anonymous = new EdgechatApi(server.url);
    const unauthorized = await anonymous.graphql(YourRoomsDocument).catch((e) => e);
    // 401, so that the UI's session renewal (Auth.call) works for GraphQL as for REST.
    expect(unauthorized).toMatchObject({ code: "unauthorized", status: 401 });
    const invalid = await ada.api
      .graphql(PostMessageDocument, { room: "Not A Room", clientId: "x", text: "hi" })
      .catch((e) => e);
    expect(invalid).toMatchObject({ code: "bad_request", status: 400 });
  });

  it("refuses a document that is not in the manifest", async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ query: "{ me { name } }" }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: any[] };
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]).toMatchObject({
      message: "only trusted documents run here: send the documentId of one in the manifest",
      extensions: { code: "bad_request" },
    });
  });
});
