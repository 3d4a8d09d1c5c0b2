import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { measure, operations } from "../../bench/rpc/codec.ts";
import { assertRealistic, describePage, pageFromRest, pageFromRpc } from "../../bench/rpc/page.ts";
import type { MessagesPage } from "../../src/protocol/index.ts";
import { toMessage } from "../../src/rpc/convert.ts";
import { ListMessagesResponseSchema } from "../../src/rpc/gen/edgechat/v1/messages_pb.js";

/**
 * The RPC benchmark's helpers (bench/rpc/): REST's page and the RPC's must come to the same
 * page when they carry the same messages and differ when they do not, or the check before
 * measuring would compare unlike things; and the codec measurement must time every operation.
 */
const rest: MessagesPage = {
  messages: [
    {
      id: 40,
      author: { id: "u3", name: "linus" },
      text: "hi",
      at: 2000,
      editedAt: 2100,
      replyTo: 39,
      reactions: { "👍": ["u3", "u1"], "🎉": ["u2"] },
    },
    { id: 39, author: { id: "u1", name: "ada" }, text: "", at: 1900, reactions: {}, deleted: true },
    {
      id: 38,
      author: { id: "u2", name: "grace" },
      text: "",
      at: 1800,
      reactions: {},
      redacted: true,
    },
  ],
  nextBefore: 38,
};

/** The RPC's answer for REST's page, as the worker builds it (src/rpc/convert.ts). */
const rpcOf = (page: MessagesPage) =>
  create(ListMessagesResponseSchema, {
    messages: page.messages.map((message) => toMessage(message, "lobby")),
    nextPageToken: page.nextBefore === null ? "" : String(page.nextBefore),
  });

describe("bench/rpc/page.ts", () => {
  it("REST's page and the RPC's, binary or JSON, come to the same page", () => {
    const answer = rpcOf(rest);
    const binary = fromBinary(
      ListMessagesResponseSchema,
      toBinary(ListMessagesResponseSchema, answer),
    );
    const json = fromJsonString(
      ListMessagesResponseSchema,
      toJsonString(ListMessagesResponseSchema, answer),
    );
    expect(pageFromRpc(binary)).toEqual(pageFromRest(rest));
    expect(pageFromRpc(json)).toEqual(pageFromRest(rest));
    expect(pageFromRest(rest).messages[0]).toEqual({
      id: 40,
      author: { id: "u3", name: "linus" },
      text: "hi",
      at: 2000,
      editedAt: 2100,
      replyTo: 39,
      deleted: false,
      redacted: false,
      reactions: [
        ["👍", ["u3", "u1"]],
        ["🎉", ["u2"]],
      ],
    });
  });

  it("tells pages apart that differ in any field a client shows", () => {
    const changes: ((page: MessagesPage) => void)[] = [
      (p) => (p.messages[0]!.text = "hi!"),
      (p) => (p.messages[0]!.editedAt = undefined),
      (p) => (p.messages[0]!.reactions["👍"] = ["u1", "u3"]), // reactors' order
      (p) => (p.messages[0]!.author.name = "lin"),
      (p) => (p.messages[1]!.deleted = undefined),
      (p) => (p.messages[2]!.redacted = undefined),
      (p) => (p.messages[0]!.replyTo = undefined),
      (p) => (p.nextBefore = null),
      (p) => p.messages.pop(),
    ];
    for (const change of changes) {
      const other = structuredClone(rest);
      change(other);
      expect(pageFromRpc(rpcOf(other))).not.toEqual(pageFromRest(rest));
    }
  });

  it("describes the page and refuses one that is not realistic", () => {
    expect(describePage(pageFromRest(rest))).toEqual({
      messages: 3,
      withReactions: 1,
      reactions: 3,
      edited: 1,
      deleted: 1,
      replies: 1,
      authors: 3,
      hasOlder: true,
    });
    expect(() => assertRealistic(pageFromRest(rest), 3)).toThrow(/not the one asked for/);
  });
});

describe("bench/rpc/codec.ts", () => {
  const input = () => {
    const answer = rpcOf(rest);
    return {
      restBody: new TextEncoder().encode(JSON.stringify(rest)),
      connectJsonBody: new TextEncoder().encode(toJsonString(ListMessagesResponseSchema, answer)),
      binaryBody: toBinary(ListMessagesResponseSchema, answer),
    };
  };

  it("every operation round-trips the real page", () => {
    const ops = Object.fromEntries(operations(input()).map((op) => [op.name, op.run]));
    const decoder = new TextDecoder();
    expect(JSON.parse(decoder.decode(ops["rest-encode"]!() as Uint8Array))).toEqual(rest);
    expect(ops["rest-decode"]!()).toEqual(rest);
    const fromJson = ops["json-decode"]!() as ReturnType<typeof rpcOf>;
    const fromBin = ops["binary-decode"]!() as ReturnType<typeof rpcOf>;
    expect(pageFromRpc(fromJson)).toEqual(pageFromRest(rest));
    expect(pageFromRpc(fromBin)).toEqual(pageFromRest(rest));
    expect(ops["binary-encode"]!()).toEqual(input().binaryBody);
    expect(pageFromRpc(ops["convert"]!() as ReturnType<typeof rpcOf>)).toEqual(pageFromRest(rest));
  });

  it("takes one sample per operation and round, after the warm-up", () => {
    const calls: string[] = [];
    const op = (name: string) => ({ name, label: name, run: () => calls.push(name) });
    const result = measure([op("a"), op("b"), op("c")], { rounds: 4, warmup: 2, batch: 5 });
    expect(Object.keys(result)).toEqual(["a", "b", "c"]);
    for (const name of ["a", "b", "c"]) {
      expect(result[name]!.n).toBe(4);
      expect(result[name]!.p50).toBeGreaterThanOrEqual(0);
    }
    // Rotated by one each round: round 1 starts with b, round 2 with c.
    expect(calls.slice(15, 20)).toEqual(Array(5).fill("b"));
    expect(calls.slice(30, 35)).toEqual(Array(5).fill("c"));
    expect(calls).toHaveLength(6 * 3 * 5);
  });

  it("refuses an operation that returns nothing (it could be optimized away)", () => {
    const op = { name: "void", label: "void", run: () => undefined };
    expect(() => measure([op], { rounds: 1, warmup: 0, batch: 1 })).toThrow(/returned nothing/);
  });
});
