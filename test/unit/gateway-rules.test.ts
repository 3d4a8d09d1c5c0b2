import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { retriable, unreachable } from "../../src/gateway/retry.ts";
import { Upstreams } from "../../src/gateway/upstreams.ts";
import { RoomService } from "../../src/rpc/gen/edgechat/v1/rooms_pb.js";
import { MessageService } from "../../src/rpc/gen/edgechat/v1/messages_pb.js";

describe("the gateway's upstreams", () => {
  it("take turns (round robin), each call's order starting at the next one", () => {
    const upstreams = new Upstreams(["http://a", "http://b/", "http://c", "http://a"]);
    expect(upstreams.all).toEqual(["http://a", "http://b", "http://c"]);
    expect([upstreams.order(), upstreams.order(), upstreams.order(), upstreams.order()]).toEqual([
      ["http://a", "http://b", "http://c"],
      ["http://b", "http://c", "http://a"],
      ["http://c", "http://a", "http://b"],
      ["http://a", "http://b", "http://c"],
    ]);
  });

  it("set a failed one aside until it is up again; none left is an empty order", () => {
    const upstreams = new Upstreams(["http://a", "http://b"]);
    upstreams.down("http://a");
    expect([upstreams.order(), upstreams.order()]).toEqual([["http://b"], ["http://b"]]);
    upstreams.down("http://b");
    expect(upstreams.order()).toEqual([]);
    upstreams.up("http://a");
    expect(upstreams.healthy()).toEqual(["http://a"]);
    expect(() => new Upstreams([])).toThrow(/at least one upstream/);
  });
});

describe("what the gateway sends again", () => {
  const reset = new ConnectError("connect ECONNRESET 127.0.0.1:1", Code.Aborted);
  const refused = new ConnectError("fetch failed", Code.Unavailable, undefined, undefined, {
    code: "ECONNREFUSED",
    message: "connect ECONNREFUSED",
  });
  const answered = new ConnectError("the room is busy", Code.Unavailable);

  it("only a failure of the network, never an answer (a room's overloaded is one)", () => {
    expect(unreachable(reset)).toBe(true);
    expect(
      unreachable(
        new ConnectError(
          "x",
          Code.Unavailable,
          undefined,
          undefined,
          Object.assign(new Error("read"), { code: "EPIPE" }),
        ),
      ),
    ).toBe(true);
    expect(unreachable(answered)).toBe(false);
    expect(unreachable(new ConnectError("no such room", Code.NotFound))).toBe(false);
    expect(unreachable(refused)).toBe(false); // its cause is not an Error: nothing says ECONNREFUSED
  });

  it("only a method the .proto declares idempotent or free of side effects", () => {
    expect(retriable(MessageService.method.postMessage, reset)).toBe(true);
    expect(retriable(RoomService.method.getRoom, reset)).toBe(true);
    expect(retriable(RoomService.method.createRoom, reset)).toBe(false);
    expect(retriable(MessageService.method.postMessage, answered)).toBe(false);
  });
});
