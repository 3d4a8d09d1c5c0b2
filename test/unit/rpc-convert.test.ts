import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  millis,
  roleName,
  seqFrom,
  sortName,
  timestamp,
  toChainReport,
  toEvent,
  toMember,
  toMessage,
  toRoom,
  toTranscript,
  visibilityName,
} from "../../src/rpc/convert.ts";
import { ChainReportSchema } from "../../src/rpc/gen/edgechat/v1/admin_pb.js";
import { RoomSort } from "../../src/rpc/gen/edgechat/v1/rooms_pb.js";
import {
  EventSchema,
  MessageSchema,
  Role,
  RoomSchema,
  TranscriptSchema,
  Visibility,
} from "../../src/rpc/gen/edgechat/v1/types_pb.js";
import type { MessageAttachment, RoomEvent } from "../../src/protocol/index.ts";

const AT = 1_796_000_000_123;

describe("the contract's JSON as protobuf messages (src/rpc/convert.ts)", () => {
  it("a room, with its counts and times, in protobuf's JSON mapping", () => {
    const room = toRoom({
      name: "lobby",
      topic: "hi",
      visibility: "private",
      createdAt: AT,
      lastSeq: 42,
      members: 3,
      online: 1,
    });
    expect(toJson(RoomSchema, room)).toEqual({
      name: "lobby",
      topic: "hi",
      visibility: "VISIBILITY_PRIVATE",
      createdAt: "2026-11-30T00:53:20.123Z",
      lastSeq: "42",
      memberCount: 3,
      onlineCount: 1,
    });
    expect(millis(room.createdAt!)).toBe(AT);
  });

  it("a message: reactions as a list, optional times only when set, deleted and redacted", () => {
    const message = toMessage(
      {
        id: 7,
        author: { id: "u1", name: "ada" },
        text: "",
        at: AT,
        reactions: { "👍": ["u1", "u2"] },
        deleted: true,
        redacted: true,
      },
      "lobby",
    );
    expect(toJson(MessageSchema, message)).toEqual({
      id: "7",
      author: { id: "u1", name: "ada" },
      at: "2026-11-30T00:53:20.123Z",
      reactions: [{ emoji: "👍", userIds: ["u1", "u2"] }],
      deleted: true,
      redacted: true,
    });
    expect(message.editedAt).toBeUndefined();
  });

  it("a message's attachments: kinds, sizes, voice's duration and waveform, the bytes' path, a transcript only once there is one", () => {
    const voice: MessageAttachment = {
      id: "vvvvvvvvvvvvvvvvvvvvvv",
      kind: "voice",
      name: "voice message.webm",
      type: "audio/webm",
      size: 48_213,
      durationMs: 4_200,
      waveform: [0, 255],
      transcript: {
        text: "hello there",
        segments: [{ start: 0.5, end: 1.25, text: "hello there" }],
        engine: "pocketsphinx",
      },
    };
    const file: MessageAttachment = {
      id: "f-_fffffffffffffffffff",
      kind: "file",
      name: "a b.pdf",
      type: "application/pdf",
      size: 9,
    };
    const message = toMessage(
      {
        id: 8,
        author: { id: "u1", name: "ada" },
        text: "",
        at: AT,
        reactions: {},
        attachments: [voice, file],
      },
      "lobby",
    );
    expect(toJson(MessageSchema, message)).toMatchObject({
      attachments: [
        {
          id: voice.id,
          kind: "ATTACHMENT_KIND_VOICE",
          name: "voice message.webm",
          type: "audio/webm",
          size: "48213",
          durationMs: 4200,
          waveform: [0, 255],
          // No language: the engine said none, and proto3 leaves the empty string out.
          transcript: {
            text: "hello there",
            segments: [{ startSeconds: 0.5, endSeconds: 1.25, text: "hello there" }],
            engine: "pocketsphinx",
          },
          path: "/api/rooms/lobby/attachments/vvvvvvvvvvvvvvvvvvvvvv",
        },
        {
          id: file.id,
          kind: "ATTACHMENT_KIND_FILE",
          name: "a b.pdf",
          type: "application/pdf",
          size: "9",
          path: "/api/rooms/lobby/attachments/f-_fffffffffffffffffff",
        },
      ],
    });
    expect(message.attachments[1]!.transcript).toBeUndefined();
    const voiceOnly = toTranscript({ text: "", engine: "whisper" });
    expect(toJson(TranscriptSchema, voiceOnly)).toEqual({ engine: "whisper" });
    // A transcript the room gave up on says why.
    const given = toTranscript({ text: "", engine: "pocketsphinx", failed: "unreadable" });
    expect(toJson(TranscriptSchema, given)).toEqual({
      engine: "pocketsphinx",
      failed: "unreadable",
    });
  });

  it("an event keeps its data as JSON, and its chain", () => {
    const event = {
      seq: 5,
      id: "e5",
      type: "message.posted",
      at: AT,
      actor: { id: "u1", name: "ada" },
      data: { text: "hello", replyTo: 3 },
      hash: "ab",
      prevHash: "cd",
    } as RoomEvent;
    expect(toJson(EventSchema, toEvent(event))).toMatchObject({
      seq: "5",
      type: "message.posted",
      data: { text: "hello", replyTo: 3 },
      hash: "ab",
      prevHash: "cd",
    });
  });

  it("a member's role and mute, a chain report either way", () => {
    const member = toMember({
      id: "u2",
      name: "bo",
      role: "moderator",
      joinedAt: AT,
      mutedUntil: AT + 1,
    });
    expect([member.role, millis(member.mutedUntil!)]).toEqual([Role.MODERATOR, AT + 1]);
    expect(toJson(ChainReportSchema, toChainReport({ ok: true, lastSeq: 9, head: "ff" }))).toEqual({
      ok: true,
      lastSeq: "9",
      head: "ff",
    });
    expect(toJson(ChainReportSchema, toChainReport({ ok: false, seq: 4, problem: "x" }))).toEqual({
      seq: "4",
      problem: "x",
    });
  });

  it("enums back to the contract's names, UNSPECIFIED to none; seqs past 2^53 to none", () => {
    expect([roleName(Role.OWNER), roleName(Role.UNSPECIFIED)]).toEqual(["owner", undefined]);
    expect(visibilityName(Visibility.PUBLIC)).toBe("public");
    expect(sortName(RoomSort.MEMBERS)).toBe("members");
    expect(seqFrom(12n)).toBe(12);
    expect(seqFrom(2n ** 60n)).toBeUndefined();
    expect(millis(timestamp(AT))).toBe(AT);
  });
});
