import { describe, expect, it } from "vitest";
import { RoomPageDocument } from "../../src/client/index.ts";
import {
  IMAGE,
  postWithAttachments,
  transcribe,
  uploadVoice,
  VOICE,
} from "./attachment-fixtures.ts";
import { call, guest, newRoom } from "./helpers.ts";

type Answer = {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: any }[];
};

async function gql(query: string, variables: object, token: string): Promise<Answer> {
  const res = await call("/graphql", { method: "POST", json: { query, variables }, token });
  return res.json();
}

const codes = (body: Answer) => body.errors?.map((e) => e.extensions?.code);

const MESSAGES = `query($room:String!){ room(name:$room){ messages(first:10){ edges{ node{
  id text redacted
  attachments { id kind name type size durationMs waveform path
    transcript { text language engine segments { start end text } } }
} } } } }`;

describe("attachments and transcripts through GraphQL (docs/attachments.md)", () => {
  it("serves a message's attachments, their paths, and a voice attachment's transcript once logged", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "gql-att");
    const id = await postWithAttachments(room, ada, [VOICE, IMAGE]);

    const before = await gql(MESSAGES, { room }, ada.token);
    expect(before.errors).toBeUndefined();
    const [message] = before.data!.room.messages.edges.map((e: any) => e.node);
    expect(message).toEqual({
      id,
      text: "",
      redacted: false,
      attachments: [
        {
          ...VOICE,
          path: `/api/rooms/${room}/attachments/${VOICE.id}`,
          transcript: null,
        },
        {
          ...IMAGE,
          durationMs: null,
          waveform: null,
          path: `/api/rooms/${room}/attachments/${IMAGE.id}`,
          transcript: null,
        },
      ],
    });

    const seq = await transcribe(room, {
      messageId: id,
      attachmentId: VOICE.id,
      text: "meet me at the harbour at noon",
      segments: [
        { start: 0, end: 1.5, text: "meet me" },
        { start: 1.5, end: 4.1, text: "at the harbour at noon" },
      ],
      language: "en",
      engine: "pocketsphinx",
    });
    expect(seq).toBeGreaterThan(id);

    const after = await gql(MESSAGES, { room }, ada.token);
    const [voice, image] = after.data!.room.messages.edges[0].node.attachments;
    expect(voice.transcript).toEqual({
      text: "meet me at the harbour at noon",
      language: "en",
      engine: "pocketsphinx",
      segments: [
        { start: 0, end: 1.5, text: "meet me" },
        { start: 1.5, end: 4.1, text: "at the harbour at noon" },
      ],
    });
    expect(image.transcript).toBeNull();

    // Time travel folds the transcript in at its own event, not before.
    const travel = `query($room:String!,$at:Int!){ room(name:$room){ stateAt(at:$at){ messages {
      id attachments { id transcript { text segments { text } } } } } } }`;
    const then = await gql(travel, { room, at: seq - 1 }, ada.token);
    expect(then.data!.room.stateAt.messages[0].attachments[0]).toEqual({
      id: VOICE.id,
      transcript: null,
    });
    const now = await gql(travel, { room, at: seq }, ada.token);
    expect(now.data!.room.stateAt.messages[0].attachments[0].transcript).toEqual({
      text: "meet me at the harbour at noon",
      segments: [{ text: "meet me" }, { text: "at the harbour at noon" }],
    });

    // The SDK's RoomPage selects them too, within the armor's limits.
    const page = await call("/graphql", {
      method: "POST",
      token: ada.token,
      json: { query: RoomPageDocument.toString(), variables: { room } },
    });
    const pageBody = (await page.json()) as Answer;
    expect(pageBody.errors).toBeUndefined();
    expect(pageBody.data!.room.messages.edges[0].node.attachments[0]).toMatchObject({
      kind: "voice",
      durationMs: 4_200,
      transcript: { text: "meet me at the harbour at noon", engine: "pocketsphinx" },
    });
  });

  it("empties a redacted message's attachments, transcript and all", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "gql-att");
    const id = await postWithAttachments(room, ada, [VOICE]);
    await transcribe(room, {
      messageId: id,
      attachmentId: VOICE.id,
      text: "a secret said aloud",
      engine: "pocketsphinx",
    });
    const redacted = await gql(
      `mutation($room:String!,$id:Int!){ redactMessage(room:$room, clientId:"x1", messageId:$id){ seq } }`,
      { room, id },
      ada.token,
    );
    expect(redacted.errors).toBeUndefined();
    const read = await gql(MESSAGES, { room }, ada.token);
    expect(read.data!.room.messages.edges[0].node).toMatchObject({
      id,
      redacted: true,
      attachments: [],
    });
    const events = await gql(
      `query($room:String!){ room(name:$room){ events(first:100){ edges{ node{ type data } } } } }`,
      { room },
      ada.token,
    );
    const logged = events.data!.room.events.edges.map((e: any) => e.node);
    const transcribed = logged.find((e: any) => e.type === "message.transcribed");
    expect(transcribed.data).toMatchObject({ text: "" });
    expect(JSON.stringify(logged)).not.toContain("secret");
  });

  it("postMessage posts an uploaded voice recording without text; its path serves the bytes", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "gql-att");
    const { attachment, bytes } = await uploadVoice(room, ada);
    const posted = await gql(
      `mutation($room:String!,$a:[ID!]){ postMessage(room:$room, clientId:"v1", attachments:$a){ seq } }`,
      { room, a: [attachment.id] },
      ada.token,
    );
    expect(posted.errors).toBeUndefined();
    const read = await gql(MESSAGES, { room }, ada.token);
    const message = read.data!.room.messages.edges[0].node;
    expect(message).toMatchObject({
      id: posted.data!.postMessage.seq,
      text: "",
      attachments: [
        {
          id: attachment.id,
          kind: "voice",
          name: "memo.webm",
          type: attachment.type,
          size: bytes.length,
          durationMs: 2_500,
          waveform: [9, 99],
          transcript: null,
        },
      ],
    });
    const served = await call(message.attachments[0].path, { token: ada.token });
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);

    // Posted once: the same upload again is not an upload any more.
    const again = await gql(
      `mutation($room:String!,$a:[ID!]){ postMessage(room:$room, clientId:"v2", text:"again", attachments:$a){ seq } }`,
      { room, a: [attachment.id] },
      ada.token,
    );
    expect(codes(again)).toEqual(["not_found"]);
  });

  it("postMessage takes attachments, with or without text, through the room's own rules", async () => {
    const ada = await guest("ada");
    const room = await newRoom(ada, "gql-att");
    const post = `mutation($room:String!,$c:String!,$t:String,$a:[ID!]){
      postMessage(room:$room, clientId:$c, text:$t, attachments:$a){ seq } }`;

    // Neither text nor attachments: the contract's refinement, as for a frame.
    const empty = await gql(post, { room, c: "p1" }, ada.token);
    expect(codes(empty)).toEqual(["bad_request"]);
    expect(empty.errors![0]!.message).toContain("a post has text, attachments or both");

    // Without text, an upload id passes the contract and reaches the room, which knows no such upload.
    const unknown = await gql(post, { room, c: "p2", a: [VOICE.id] }, ada.token);
    expect(codes(unknown)).toEqual(["not_found"]);
    expect(unknown.errors![0]!.message).toContain(`no upload ${VOICE.id}`);

    const malformed = await gql(post, { room, c: "p3", t: "hi", a: ["../../etc"] }, ada.token);
    expect(codes(malformed)).toEqual(["bad_request"]);
    const twice = await gql(post, { room, c: "p4", a: [VOICE.id, VOICE.id] }, ada.token);
    expect(codes(twice)).toEqual(["bad_request"]);
    const tooMany = Array.from({ length: 11 }, (_, i) => `${"a".repeat(20)}${i}`.padEnd(22, "x"));
    const many = await gql(post, { room, c: "p5", a: tooMany }, ada.token);
    expect(codes(many)).toEqual(["bad_request"]);

    // Text alone still posts, as before.
    const text = await gql(post, { room, c: "p6", t: "hello" }, ada.token);
    expect(text.data?.postMessage.seq).toBeGreaterThan(0);
  });
});
