import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ERROR_CODE_HEADER } from "../../src/rpc/errors.ts";
import { HistoryService } from "../../src/rpc/gen/edgechat/v1/history_pb.js";
import { MessageService } from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { AttachmentKind, MessageSchema } from "../../src/rpc/gen/edgechat/v1/types_pb.js";
import {
  IMAGE,
  postWithAttachments,
  transcribe,
  uploadVoice,
  VOICE,
} from "./attachment-fixtures.ts";
import { call, guest, newRoom } from "./helpers.ts";

const BASE = "http://edgechat.test/rpc";
// Connect's clients ask for redirect "error", which workerd does not take.
const appFetch: typeof fetch = (input, init) =>
  exports.default.fetch(new Request(input, { ...init, redirect: "manual" }));
const TRANSPORTS = [
  [
    "Connect binary",
    createConnectTransport({ baseUrl: BASE, fetch: appFetch, useBinaryFormat: true }),
  ],
  [
    "gRPC-web JSON",
    createGrpcWebTransport({ baseUrl: BASE, fetch: appFetch, useBinaryFormat: false }),
  ],
] as const;

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error),
  );
  if (!outcome) throw new Error("the call succeeded");
  return outcome;
}

describe.each(TRANSPORTS)(
  "attachments and transcripts over RPC, %s (docs/rpc.md)",
  (_, transport) => {
    const messages = createClient(MessageService, transport);
    const history = createClient(HistoryService, transport);

    it("ListMessages and GetStateAt carry attachments, their paths and transcripts", async () => {
      const ada = await guest("ada");
      const headers = { authorization: `Bearer ${ada.token}` };
      const room = await newRoom(ada, "rpc-att");
      const id = await postWithAttachments(room, ada, [VOICE, IMAGE]);
      const seq = await transcribe(room, {
        messageId: id,
        attachmentId: VOICE.id,
        text: "meet me at the harbour at noon",
        segments: [{ start: 0.25, end: 4.1, text: "meet me at the harbour at noon" }],
        language: "en",
        engine: "pocketsphinx",
      });

      const page = await messages.listMessages({ room, pageSize: 10 }, { headers });
      const message = page.messages.find((m) => m.id === BigInt(id))!;
      expect(toJson(MessageSchema, message)).toMatchObject({
        id: String(id),
        attachments: [
          {
            id: VOICE.id,
            kind: "ATTACHMENT_KIND_VOICE",
            name: VOICE.name,
            type: "audio/webm",
            size: String(VOICE.size),
            durationMs: 4_200,
            waveform: VOICE.waveform,
            transcript: {
              text: "meet me at the harbour at noon",
              segments: [
                { startSeconds: 0.25, endSeconds: 4.1, text: "meet me at the harbour at noon" },
              ],
              language: "en",
              engine: "pocketsphinx",
            },
            path: `/api/rooms/${room}/attachments/${VOICE.id}`,
          },
          {
            id: IMAGE.id,
            kind: "ATTACHMENT_KIND_IMAGE",
            size: String(IMAGE.size),
            path: `/api/rooms/${room}/attachments/${IMAGE.id}`,
          },
        ],
      });
      expect(message.attachments[1]!.transcript).toBeUndefined();

      const then = await history.getStateAt(
        { room, moment: { case: "atSeq", value: BigInt(seq - 1) } },
        { headers },
      );
      const before = then.messages.find((m) => m.id === BigInt(id))!;
      expect(before.attachments.map((a) => [a.kind, a.transcript?.text])).toEqual([
        [AttachmentKind.VOICE, undefined],
        [AttachmentKind.IMAGE, undefined],
      ]);
    });

    it("PostMessage posts an uploaded recording with empty text; its path serves the bytes", async () => {
      const ada = await guest("ada");
      const headers = { authorization: `Bearer ${ada.token}` };
      const room = await newRoom(ada, "rpc-att");
      const { attachment, bytes } = await uploadVoice(room, ada);
      const posted = await messages.postMessage(
        { room, clientId: "v1", attachments: [attachment.id] },
        { headers },
      );
      const page = await messages.listMessages({ room }, { headers });
      const message = page.messages[0]!;
      expect(message.id).toBe(posted.seq);
      expect(message.text).toBe("");
      expect(message.attachments.map((a) => [a.id, a.kind, a.durationMs, a.size])).toEqual([
        [attachment.id, AttachmentKind.VOICE, 2_500, BigInt(bytes.length)],
      ]);
      const served = await call(message.attachments[0]!.path, { token: ada.token });
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    });

    it("PostMessage takes attachments, with or without text, under the contract's rules", async () => {
      const ada = await guest("ada");
      const headers = { authorization: `Bearer ${ada.token}` };
      const room = await newRoom(ada, "rpc-att");

      const none = await failure(messages.postMessage({ room, clientId: "p1" }, { headers }));
      expect(none.code).toBe(Code.InvalidArgument);
      expect(none.rawMessage).toContain("a post has text, attachments or both");

      // Empty text with an upload id is a post without text: the room finds no such upload.
      const unknown = await failure(
        messages.postMessage({ room, clientId: "p2", attachments: [VOICE.id] }, { headers }),
      );
      expect([unknown.code, unknown.metadata.get(ERROR_CODE_HEADER)]).toEqual([
        Code.NotFound,
        "not_found",
      ]);
      expect(unknown.rawMessage).toContain(`no upload ${VOICE.id}`);

      const malformed = await failure(
        messages.postMessage(
          { room, clientId: "p3", text: "hi", attachments: ["x/y"] },
          { headers },
        ),
      );
      expect(malformed.code).toBe(Code.InvalidArgument);

      const posted = await messages.postMessage({ room, clientId: "p4", text: "hi" }, { headers });
      expect(posted.seq).toBeGreaterThan(0n);
      const page = await messages.listMessages({ room }, { headers });
      expect(page.messages[0]!.attachments).toEqual([]);
    });
  },
);
