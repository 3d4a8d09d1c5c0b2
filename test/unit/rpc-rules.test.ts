import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { ApiError, ErrorCode } from "../../src/protocol/index.ts";
import { binaryFraming, decodableBody } from "../../src/rpc/decodable.ts";
import {
  ERROR_CODE_HEADER,
  INTERNAL_MESSAGE,
  RETRY_AFTER_HEADER,
  RPC_CODE,
  refusalToConnectError,
  toConnectError,
} from "../../src/rpc/errors.ts";
import { EchoRequestSchema } from "../../src/rpc/gen/edgechat/test/v1/echo_pb.js";
import { childTraceparent, newSpanId, parseTraceparent } from "../../src/rpc/trace-context.ts";

describe("the contract's errors as RPC errors", () => {
  it("maps every contract code, as docs/rpc.md's table says", () => {
    expect(Object.keys(RPC_CODE).sort()).toEqual([...ErrorCode.options].sort());
    expect(RPC_CODE).toEqual({
      bad_request: Code.InvalidArgument,
      unauthorized: Code.Unauthenticated,
      forbidden: Code.PermissionDenied,
      not_found: Code.NotFound,
      conflict: Code.FailedPrecondition,
      too_large: Code.ResourceExhausted,
      unsupported_type: Code.InvalidArgument,
      rate_limited: Code.ResourceExhausted,
      quota: Code.ResourceExhausted,
      overloaded: Code.Unavailable,
      unavailable: Code.Unavailable,
      internal: Code.Internal,
    });
  });

  it("keeps the message and names the contract's code in the metadata", () => {
    const error = refusalToConnectError({ code: "conflict", message: "that username is taken" });
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toBe("that username is taken");
    expect(error.metadata.get(ERROR_CODE_HEADER)).toBe("conflict");
    expect(error.metadata.get(RETRY_AFTER_HEADER)).toBeNull();
  });

  it("sends retryAfter as whole seconds rounded up, as REST's Retry-After", () => {
    const error = refusalToConnectError({
      code: "rate_limited",
      message: "slow down",
      retryAfter: 0.2,
    });
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.metadata.get(RETRY_AFTER_HEADER)).toBe("1");
    const overloaded = refusalToConnectError({
      code: "overloaded",
      message: "busy",
      retryAfter: 4,
    });
    expect(overloaded.code).toBe(Code.Unavailable);
    expect(overloaded.metadata.get(RETRY_AFTER_HEADER)).toBe("4");
  });

  it("maps a thrown ApiError and leaves an RPC error as it is, reporting neither", () => {
    const report = vi.fn();
    const mapped = toConnectError(new ApiError("not_found", "no such room"), report);
    expect([mapped.code, mapped.rawMessage]).toEqual([Code.NotFound, "no such room"]);
    const rpc = new ConnectError("the operation timed out", Code.DeadlineExceeded);
    expect(toConnectError(rpc, report)).toBe(rpc);
    expect(report).not.toHaveBeenCalled();
  });

  it("hides anything else behind `internal` and a fixed message, and reports it", () => {
    const report = vi.fn();
    const bug = new TypeError("cannot read properties of undefined (reading 'token')");
    const error = toConnectError(bug, report);
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe(INTERNAL_MESSAGE);
    expect(error.cause).toBeUndefined();
    expect(error.metadata.get(ERROR_CODE_HEADER)).toBe("internal");
    expect(report).toHaveBeenCalledWith(bug);
    expect(toConnectError("a string", report).rawMessage).toBe(INTERNAL_MESSAGE);
  });
});

describe("W3C traceparent", () => {
  const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  const PARENT = "00f067aa0ba902b7";

  it("parses version 00 with its flags and tracestate", () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`, "congo=t61rcWkgMzE")).toEqual({
      traceId: TRACE,
      parentId: PARENT,
      flags: 1,
      state: "congo=t61rcWkgMzE",
    });
    expect(parseTraceparent(` 00-${TRACE}-${PARENT}-00 `)).toMatchObject({
      flags: 0,
      state: undefined,
    });
  });

  it("takes a later version's four fields and ignores what it adds", () => {
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-01-what-the-future-adds`)).toMatchObject({
      traceId: TRACE,
      parentId: PARENT,
    });
  });

  it("refuses what the spec calls invalid: a new trace starts instead", () => {
    for (const header of [
      null,
      "",
      "garbage",
      `ff-${TRACE}-${PARENT}-01`, // version ff
      `00-${TRACE}-${PARENT}-01-extra`, // version 00 has four fields
      `00-${TRACE.toUpperCase()}-${PARENT}-01`, // lowercase hex only
      `00-${"0".repeat(32)}-${PARENT}-01`, // all-zero trace id
      `00-${TRACE}-${"0".repeat(16)}-01`, // all-zero parent id
      `00-${TRACE.slice(1)}-${PARENT}-01`, // short trace id
      `00-${TRACE}-${PARENT}-1`, // short flags
    ])
      expect(parseTraceparent(header), String(header)).toBeUndefined();
  });

  it("drops a tracestate over 512 characters", () => {
    expect(
      parseTraceparent(`00-${TRACE}-${PARENT}-01`, `a=${"b".repeat(511)}`)?.state,
    ).toBeUndefined();
  });

  it("hands on the same trace with this hop's span as the parent", () => {
    const trace = parseTraceparent(`00-${TRACE}-${PARENT}-03`)!;
    expect(childTraceparent(trace, "b7ad6b7169203331")).toBe(`00-${TRACE}-b7ad6b7169203331-01`);
    const child = parseTraceparent(childTraceparent(trace))!;
    expect(child.traceId).toBe(TRACE);
    expect(child.parentId).not.toBe(PARENT);
  });

  it("makes span ids of 16 lowercase hex digits, different each time", () => {
    const ids = new Set(Array.from({ length: 100 }, newSpanId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("binary request messages decoded before Connect reads them", () => {
  it("knows the binary framings by Connect's own content-type parsers", () => {
    expect(binaryFraming("application/proto")).toBe("whole");
    expect(binaryFraming("application/connect+proto")).toBe("enveloped");
    expect(binaryFraming("application/grpc-web")).toBe("enveloped");
    expect(binaryFraming("application/grpc-web+proto")).toBe("enveloped");
    for (const other of [
      "application/json",
      "application/connect+json",
      "application/grpc-web+json",
      "application/grpc-web-text",
      "application/grpc",
      "text/plain",
      null,
    ])
      expect(binaryFraming(other), String(other)).toBeUndefined();
  });

  const collect = async (body: AsyncIterable<Uint8Array>) => {
    const out: number[] = [];
    for await (const chunk of body) out.push(...chunk);
    return out;
  };
  async function* chunks(...parts: number[][]) {
    for (const part of parts) yield new Uint8Array(part);
  }
  const valid = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "hi" }));
  const frame = (flags: number, payload: ArrayLike<number>) => [
    flags,
    0,
    0,
    0,
    payload.length,
    ...Array.from(payload),
  ];

  it("passes a body of valid messages on unchanged, however it was chunked", async () => {
    const whole = [...valid];
    expect(
      await collect(
        decodableBody(chunks(whole.slice(0, 2), whole.slice(2)), EchoRequestSchema, "whole", 100),
      ),
    ).toEqual(whole);
    const enveloped = frame(0, valid);
    expect(
      await collect(decodableBody(chunks(enveloped), EchoRequestSchema, "enveloped", 100)),
    ).toEqual(enveloped);
  });

  it("fails a message that does not decode with invalid_argument", async () => {
    await expect(
      collect(decodableBody(chunks(frame(0, [0x78])), EchoRequestSchema, "enveloped", 100)),
    ).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("leaves compressed messages, truncated frames and bodies over the limit to Connect", async () => {
    const compressed = frame(1, [0x78]);
    expect(
      await collect(decodableBody(chunks(compressed), EchoRequestSchema, "enveloped", 100)),
    ).toEqual(compressed);
    const truncated = frame(0, [0x78]).slice(0, 4);
    expect(
      await collect(decodableBody(chunks(truncated), EchoRequestSchema, "enveloped", 100)),
    ).toEqual(truncated);
    const big = [0x78, ...new Array(20).fill(0)];
    expect(
      await collect(
        decodableBody(chunks(big.slice(0, 10), big.slice(10)), EchoRequestSchema, "whole", 5),
      ),
    ).toEqual(big);
  });
});
