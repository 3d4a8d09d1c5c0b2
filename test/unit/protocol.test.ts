import { describe, expect, it } from "vitest";
import {
  ClientFrame,
  ERROR_STATUS,
  EventsQuery,
  MessagesQuery,
  MessageText,
  RoomEvent,
  RoomName,
  ServerFrame,
  Username,
} from "../../src/protocol/index.ts";

describe("names and values", () => {
  it("accepts room names of the contract only", () => {
    for (const ok of ["a", "lobby", "0day", "team_a-1", "a".repeat(64)])
      expect(RoomName.safeParse(ok).success).toBe(true);
    for (const bad of ["", "Lobby", "-x", "_x", "a b", "a".repeat(65), "é", "a/b"])
      expect(RoomName.safeParse(bad).success).toBe(false);
  });

  it("accepts usernames of 3 to 32 characters", () => {
    for (const ok of ["ada", "Ada.Lovelace_1-x", "a".repeat(32)])
      expect(Username.safeParse(ok).success).toBe(true);
    for (const bad of ["ab", "a".repeat(33), "ada lovelace", "ada!", ""])
      expect(Username.safeParse(bad).success).toBe(false);
  });

  it("takes 1 to 4000 code points of text, not only white space", () => {
    expect(MessageText.safeParse("x").success).toBe(true);
    expect(MessageText.safeParse("🎉".repeat(4000)).success).toBe(true);
    for (const bad of ["", " ", "\n\t ", "x".repeat(4001)])
      expect(MessageText.safeParse(bad).success).toBe(false);
  });
});

describe("events", () => {
  const base = { seq: 1, id: "0190d4", at: 1764000000000, actor: { id: "g_a", name: "ada" } };

  it("parses every v1 type with its data", () => {
    const samples = [
      { type: "room.created", data: { name: "lobby", topic: "", visibility: "public" } },
      { type: "room.topic_changed", data: { topic: "news" } },
      { type: "member.joined", data: {} },
      { type: "member.left", data: {} },
      { type: "message.posted", data: { text: "hi", replyTo: 2 } },
      { type: "message.edited", data: { messageId: 2, text: "hey" } },
      { type: "message.deleted", data: { messageId: 2 } },
      { type: "reaction.added", data: { messageId: 2, emoji: "👍" } },
      { type: "reaction.removed", data: { messageId: 2, emoji: "👍" } },
    ];
    for (const sample of samples)
      expect(RoomEvent.parse({ ...base, ...sample })).toEqual({ ...base, ...sample });
  });

  it("refuses a seq below 1 and data of the wrong shape", () => {
    expect(RoomEvent.safeParse({ ...base, seq: 0, type: "member.joined", data: {} }).success).toBe(
      false,
    );
    expect(RoomEvent.safeParse({ ...base, type: "message.posted", data: {} }).success).toBe(false);
  });
});

describe("frames", () => {
  it("tells client frames from server frames", () => {
    expect(ClientFrame.safeParse({ type: "ack", clientId: "c", seq: 1 }).success).toBe(false);
    expect(ServerFrame.safeParse({ type: "ack", clientId: "c", seq: 1 }).success).toBe(true);
    expect(ServerFrame.safeParse({ type: "presence", left: { id: "g_a" } }).success).toBe(true);
    expect(
      ServerFrame.safeParse({
        type: "welcome",
        room: "lobby",
        you: { id: "g", name: "ada" },
        lastSeq: 0,
        online: [],
      }).success,
    ).toBe(true);
  });
});

describe("HTTP", () => {
  it("maps every error code to the contract's status", () => {
    expect(ERROR_STATUS).toEqual({
      bad_request: 400,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      too_large: 413,
      unsupported_type: 415,
      rate_limited: 429,
      internal: 500,
      unavailable: 503,
      overloaded: 503,
      quota: 403,
    });
  });

  it("parses query numbers strictly, with the contract's defaults and bounds", () => {
    expect(EventsQuery.parse({})).toEqual({ after: 0, limit: 100 });
    expect(EventsQuery.parse({ after: "5", limit: "1000" })).toEqual({ after: 5, limit: 1000 });
    for (const bad of [
      { limit: "1001" },
      { limit: "0" },
      { after: "-1" },
      { after: "1e3" },
      { after: "0x10" },
      { after: " 1" },
    ]) {
      expect(EventsQuery.safeParse(bad).success).toBe(false);
    }
    expect(MessagesQuery.parse({ before: "10" })).toEqual({ before: 10, limit: 100 });
    expect(MessagesQuery.safeParse({ before: "0" }).success).toBe(false);
  });
});
