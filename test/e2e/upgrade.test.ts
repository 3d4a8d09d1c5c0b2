import { expect, it } from "vitest";
import { BEARER_PREFIX, ErrorBody, SUBPROTOCOL } from "../../src/protocol/index.ts";
import {
  assertNoInvalidFrames,
  closeAll,
  connectLater,
  freshRoom,
  guest,
  RawClient,
  roomName,
  sleep,
  startServer,
  tryUpgrade,
  waitUntil,
  wsUrl,
  type Guest,
  type TestServer,
  signIn,
  useServer,
} from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;

useServer(async (started) => {
  server = started;
  [ada, bob] = await signIn(server, "ada", "bob");
});

function forge(token: string): string {
  const [header, payload] = token.split(".");
  return `${header}.${payload}.${Buffer.from("not the signature at all, really").toString("base64url")}`;
}

function expectRefusal(
  answer: { status: number; body: string },
  status: number,
  code: string,
): void {
  expect(answer.status, answer.body).toBe(status);
  const body = ErrorBody.safeParse(JSON.parse(answer.body));
  expect(body.success, answer.body).toBe(true);
  expect(body.data!.error.code).toBe(code);
}

it("refuses upgrades without a valid token with 401, before the room is touched", async () => {
  const room = await freshRoom(ada, "auth");
  const before = await ada.api.getRoom(room);
  const url = wsUrl(server.url, room);
  const cases: [string, string, string[] | undefined, Record<string, string>?][] = [
    ["no token at all", url, undefined],
    ["subprotocol without a bearer", url, [SUBPROTOCOL]],
    ["bearer without the edgechat.v1 subprotocol", url, [BEARER_PREFIX + bob.token]],
    ["forged token", url, [SUBPROTOCOL, BEARER_PREFIX + forge(bob.token)]],
    ["garbage token", url, [SUBPROTOCOL, BEARER_PREFIX + "abc"]],
    ["token in the URL only", `${url}?token=${bob.token}`, undefined],
    ["access_token in the URL only", `${url}?access_token=${bob.token}`, [SUBPROTOCOL]],
    [
      "forged Authorization header",
      url,
      undefined,
      { authorization: `Bearer ${forge(bob.token)}` },
    ],
  ];
  for (const [what, target, protocols, headers] of cases) {
    const answer = await tryUpgrade(target, protocols, headers);
    expect({ what, status: answer.status }).toEqual({ what, status: 401 });
    expectRefusal(answer, 401, "unauthorized");
    expect(answer.body).not.toContain(bob.token);
  }
  // Unknown rooms too: auth comes first, so a bad token cannot probe which rooms exist.
  expectRefusal(
    await tryUpgrade(wsUrl(server.url, roomName("ghost")), [SUBPROTOCOL, BEARER_PREFIX + "abc"]),
    401,
    "unauthorized",
  );
  // Nothing happened in the room: bob did not join, nobody is online, no event was logged.
  const after = await ada.api.getRoom(room);
  expect(after).toEqual(before);
});

it("refuses an unknown room with 404 and a bad room name or since with 400", async () => {
  const ghost = roomName("ghost");
  expectRefusal(
    await tryUpgrade(wsUrl(server.url, ghost), [SUBPROTOCOL, BEARER_PREFIX + bob.token]),
    404,
    "not_found",
  );
  // The refused upgrade did not create the room.
  await expect(bob.api.getRoom(ghost)).rejects.toMatchObject({ status: 404 });
  for (const bad of ["Upper", "-x", "a".repeat(65), "dot.dot"]) {
    expectRefusal(
      await tryUpgrade(wsUrl(server.url, encodeURIComponent(bad)), [
        SUBPROTOCOL,
        BEARER_PREFIX + bob.token,
      ]),
      400,
      "bad_request",
    );
  }
  const room = await freshRoom(ada, "since");
  for (const since of ["-1", "abc", "1.5"]) {
    const url = `${wsUrl(server.url, room)}?since=${since}`;
    expectRefusal(
      await tryUpgrade(url, [SUBPROTOCOL, BEARER_PREFIX + bob.token]),
      400,
      "bad_request",
    );
  }
  // A plain GET of the socket path is not an upgrade.
  const plain = await fetch(`${server.url}/api/rooms/${room}/ws`, {
    headers: { authorization: `Bearer ${bob.token}` },
  });
  expect(plain.status).toBe(400);
  expect(ErrorBody.parse(await plain.json()).error.code).toBe("bad_request");
});

it("selects the edgechat.v1 subprotocol and never echoes the bearer", async () => {
  const room = await freshRoom(ada, "proto");
  const answer = await tryUpgrade(wsUrl(server.url, room), [
    SUBPROTOCOL,
    BEARER_PREFIX + bob.token,
  ]);
  expect(answer.status).toBe(101);
  expect(answer.protocol).toBe(SUBPROTOCOL);
  expect(String(answer.headers["sec-websocket-protocol"])).toBe(SUBPROTOCOL);
  // The bearer first, the subprotocol second: still the subprotocol.
  const reversed = await tryUpgrade(wsUrl(server.url, room), [
    BEARER_PREFIX + bob.token,
    SUBPROTOCOL,
  ]);
  expect(reversed.protocol).toBe(SUBPROTOCOL);
  // The browser's own WebSocket (Node's global, undici) agrees.
  const socket = new WebSocket(wsUrl(server.url, room), [SUBPROTOCOL, BEARER_PREFIX + bob.token]);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", reject);
  });
  expect(socket.protocol).toBe(SUBPROTOCOL);
  socket.close();
});

it("accepts the Authorization header from non-browser clients", async () => {
  const room = await freshRoom(ada, "header");
  const raw = new RawClient(wsUrl(server.url, room), undefined, {
    authorization: `Bearer ${bob.token}`,
  });
  await raw.opened;
  const welcome = await raw.nth("welcome", 1);
  expect(welcome.you).toEqual({ id: bob.user.id, name: "bob" });
  raw.sendJson({ type: "post", clientId: "h1", text: "via header" });
  expect((await raw.nth("ack", 1)).clientId).toBe("h1");

  // With the header and the bare subprotocol (no bearer in it), the subprotocol is still selected.
  const both = new RawClient(wsUrl(server.url, room), [SUBPROTOCOL], {
    authorization: `Bearer ${bob.token}`,
  });
  await both.opened;
  expect(both.ws.protocol).toBe(SUBPROTOCOL);
  await both.nth("welcome", 1);
});

it("SDK reports fatal on 401 and 404 and stops reconnecting", async () => {
  const room = await freshRoom(ada, "fatal");
  const forged = connectLater(server.url, room, forge(bob.token));
  await waitUntil(() => forged.fatals.length > 0, "fatal on a forged token");
  expect(forged.fatals[0]!.code).toBe("unauthorized");
  expect(forged.conn.status).toBe("closed");

  const missing = connectLater(server.url, roomName("ghost"), bob.token);
  const pending = missing.conn.post("never sent").then(
    () => "acked",
    (error: unknown) => error,
  );
  await waitUntil(() => missing.fatals.length > 0, "fatal on an unknown room");
  expect(missing.fatals[0]!.code).toBe("not_found");
  expect(missing.conn.status).toBe("closed");
  // A pending command is rejected, not left hanging.
  expect(await pending).toMatchObject({ name: "CommandError", code: "closed" });

  // No more attempts after fatal. An absence can only be shown by waiting: longer than the
  // longest backoff of these clients (500 ms), any reconnect already scheduled would have fired.
  const attempts = forged.sockets.length + missing.sockets.length;
  await sleep(700);
  expect(forged.sockets.length + missing.sockets.length).toBe(attempts);
  expect(forged.welcomes).toEqual([]);
});
