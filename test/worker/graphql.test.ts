import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import schemaFile from "../../schema.graphql?raw";
import { schemaText } from "../../src/graphql/schema.ts";
import { CALLS_HEADER } from "../../src/graphql/endpoint.ts";
import { graphiqlPagePolicy } from "../../src/graphql/graphiql.ts";
import { YOUR_ROOMS } from "../../src/graphql/your-rooms.ts";
import type { Session } from "../../src/protocol/index.ts";
import { call, Client, guest, newRoom } from "./helpers.ts";

type Answer = {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: any }[];
};

async function gql(query: string, variables: object = {}, token?: string) {
  const res = await call("/graphql", {
    method: "POST",
    json: { query, variables },
    ...(token ? { token } : {}),
  });
  const text = await res.text();
  return {
    res,
    text,
    body: JSON.parse(text) as Answer,
    calls: Number(res.headers.get(CALLS_HEADER)),
  };
}

async function registered(prefix: string) {
  const username = `${prefix}${crypto.randomUUID().slice(0, 8)}`;
  const res = await call("/api/auth/register", {
    method: "POST",
    json: { username, password: "correct horse battery" },
  });
  if (res.status !== 201) throw new Error(`register: ${res.status}`);
  return (await res.json()) as Session;
}

const codes = (body: Answer) => body.errors?.map((e) => e.extensions?.code);

describe("GraphQL schema as a contract", () => {
  it("schema.graphql is the code's schema (npm run graphql:schema)", () => {
    expect(schemaFile.trim()).toBe(schemaText().trim());
  });
});

describe("GraphQL reads", () => {
  it("me, a room, and a page of 100 messages with authors, reactions, members: 4 storage calls", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "gql");
    for (let i = 1; i <= 105; i++) {
      const posted = await gql(
        `mutation($room:String!,$c:String!,$t:String!){postMessage(room:$room,clientId:$c,text:$t){seq}}`,
        { room, c: `m-${i}`, t: `hello ${i}` },
        ada.token,
      );
      expect(posted.body.errors).toBeUndefined();
    }
    const reacted = await gql(
      `mutation($room:String!){react(room:$room,clientId:"r1",messageId:3,emoji:"👍",on:true){seq}}`,
      { room },
      ada.token,
    );
    expect(reacted.body.data?.react.seq).toBeGreaterThan(100);

    const query = `query($room:String!,$after:String){
      me { name kind }
      room(name:$room) {
        name onlineCount memberCount
        members { name role }
        messages(first:100, after:$after) {
          pageInfo { hasNextPage endCursor }
          edges { cursor node { id text author { name } reactions { emoji count members { name } } } }
        }
      }
    }`;
    const first = await gql(query, { room }, ada.token);
    expect(first.body.errors).toBeUndefined();
    const page = first.body.data!.room.messages;
    expect(page.edges).toHaveLength(100);
    expect(page.edges[0].node.text).toBe("hello 105");
    expect(page.edges[0].node.author.name).toBe("ada");
    expect(page.pageInfo.hasNextPage).toBe(true);
    // The actor (no RPC for a guest, but counted), info, members, messages: whatever the page size.
    expect(first.calls).toBe(4);

    const second = await gql(query, { room, after: page.pageInfo.endCursor }, ada.token);
    const rest = second.body.data!.room.messages;
    const oldest: number = page.edges[99].node.id;
    expect(rest.edges.map((e: any) => e.node.id)).toEqual([1, 2, 3, 4, 5].map((n) => oldest - n));
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const liked = rest.edges.find((e: any) => e.node.id === 3).node.reactions;
    expect(liked).toEqual([{ emoji: "👍", count: 1, members: [{ name: "ada" }] }]);
  });

  it("pages the event log by seq", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "gql");
    const q = `query($room:String!,$after:String){room(name:$room){events(first:1,after:$after){
      pageInfo{hasNextPage endCursor} edges{cursor node{seq type actor{name}}}}}}`;
    const first = await gql(q, { room }, ada.token);
    const events = first.body.data!.room.events;
    expect(events.edges[0].node).toEqual({ seq: 1, type: "room.created", actor: { name: "ada" } });
    expect(events.pageInfo).toEqual({ hasNextPage: true, endCursor: "1" });
    const next = await gql(q, { room, after: "1" }, ada.token);
    expect(next.body.data!.room.events.edges[0].node.seq).toBe(2);
  });

  it("lists the public rooms with a cursor on every edge", async () => {
    const ada = await guest("ada");
    const prefix = `gqlist-${crypto.randomUUID().slice(0, 6)}`;
    for (const n of [1, 2, 3]) await newRoom(ada, `${prefix}-${n}`);
    const q = `query($p:String,$after:String){rooms(first:2,prefix:$p,after:$after){
      pageInfo{hasNextPage endCursor} edges{cursor node{name}}}}`;
    const first = await gql(q, { p: prefix }, ada.token);
    expect(first.body.errors).toBeUndefined();
    const page = first.body.data!.rooms;
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await gql(q, { after: page.edges[0].cursor }, ada.token);
    const names = rest.body.data!.rooms.edges.map((e: any) => e.node.name);
    expect(names).toEqual([page.edges[1].node.name, expect.stringContaining(prefix)]);
  });
});

describe("me.rooms: your rooms with unread counts, without Postgres", () => {
  const ROOMS = `query($first:Int,$names:[String!]){ me { rooms(first:$first, names:$names) {
    name topic visibility role lastSeq readSeq unread lastActivityAt } } }`;
  const post = (token: string, room: string, clientId: string, text = "hi") =>
    gql(
      `mutation($r:String!,$c:String!,$t:String!){postMessage(room:$r,clientId:$c,text:$t){seq}}`,
      { r: room, c: clientId, t: text },
      token,
    );
  const roomsOf = async (token: string, variables: object = {}) => {
    const answer = await gql(ROOMS, variables, token);
    expect(answer.body.errors, answer.text).toBeUndefined();
    return { rooms: answer.body.data!.me.rooms as any[], calls: answer.calls };
  };

  it("counts the messages of others past your read marker; reading clears it; 2 + rooms calls", async () => {
    const ada = await registered("ada");
    const bob = await registered("bob");
    const busy = await newRoom(ada, "busy");
    const quiet = await newRoom(ada, "quiet");
    await post(ada.token, busy, "a1", "mine do not count");
    for (const n of [1, 2, 3]) await post(bob.token, busy, `b${n}`);
    const deleted = await post(bob.token, busy, "b4", "gone");
    await gql(
      `mutation($r:String!,$id:Int!){deleteMessage(room:$r,clientId:"d4",messageId:$id){seq}}`,
      { r: busy, id: deleted.body.data!.postMessage.seq },
      bob.token,
    );

    const before = await roomsOf(ada.token);
    // Created rooms are on the owner's list before any socket; the busier room comes first.
    expect(before.rooms.map((r) => [r.name, r.role, r.unread, r.readSeq])).toEqual([
      [busy, "owner", 3, 0],
      [quiet, "owner", 0, 0],
    ]);
    expect(before.rooms[0]).toMatchObject({ visibility: "public", topic: "" });
    expect(before.rooms[0].lastActivityAt).toBeGreaterThanOrEqual(before.rooms[1].lastActivityAt);
    // The actor's session check, the account's list, one call per room.
    expect(before.calls).toBe(2 + 2);

    // ada reads the room over her socket: the marker moves to the last seq, nothing is unread.
    const socket = await Client.open(busy, ada);
    const lastSeq: number = before.rooms[0].lastSeq;
    socket.send({ type: "read", seq: lastSeq });
    await expect
      .poll(async () => (await roomsOf(ada.token)).rooms.find((r) => r.name === busy))
      .toMatchObject({ unread: 0, readSeq: lastSeq });
    socket.close();
    // bob joined by posting (no socket, so his account does not list it), but may name it.
    expect((await roomsOf(bob.token)).rooms).toEqual([]);
    const named = await roomsOf(bob.token, { names: [busy, quiet] });
    expect(named.rooms.map((r) => [r.name, r.role, r.unread])).toEqual([[busy, "member", 1]]);
  });

  it("guests have no account: no rooms without names; with names only rooms they belong to", async () => {
    const olga = await registered("olga");
    const gus = await guest("gus");
    const open = await newRoom(olga, "open");
    const other = await newRoom(olga, "other");
    const hidden = `hidden-${crypto.randomUUID().slice(0, 8)}`;
    await gql(`mutation{createRoom(name:"${hidden}",visibility:private){name}}`, {}, olga.token);
    await post(gus.token, open, "g1");
    await post(olga.token, open, "o1");
    expect((await roomsOf(gus.token)).rooms).toEqual([]);
    const ghost = `ghost-${crypto.randomUUID().slice(0, 8)}`;
    const named = await roomsOf(gus.token, { names: [open, other, hidden, ghost, open] });
    expect(named.rooms.map((r) => [r.name, r.role, r.unread])).toEqual([[open, "member", 1]]);
    // The actor (counted, no RPC for a guest) and each distinct name once.
    expect(named.calls).toBe(1 + 4);
  });

  it("an invitation lists a private room before it is opened; a ban takes it off", async () => {
    const olga = await registered("olga");
    const nina = await registered("nina");
    const priv = `priv-${crypto.randomUUID().slice(0, 8)}`;
    await gql(`mutation{createRoom(name:"${priv}",visibility:private){name}}`, {}, olga.token);
    await gql(
      `mutation($u:String!){invite(room:"${priv}",clientId:"i1",username:$u){seq}}`,
      { u: nina.user.name },
      olga.token,
    );
    await post(olga.token, priv, "o1", "welcome");
    const invited = await roomsOf(nina.token);
    expect(invited.rooms.map((r) => [r.name, r.visibility, r.role, r.unread])).toEqual([
      [priv, "private", "member", 1],
    ]);
    await gql(
      `mutation($u:ID!){ban(room:"${priv}",clientId:"b1",userId:$u){seq}}`,
      { u: nina.user.id },
      olga.token,
    );
    expect((await roomsOf(nina.token)).rooms).toEqual([]);
    expect((await roomsOf(nina.token, { names: [priv] })).rooms).toEqual([]);
  });

  it("asks at most `first` rooms, and refuses more than 40 or a bad name", async () => {
    const ada = await registered("ada");
    const names: string[] = [];
    for (const n of [1, 2, 3]) names.push(await newRoom(ada, `many${n}`));
    const one = await roomsOf(ada.token, { first: 1 });
    // The room noted last; only it was asked.
    expect(one.rooms.map((r) => r.name)).toEqual([names[2]]);
    expect(one.calls).toBe(2 + 1);
    const tooMany = await gql(ROOMS, { first: YOUR_ROOMS.max + 1 }, ada.token);
    expect(codes(tooMany.body)).toEqual(["bad_request"]);
    const manyNames = Array.from({ length: YOUR_ROOMS.max + 1 }, (_, i) => `r${i}`);
    expect(codes((await gql(ROOMS, { names: manyNames }, ada.token)).body)).toEqual([
      "bad_request",
    ]);
    const badName = await gql(ROOMS, { names: ["Not A Room"] }, ada.token);
    expect(codes(badName.body)).toEqual(["bad_request"]);
    expect(badName.text).not.toMatch(/\.ts:\d+|at \S+ \(/);
  });
});

describe("GraphQL errors carry the contract's codes", () => {
  it("unauthorized without a token, bad_request for bad input, forbidden for a member's bans", async () => {
    expect(codes((await gql(`{ me { id } }`)).body)).toEqual(["unauthorized"]);
    const ada = await guest("ada");
    const bob = await guest("bob");
    const room = await newRoom(ada, "gql");
    const bad = await gql(
      `mutation{postMessage(room:"${room}",clientId:"x",text:"   "){seq}}`,
      {},
      ada.token,
    );
    expect(bad.body.errors?.[0]).toMatchObject({
      message: "text: text is only white space",
      extensions: { code: "bad_request" },
    });
    expect(codes((await gql(`{ room(name:"Not A Name") { name } }`, {}, ada.token)).body)).toEqual([
      "bad_request",
    ]);
    await gql(`mutation{postMessage(room:"${room}",clientId:"b",text:"hi"){seq}}`, {}, bob.token);
    const bans = await gql(`{ room(name:"${room}") { bans { id } } }`, {}, bob.token);
    expect(codes(bans.body)).toEqual(["forbidden"]);
    const unknownField = await gql(`{ nope }`, {}, ada.token);
    expect(codes(unknownField.body)).toEqual(["bad_request"]);
  });

  it("a private room is not_found, byte for byte a missing room, for a stranger, a guest, the banned", async () => {
    const olga = await registered("olga");
    const nina = await registered("nina");
    const gus = await guest("gus");
    const priv = `priv-${crypto.randomUUID().slice(0, 8)}`;
    const created = await gql(
      `mutation{createRoom(name:"${priv}",visibility:private){name visibility}}`,
      {},
      olga.token,
    );
    expect(created.body.data?.createRoom).toEqual({ name: priv, visibility: "private" });
    const invited = await gql(
      `mutation($u:String!){invite(room:"${priv}",clientId:"i1",username:$u){seq}}`,
      { u: nina.user.name },
      olga.token,
    );
    expect(invited.body.data?.invite.seq).toBeGreaterThan(1);
    const q = (name: string) =>
      `{ room(name:"${name}") { name messages(first:5){ edges { node { text } } } } }`;
    expect((await gql(q(priv), {}, nina.token)).body.data?.room.name).toBe(priv);
    const banned = await gql(
      `mutation($u:ID!){ban(room:"${priv}",clientId:"b1",userId:$u){seq}}`,
      { u: nina.user.id },
      olga.token,
    );
    expect(banned.body.errors).toBeUndefined();
    const ghost = `ghost-${crypto.randomUUID().slice(0, 8)}`;
    for (const outsider of [gus, nina]) {
      const seen = await gql(q(priv), {}, outsider.token);
      const missing = await gql(q(ghost), {}, outsider.token);
      expect(codes(seen.body)).toEqual(["not_found"]);
      expect(seen.text.replaceAll(priv, "ROOM")).toBe(missing.text.replaceAll(ghost, "ROOM"));
    }
  });

  it("a replayed clientId answers the first seq and logs nothing new", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "gql");
    const post = `mutation($room:String!){postMessage(room:$room,clientId:"same",text:"once"){seq}}`;
    const a = await gql(post, { room }, ada.token);
    const b = await gql(post, { room }, ada.token);
    expect(b.body.data?.postMessage.seq).toBe(a.body.data?.postMessage.seq);
    const info = await gql(`{ room(name:"${room}") { lastSeq } }`, {}, ada.token);
    expect(info.body.data?.room.lastSeq).toBe(a.body.data?.postMessage.seq);
  });
});

describe("GraphQL armor", () => {
  it("refuses a query too deep, with too many aliases, or too long", async () => {
    const ada = await guest("ada");
    const deep = `{ room(name:"x") { stateAt(at:1) { messages { reactions { members { name } } } } messages { edges { node { reactions { members { name } } } } } } }`;
    // The schema has no cycles today, so only fields it lacks go deeper than 10: the armor's
    // refusal comes with their validation errors, all of them bad_request.
    const tooDeep = `{ room(name:"x") { messages { edges { node { reactions { members { name { a { b { c { d } } } } } } } } } } }`;
    expect(codes((await gql(deep, {}, ada.token)).body)).not.toContain("bad_request");
    const refusedDeep = await gql(tooDeep, {}, ada.token);
    expect(refusedDeep.body.errors?.map((e) => e.message)).toContainEqual(
      "Syntax Error: Query depth limit of 10 exceeded, found 11.",
    );
    expect(new Set(codes(refusedDeep.body))).toEqual(new Set(["bad_request"]));
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(" ");
    const refusedAliases = await gql(`{ ${aliases} }`, {}, ada.token);
    expect(refusedAliases.body.errors?.[0]?.message).toMatch(/alias/i);
    expect(codes(refusedAliases.body)).toEqual(["bad_request"]);
    const huge = `{ me { ${"id ".repeat(1200)} } }`;
    const refusedHuge = await gql(huge, {}, ada.token);
    expect(refusedHuge.body.errors?.[0]?.message).toMatch(/token/i);
    expect(codes(refusedHuge.body)).toEqual(["bad_request"]);
    expect(refusedHuge.body.data).toBeUndefined();
  });

  it("answers introspection and serves GraphiQL by default", async () => {
    const typename = await gql(`{ __schema { queryType { name } } }`);

    expect(typename.body.data?.__schema.queryType.name).toBe("Query");
    // JSON answers keep the app's policy.
    expect(typename.res.headers.get("content-security-policy")).toContain("script-src 'self'");
  });
});

describe("GraphiQL, a static asset", () => {
  /** The first bytes of a body, then the rest cancelled: the page is 9 MB. */
  async function head(res: Response): Promise<string> {
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    return new TextDecoder().decode(value);
  }

  it("serves the built page at /graphql with its script allowed by the built hash", async () => {
    const built = await env.ASSETS.fetch("http://edgechat.test/graphiql/page.json");
    const { scriptSha256 } = (await built.json()) as { scriptSha256: string };

    const page = await call("/graphql", { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const policy = page.headers.get("content-security-policy") ?? "";
    expect(policy).toBe(graphiqlPagePolicy(scriptSha256));
    expect(policy).toContain(`script-src 'sha256-${scriptSha256}';`);
    expect(policy).not.toMatch(
      /https?:|'unsafe-eval'|'self' 'unsafe-inline'|script-src[^;]*'unsafe-inline'/,
    );
    // The app's other headers still come with it.
    expect(page.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const start = await head(page);
    expect(start).toMatch(/<!doctype html>/i);
    expect(start).toContain("<title>edgechat GraphQL</title>");
    expect(start).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);

    // A reload revalidates: the asset's ETag, then 304 with no body and the same policy.
    const etag = page.headers.get("etag");
    expect(etag).toBeTruthy();
    const again = await call("/graphql", {
      headers: { accept: "text/html", "if-none-match": etag! },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("content-security-policy")).toBe(policy);
  });

  it("serves GraphiQL's files nowhere else, so the app's catch-all cannot bypass /graphql", async () => {
    for (const path of ["/graphiql", "/graphiql/", "/graphiql/index.html", "/graphiql/page.json"]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toEqual({
        error: {
          code: "not_found",
          message: "not found",
          requestId: res.headers.get("x-request-id"),
        },
      });
    }
    // POST, and GET without text/html, are GraphQL as before, whatever the Accept.
    const json = await call("/graphql?query={__typename}", {
      headers: { accept: "application/json" },
    });
    expect(await json.json()).toEqual({ data: { __typename: "Query" } });
  });
});
