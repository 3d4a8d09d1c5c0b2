import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import {
  TRUSTED_DOCUMENTS,
  type TrustedDocumentsMode,
} from "../../src/graphql/trusted-documents.ts";
import { guest, newRoom } from "./helpers.ts";

/**
 * Trusted documents (GRAPHQL_TRUSTED_DOCUMENTS) in each mode: the real app, with the var set for
 * the request as wrangler.toml or the dashboard would set it.
 */
const app = createApp();

type Answer = { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };

async function ask(mode: TrustedDocumentsMode, body: object, token: string, method = "POST") {
  const url = new URL("http://edgechat.test/graphql");
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
  if (method === "GET") for (const [k, v] of Object.entries(body)) url.searchParams.set(k, v);
  else {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await app.fetch(new Request(url, init), { ...env, GRAPHQL_TRUSTED_DOCUMENTS: mode });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Answer };
}

const [knownId, knownText] = [...TRUSTED_DOCUMENTS].find(([, doc]) =>
  doc.startsWith("query YourRooms"),
)!;
const hex = knownId.slice("sha256:".length);
const unknownId = `sha256:${"0".repeat(64)}`;
const RAW = `{ me { name kind } }`;

const ok = (answer: Answer) => {
  expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
  return answer.data;
};
const refused = (answer: Answer, message?: string | RegExp) => {
  expect(answer.data ?? undefined, JSON.stringify(answer)).toBeUndefined();
  expect(answer.errors?.map((e) => e.extensions?.code)).toEqual(["bad_request"]);
  if (message) expect(answer.errors![0]!.message).toMatch(message);
};

describe("trusted documents", () => {
  it("the manifest is the SDK's: sha256 ids of its operations", () => {
    expect(knownId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(TRUSTED_DOCUMENTS.size).toBeGreaterThanOrEqual(3);
  });

  it("off (the default): raw queries run; ids are not understood", async () => {
    const { token } = await guest("ada");
    expect(ok((await ask("off", { query: RAW }, token)).body)).toEqual({
      me: { name: "ada", kind: "guest" },
    });
    refused((await ask("off", { documentId: knownId }, token)).body);
    const apq = { extensions: { persistedQuery: { version: 1, sha256Hash: hex } } };
    refused((await ask("off", apq, token)).body, /query/);
    refused((await ask("off", { documentId: unknownId }, token)).body);
    // What the SDK sends, the text and its hash, runs the text.
    const sdk = await ask("off", { query: knownText, ...apq }, token);
    expect(ok(sdk.body)).toEqual({ me: { rooms: [] } });
  });

  for (const mode of ["allow", "only"] as const) {
    it(`${mode}: a known id runs its document, by documentId (body or URL) or APQ hash`, async () => {
      const { token } = await guest("ada");
      const want = { me: { rooms: [] } };
      expect(ok((await ask(mode, { documentId: knownId }, token)).body)).toEqual(want);
      // GraphQL over HTTP's id with or without its algorithm, in a GET's URL.
      expect(ok((await ask(mode, { documentId: hex }, token, "GET")).body)).toEqual(want);
      const apq = { extensions: { persistedQuery: { version: 1, sha256Hash: hex } } };
      expect(ok((await ask(mode, { ...apq, variables: { first: 5 } }, token)).body)).toEqual(want);
    });

    it(`${mode}: an unknown id is PersistedQueryNotFound (bad_request), never a crash`, async () => {
      const { token } = await guest("ada");
      for (const id of [unknownId, "constructor", "__proto__", "sha1:abc"]) {
        const answer = await ask(mode, { documentId: id }, token);
        expect(answer.status).toBeLessThan(500);
        refused(answer.body, /^PersistedQueryNotFound$/);
      }
      refused((await ask(mode, { documentId: 42 }, token)).body);
      refused((await ask(mode, {}, token)).body);
    });

    it(`${mode}: a text sent with a known id runs the manifest's copy, not the text`, async () => {
      const { token } = await guest("ada");
      const apq = { extensions: { persistedQuery: { version: 1, sha256Hash: hex } } };
      // The SDK's request: its text and its id.
      expect(ok((await ask(mode, { query: knownText, ...apq }, token)).body)).toEqual({
        me: { rooms: [] },
      });
      // Another text under a trusted id does not run.
      const sneaked = await ask(mode, { query: RAW, documentId: knownId }, token);
      expect(ok(sneaked.body)).toEqual({ me: { rooms: [] } });
    });
  }

  it("allow: a raw query runs, and one with an unknown id runs too (APQ's second request)", async () => {
    const { token } = await guest("ada");
    expect(ok((await ask("allow", { query: RAW }, token)).body).me.name).toBe("ada");
    const apq = { extensions: { persistedQuery: { version: 1, sha256Hash: "f".repeat(64) } } };
    expect(ok((await ask("allow", { query: RAW, ...apq }, token)).body).me.kind).toBe("guest");
  });

  it("only: a subscription over SSE runs by the id of the SDK's RoomEvents; a raw one is refused", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "trusted-sse");
    const [eventsId] = [...TRUSTED_DOCUMENTS].find(([, doc]) =>
      doc.startsWith("subscription RoomEvents"),
    )!;
    const sse = (body: object) =>
      app.fetch(
        new Request("http://edgechat.test/graphql", {
          method: "POST",
          headers: {
            authorization: `Bearer ${ada.token}`,
            "content-type": "application/json",
            accept: "text/event-stream",
          },
          body: JSON.stringify(body),
        }),
        { ...env, GRAPHQL_TRUSTED_DOCUMENTS: "only" },
      );
    const first = async (res: Response) => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("event: next\ndata: ")) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += chunk.value;
      }
      await reader.cancel();
      const block = text.split("\n\n").find((b) => b.startsWith("event: next\n"))!;
      return JSON.parse(block.slice(block.indexOf("data: ") + 6)) as Answer;
    };
    // since 0: the room's first event (its creation) is replayed at once.
    const trusted = await first(await sse({ documentId: eventsId, variables: { room, since: 0 } }));
    expect(ok(trusted).roomEvents).toMatchObject({ seq: 1, type: "room.created" });
    const raw = `subscription($r:String!){ roomEvents(room:$r, since:0) { seq } }`;
    const refusedRaw = await (await sse({ query: raw, variables: { r: room } })).text();
    expect(refusedRaw).toContain("only trusted documents run here");
    expect(refusedRaw).not.toContain('"seq"');
  });

  it("only: a raw query is refused, with or without an unknown id", async () => {
    const { token } = await guest("ada");
    const only = /only trusted documents run here/;
    refused((await ask("only", { query: RAW }, token)).body, only);
    refused((await ask("only", { query: RAW, documentId: unknownId }, token)).body, only);
    refused((await ask("only", { query: RAW }, token, "GET")).body, only);
    // Mutations too: nothing outside the manifest runs.
    const post = `mutation { createRoom(name: "sneaky") { name } }`;
    refused((await ask("only", { query: post }, token)).body, only);
  });
});
