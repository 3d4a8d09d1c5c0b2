/**
 * Time travel over HTTP through a real `wrangler dev`: GET /api/rooms/{room}/state with `at`
 * and `atTime`, paging, the 400s of bad moments, and a private room's 404 to an outsider.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ApiError, EdgechatApi } from "../../src/client/index.ts";
import { ErrorBody, RoomStateAt } from "../../src/protocol/index.ts";
import { freshRoom, sleep, signIn, useServer, type Guest, type TestServer } from "./helpers.ts";

let server: TestServer;
let ada: Guest;
let bob: Guest;
let eve: Guest;
useServer(async (started) => {
  server = started;
  [ada, bob, eve] = await signIn(server, "ada", "bob", "eve");
});

async function get(path: string, who: Guest): Promise<{ status: number; json: unknown }> {
  const response = await fetch(server.url + path, {
    headers: { authorization: `Bearer ${who.token}` },
  });
  return { status: response.status, json: await response.json() };
}

async function expectBadRequest(path: string, pattern: RegExp): Promise<void> {
  const answer = await get(path, ada);
  expect(answer.status).toBe(400);
  const body = ErrorBody.parse(answer.json);
  expect(body.error.code).toBe("bad_request");
  expect(body.error.message).toMatch(pattern);
}

describe("GET /api/rooms/{room}/state", () => {
  it("shows the room at a seq and at a time: the old topic, the text a message had, the members then", async () => {
    const room = await freshRoom(ada, "tt");
    let n = 0;
    const command = (who: Guest, frame: Record<string, unknown>) =>
      who.api.command(room, { ...frame, clientId: `tt-${++n}` } as never);
    await command(ada, { type: "topic", topic: "old topic" });
    const posted = await ada.api.postMessage(room, { text: "what I said first", clientId: "p1" });
    const { seq: beforeEdit } = await command(bob, { type: "post", text: "bob joins in" });
    await sleep(20); // a later moment on the clock, for atTime
    const moment = Date.now();
    await sleep(20);
    await command(ada, { type: "edit", messageId: posted.seq, text: "what I say now" });
    await command(ada, { type: "topic", topic: "new topic" });
    await command(ada, { type: "ban", userId: bob.user.id });

    const then = await ada.api.stateAt(room, { at: beforeEdit });
    expect(RoomStateAt.parse(then)).toEqual(then);
    expect(then.seq).toBe(beforeEdit);
    expect(then.room).toMatchObject({ name: room, topic: "old topic", ownerId: ada.user.id });
    expect(then.members.map((m) => [m.name, m.role])).toEqual([
      ["ada", "owner"],
      ["bob", "member"],
    ]);
    expect(then.messages.map((m) => m.text)).toEqual(["bob joins in", "what I said first"]);
    expect(then.messages[1]).not.toHaveProperty("editedAt");

    const byTime = await ada.api.stateAt(room, { atTime: moment });
    expect(byTime).toEqual(then);

    const now = await ada.api.stateAt(room, { atTime: Date.now() + 1000 });
    expect(now.room.topic).toBe("new topic");
    expect(now.members.map((m) => m.name)).toEqual(["ada"]);
    expect(now.messages.find((m) => m.id === posted.seq)?.text).toBe("what I say now");
  });

  it("pages the messages of the moment with before and limit", async () => {
    const room = await freshRoom(ada, "tt");
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++)
      seqs.push((await ada.api.postMessage(room, { text: `m${i}`, clientId: `m${i}` })).seq);
    const first = await ada.api.stateAt(room, { at: seqs[3]! }, { limit: 3 });
    expect(first.messages.map((m) => m.text)).toEqual(["m3", "m2", "m1"]);
    expect(first.nextBefore).toBe(seqs[1]);
    const rest = await ada.api.stateAt(
      room,
      { at: seqs[3]! },
      { limit: 3, before: first.nextBefore! },
    );
    expect(rest.messages.map((m) => m.text)).toEqual(["m0"]);
    expect(rest.nextBefore).toBeNull();
  });

  it("refuses a missing, doubled or impossible moment with 400 bad_request", async () => {
    const room = await freshRoom(ada, "tt");
    const { lastSeq } = await ada.api.getRoom(room);
    const base = `/api/rooms/${room}/state`;
    await expectBadRequest(base, /exactly one of at .* and atTime/);
    await expectBadRequest(`${base}?at=1&atTime=${Date.now()}`, /exactly one of at/);
    await expectBadRequest(`${base}?at=${lastSeq + 1}`, new RegExp(`ends at seq ${lastSeq}`));
    await expectBadRequest(`${base}?atTime=1000`, /did not exist yet/);
    await expectBadRequest(`${base}?at=0`, /at/);
    await expectBadRequest(`${base}?at=abc`, /non-negative integer/);
    await expectBadRequest(`${base}?at=1&limit=201`, /limit/);
    await expectBadRequest(`${base}?at=1&before=-1`, /before/);
  });

  it("is a 404 to an outsider of a private room, and to anyone for a room that does not exist", async () => {
    // Only registered users may make private rooms.
    const api = new EdgechatApi(server.url);
    const session = await api.register(`olga${randomBytes(4).toString("hex")}`, "correct horse 42");
    const olga = { ...session, api: api.withToken(session.token) };
    const room = `tt-private-${Date.now()}`;
    await olga.api.createRoom({ name: room, visibility: "private" });
    await olga.api.postMessage(room, { text: "secret plans", clientId: "s1" });
    const error = await eve.api.stateAt(room, { at: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found" });
    expect((await get(`/api/rooms/no-such-room-${Date.now()}/state?at=1`, ada)).status).toBe(404);
    // Its owner sees it.
    expect((await olga.api.stateAt(room, { at: 3 })).messages[0]?.text).toBe("secret plans");
  });
});
