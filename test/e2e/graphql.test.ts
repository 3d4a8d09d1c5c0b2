/**
 * GraphQL through the real server (wrangler dev): the "one query" (a user's rooms, the
 * last 20 messages of one with authors and reactions, its members with roles and how many are
 * online, with a real SDK socket open) in a single request; the room commands as mutations with
 * clientId idempotency, and the event log paged with `first`/`after` up to their events; and a
 * server started with GRAPHQL_INTROSPECTION=false, which refuses introspection and GraphiQL.
 */
import { request as httpRequest } from "node:http";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { connect, roomName, useServer, type Guest, type TestServer } from "./helpers.ts";

type Answer = {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

async function gql(
  server: TestServer,
  query: string,
  variables: object = {},
  token?: string,
): Promise<{ status: number; text: string; body: Answer }> {
  const res = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Answer };
}

/** A GraphQL answer that must have no errors: its data. */
async function ok(server: TestServer, query: string, variables: object, token: string) {
  const answer = await gql(server, query, variables, token);
  expect(answer.body.errors, answer.text).toBeUndefined();
  expect(answer.status).toBe(200);
  return answer.body.data!;
}

const codes = (body: Answer) => body.errors?.map((e) => e.extensions?.code);

async function registered(server: TestServer, prefix: string): Promise<Guest> {
  const username = `${prefix}${Math.random().toString(36).slice(2, 8)}`;
  const session = await new EdgechatApi(server.url).register(username, "correct horse 1");
  return { ...session, api: new EdgechatApi(server.url, session.token) };
}

describe("GraphQL through the real server", () => {
  let server: TestServer;
  let ada: Guest; // registered: owns both rooms
  let ben: Guest; // registered: a moderator of the first
  let roomA: string;
  let roomB: string;
  const posted: { text: string; seq: number }[] = [];
  useServer(async (started) => {
    server = started;
    ada = await registered(server, "ada");
    ben = await registered(server, "ben");
    roomA = roomName("gqa");
    roomB = roomName("gqb");
    await ada.api.createRoom({ name: roomA, topic: "the first" });
    await ada.api.createRoom({ name: roomB, visibility: "private" });
    await ada.api.invite(roomA, ben.user.name, "moderator");
    for (let i = 1; i <= 25; i++) {
      const { seq } = await ada.api.postMessage(roomA, { text: `m${i}`, clientId: `seed-${i}` });
      posted.push({ text: `m${i}`, seq });
    }
  });

  it("answers the issue's one query in one request: rooms, 20 messages with authors and reactions, members, online", async () => {
    const m = (n: number) => posted[n - 1]!.seq;
    const react = (who: Guest, clientId: string, n: number, emoji: string, on: boolean) =>
      who.api.command(roomA, { type: "react", clientId, messageId: m(n), emoji, on });
    // Ben likes m25 and m24; Ada hearts and likes m25 and likes m10; Ben takes back his like of m24.
    await react(ben, "r1", 25, "👍", true);
    await react(ada, "r2", 25, "❤️", true);
    await react(ada, "r3", 25, "👍", true);
    await react(ben, "r4", 24, "👍", true);
    await react(ada, "r5", 10, "👍", true);
    await react(ben, "r6", 24, "👍", false);
    const socket = await connect(server.url, roomA, ada);
    expect(socket.welcomes).toHaveLength(1);

    const data = await ok(
      server,
      `query($a:String!,$b:String!){
        me { name kind }
        first: room(name:$a) { name visibility topic }
        second: room(name:$b) { name visibility topic }
        room(name:$a) {
          name memberCount onlineCount
          members { name role }
          online { id name }
          messages(first:20) {
            pageInfo { hasNextPage endCursor }
            edges { cursor node { id text author { id name } reactions { emoji count userIds members { name } } } }
          }
        }
      }`,
      { a: roomA, b: roomB },
      ada.token,
    );
    expect(data.me).toEqual({ name: ada.user.name, kind: "user" });
    expect(data.first).toEqual({ name: roomA, visibility: "public", topic: "the first" });
    expect(data.second).toEqual({ name: roomB, visibility: "private", topic: "" });
    expect(data.room.name).toBe(roomA);
    expect(data.room.memberCount).toBe(2);
    expect(data.room.onlineCount).toBe(1);
    expect(data.room.online).toEqual([{ id: ada.user.id, name: ada.user.name }]);
    expect(data.room.members).toEqual([
      { name: ada.user.name, role: "owner" },
      { name: ben.user.name, role: "moderator" },
    ]);
    const reactionsOf: Record<number, unknown[]> = {
      25: [
        {
          emoji: "👍",
          count: 2,
          userIds: [ben.user.id, ada.user.id],
          // In the member list's order (owner first), not the reactions'.
          members: [{ name: ada.user.name }, { name: ben.user.name }],
        },
        { emoji: "❤️", count: 1, userIds: [ada.user.id], members: [{ name: ada.user.name }] },
      ],
      10: [{ emoji: "👍", count: 1, userIds: [ada.user.id], members: [{ name: ada.user.name }] }],
    };
    const expected = Array.from({ length: 20 }, (_, i) => 25 - i).map((n) => ({
      cursor: String(m(n)),
      node: {
        id: m(n),
        text: `m${n}`,
        author: { id: ada.user.id, name: ada.user.name },
        reactions: reactionsOf[n] ?? [],
      },
    }));
    expect(data.room.messages.edges).toEqual(expected);
    expect(data.room.messages.pageInfo).toEqual({ hasNextPage: true, endCursor: String(m(6)) });

    // The next page is the 5 older ones, and nothing after them.
    const rest = await ok(
      server,
      `query($a:String!,$after:String){ room(name:$a) { messages(first:20, after:$after) {
        pageInfo { hasNextPage } edges { node { text } } } } }`,
      { a: roomA, after: data.room.messages.pageInfo.endCursor },
      ada.token,
    );
    expect(rest.room.messages.edges.map((e: any) => e.node.text)).toEqual([
      "m5",
      "m4",
      "m3",
      "m2",
      "m1",
    ]);
    expect(rest.room.messages.pageInfo.hasNextPage).toBe(false);
  });

  it("posts, edits, reacts, undoes and redacts through mutations, idempotent by clientId, and pages their events", async () => {
    const room = roomName("gqm");
    await ada.api.createRoom({ name: room });
    const before = (await ada.api.getRoom(room)).lastSeq;
    /** Runs a mutation twice with the same clientId: both answer the same seq. */
    const twice = async (field: string, params: string, args: string, vars: object) => {
      const q = `mutation($room:String!,$c:String!${params}){
        ${field}(room:$room,clientId:$c${args}){seq}}`;
      const a = await ok(server, q, { room, ...vars }, ada.token);
      const b = await ok(server, q, { room, ...vars }, ada.token);
      expect(b[field].seq, `${field} replayed`).toBe(a[field].seq);
      return a[field].seq as number;
    };
    const post = await twice("postMessage", ",$t:String!", ",text:$t", {
      c: "gq-post",
      t: "hello",
    });
    expect(post).toBe(before + 1);
    const edit = await twice("editMessage", ",$id:Int!,$t:String!", ",messageId:$id,text:$t", {
      c: "gq-edit",
      id: post,
      t: "hello, edited",
    });
    expect(edit).toBe(post + 1);
    const react = await twice("react", ",$id:Int!", `,messageId:$id,emoji:"🎉",on:true`, {
      c: "gq-react",
      id: post,
    });
    expect(react).toBe(post + 2);
    const undo = await twice("undo", "", "", { c: "gq-undo" });
    expect(undo).toBe(post + 3);
    const redact = await twice("redactMessage", ",$id:Int!", `,messageId:$id,reason:"oops"`, {
      c: "gq-redact",
      id: post,
    });
    expect(redact).toBe(post + 4);

    // The log, two events a page, from the start: every page continues where the last ended.
    const q = `query($room:String!,$after:String){ room(name:$room) { lastSeq events(first:2, after:$after) {
      pageInfo { hasNextPage endCursor } edges { cursor node { seq type actor { name } redacted data } } } } }`;
    const seen: any[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data = await ok(server, q, { room, after }, ada.token);
      const page = data.room.events;
      pages += 1;
      expect(data.room.lastSeq).toBe(redact);
      for (const edge of page.edges) expect(edge.cursor).toBe(String(edge.node.seq));
      seen.push(...page.edges.map((e: any) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(2);
      after = page.pageInfo.endCursor;
    }
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: redact }, (_, i) => i + 1));
    expect(pages).toBe(Math.ceil(redact / 2));
    const mine = seen.slice(post - 1);
    expect(mine.map((e) => [e.seq, e.type, e.actor.name])).toEqual([
      [post, "message.posted", ada.user.name],
      [edit, "message.edited", ada.user.name],
      [react, "reaction.added", ada.user.name],
      [undo, "reaction.removed", ada.user.name],
      [redact, "message.redacted", ada.user.name],
    ]);
    expect(mine[3].data).toMatchObject({ messageId: post, emoji: "🎉", undoes: react });
    expect(mine[4].data).toMatchObject({ messageId: post, reason: "oops" });
    // The redaction emptied the text of every event that carried it.
    expect(mine.slice(0, 2).map((e) => [e.redacted, e.data.text])).toEqual([
      [true, ""],
      [true, ""],
    ]);

    const message = await ok(
      server,
      `query($room:String!){ room(name:$room) { messages(first:5) { edges { node {
        id text redacted editedAt reactions { emoji } } } } } }`,
      { room },
      ada.token,
    );
    expect(message.room.messages.edges).toEqual([
      { node: { id: post, text: "", redacted: true, editedAt: expect.any(Number), reactions: [] } },
    ]);
    // A replayed clientId after all that still answers its first seq, and logs nothing.
    const again = await gql(
      server,
      `mutation($room:String!){ postMessage(room:$room, clientId:"gq-post", text:"hello"){ seq } }`,
      { room },
      ada.token,
    );
    expect(again.body).toEqual({ data: { postMessage: { seq: post } } });
    expect((await ada.api.getRoom(room)).lastSeq).toBe(redact);
  });

  it("gzips answers of GraphQL's media type for clients that ask for it; application/json as REST", async () => {
    const query = `query($r:String!){ room(name:$r){ members { id name role } messages(first:100){ edges { node { id text author { name } } } } } }`;
    const ask = (accept: string) =>
      new Promise<{ type: string; encoding: string; wire: number; body: any }>(
        (resolve, reject) => {
          const body = JSON.stringify({ query, variables: { r: roomA } });
          const req = httpRequest(`${server.url}/graphql`, {
            method: "POST",
            headers: {
              accept,
              "accept-encoding": "gzip",
              authorization: `Bearer ${ada.token}`,
              "content-type": "application/json",
            },
          });
          req.on("response", (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => {
              const raw = Buffer.concat(chunks);
              const encoding = String(res.headers["content-encoding"] ?? "");
              const text = (encoding === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
              resolve({
                type: String(res.headers["content-type"]),
                encoding,
                wire: raw.length,
                body: JSON.parse(text),
              });
            });
          });
          req.on("error", reject);
          req.end(body);
        },
      );
    const graphql = await ask("application/graphql-response+json, application/json");
    const json = await ask("application/json");
    expect(graphql.type).toMatch(/^application\/graphql-response\+json/);
    expect(graphql.encoding).toBe("gzip");
    expect(json.type).toMatch(/^application\/json/);
    expect(graphql.body).toEqual(json.body);
    expect(graphql.body.data.room.messages.edges.length).toBeGreaterThan(20);
    expect(graphql.wire).toBeLessThan(JSON.stringify(graphql.body).length / 2);
  });
});

describe("GraphQL with GRAPHQL_INTROSPECTION=false", () => {
  let server: TestServer;
  let gus: Guest;
  useServer(
    async (started) => {
      server = started;
      const session = await new EdgechatApi(server.url).signInGuest("gus");
      gus = { ...session, api: new EdgechatApi(server.url, session.token) };
    },
    { vars: { GRAPHQL_INTROSPECTION: "false" } },
  );

  it("refuses introspection as bad_request, serves no GraphiQL, and still answers queries", async () => {
    for (const query of [
      `{ __schema { queryType { name } } }`,
      `{ __type(name:"Room") { fields { name } } }`,
      `query IntrospectionQuery { __schema { types { name fields { name } } } }`,
    ]) {
      for (const token of [undefined, gus.token]) {
        const refused = await gql(server, query, {}, token);
        expect(refused.body.data, refused.text).toBeUndefined();
        expect(refused.body.errors?.length, refused.text).toBeGreaterThan(0);
        expect(new Set(codes(refused.body)), refused.text).toEqual(new Set(["bad_request"]));
        expect(refused.body.errors?.[0]?.message).toMatch(/introspection/i);
        expect(refused.text).not.toMatch(/\bat \S+ \(|\.ts:\d+/);
      }
    }
    // No "did you mean": the schema introspection hides is not suggested either.
    const typo = await gql(server, `{ mee { id } }`, {}, gus.token);
    expect(codes(typo.body)).toEqual(["bad_request"]);
    expect(typo.text).not.toMatch(/did you mean/i);

    const page = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    const html = await page.text();
    expect(page.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
    expect(html).not.toContain("edgechat GraphQL");
    expect(html.toLowerCase()).not.toContain("graphiql");

    const room = roomName("gqi");
    await gus.api.createRoom({ name: room });
    const answer = await gql(
      server,
      `query($r:String!){ me { name kind } room(name:$r) { name __typename } }`,
      { r: room },
      gus.token,
    );
    expect(answer.body).toEqual({
      data: { me: { name: "gus", kind: "guest" }, room: { name: room, __typename: "Room" } },
    });
  });
});
