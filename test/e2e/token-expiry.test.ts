import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { ApiError, EdgechatApi } from "../../src/client/index.ts";
import {
  BATCH_SUBPROTOCOL,
  BEARER_PREFIX,
  CLOSE,
  ErrorBody,
  SUBPROTOCOL,
} from "../../src/protocol/index.ts";
import {
  connect,
  flakyNetwork,
  guest,
  roomName,
  tryUpgrade,
  waitUntil,
  wsUrl,
  type Guest,
  type TestServer,
  useServer,
} from "./helpers.ts";

const ACCESS_TOKEN_SECONDS = 2;

let server: TestServer;

useServer(
  (started) => {
    server = started;
  },
  { vars: { ACCESS_TOKEN_SECONDS: String(ACCESS_TOKEN_SECONDS) } },
);

/** The claims of a JWT, unverified: only to read what the server wrote into it. */
function claims(token: string): { iat: number; exp: number } {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

it("an open socket outlives its access token until the session ends; reconnecting takes a fresh one", async () => {
  const api = new EdgechatApi(server.url);
  const session = await api.register(`ivy${randomBytes(4).toString("hex")}`, "correct horse 42");
  expect(session.refreshToken).toBeDefined();
  const { iat, exp } = claims(session.token);
  expect(exp - iat).toBe(ACCESS_TOKEN_SECONDS);
  const ivy: Guest = { ...session, api: api.withToken(session.token) };
  const room = roomName("expiry");
  await ivy.api.createRoom({ name: room });
  const bob = await guest(server.url, "bob");
  const other = await connect(server.url, room, bob);

  // Two connections of ivy's through a network that can fail: one holds the token it was given,
  // the other asks the app for the current one at every connect (the SDK's `token` getter).
  const network = await flakyNetwork(server);
  let current = session.token;
  const fixed = await connect(network.url, room, ivy);
  const renewing = await connect(network.url, room, ivy, { token: () => current });

  // The token expires: waiting on time is the point here; the server says when it is over.
  await waitUntil(
    () =>
      ivy.api.getRoom(room).then(
        () => false,
        (error: unknown) => error instanceof ApiError && error.status === 401,
      ),
    "the access token to be refused over HTTP",
    (ACCESS_TOKEN_SECONDS + 10) * 1000,
    100,
  );
  expect(Date.now() / 1000).toBeGreaterThanOrEqual(exp);
  // A new upgrade with it is refused with 401, before the room is touched.
  const refused = await tryUpgrade(wsUrl(server.url, room), [
    SUBPROTOCOL,
    BEARER_PREFIX + session.token,
  ]);
  expect(refused.status).toBe(401);
  expect(ErrorBody.parse(JSON.parse(refused.body)).error.code).toBe("unauthorized");

  // The sockets opened while it was valid go on working both ways: the token was checked at the
  // upgrade, and the session it belongs to is still open.
  const mine = await fixed.conn.post("after my token expired");
  const theirs = await other.conn.post("still hear me?");
  await Promise.all([fixed, renewing, other].map((c) => c.untilSeq(Math.max(mine, theirs))));
  expect(fixed.events.find((e) => e.seq === theirs)).toMatchObject({ actor: { id: bob.user.id } });
  expect(other.events.find((e) => e.seq === mine)).toMatchObject({ actor: { id: ivy.user.id } });
  for (const c of [fixed, renewing]) {
    expect(c.welcomes).toHaveLength(1);
    expect(c.fatals).toEqual([]);
  }

  // The app renews the token (the refresh token rotates); then the network drops both sockets.
  const renewed = await api.refresh(session.refreshToken);
  current = renewed.token;
  expect(network.cut()).toBe(2);

  // The one still holding the expired token cannot come back: its upgrade is refused, the SDK's
  // HTTP probe gets 401 too, and it stops for good, failing what was pending.
  const stuck = fixed.conn.post("never sent").then(
    (seq) => seq,
    (error: unknown) => error,
  );
  await waitUntil(() => fixed.fatals.length > 0, "the fixed-token client to give up");
  expect(fixed.fatals[0]!.code).toBe("unauthorized");
  expect(fixed.conn.status).toBe("closed");
  expect(await stuck).toMatchObject({ name: "CommandError", code: "closed" });
  expect(fixed.welcomes).toHaveLength(1);

  // The one that reads the current token reconnects with the fresh one and resumes.
  await renewing.welcomed(2);
  expect(renewing.sockets[1]!.protocol).toBe(BATCH_SUBPROTOCOL);
  const back = await renewing.conn.post("back with a fresh token");
  await other.untilSeq(back);
  expect(renewing.conn.anomalies).toEqual({ duplicates: 0, outOfOrder: 0, brokenChain: 0 });

  // Ending the session closes its open socket at once with 4401, whatever the token's age.
  await api.logout(renewed.refreshToken);
  await waitUntil(() => renewing.fatals.length > 0, "the socket of the ended session to close");
  expect(renewing.sockets.at(-1)!.closed?.code).toBe(CLOSE.tokenRevoked);
  expect(renewing.conn.status).toBe("closed");
});
