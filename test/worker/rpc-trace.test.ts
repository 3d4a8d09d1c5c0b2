import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, expect, it, vi } from "vitest";
import type { Room } from "../../src/room/room.ts";
import { MessageService } from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { guest, newRoom, roomStub } from "./helpers.ts";

afterEach(() => vi.restoreAllMocks());

/** The room's log line (src/telemetry/log.ts) of a command that failed on its side. */
function failedCommand(calls: unknown[][]): { traceparent?: string } | undefined {
  return calls
    .map(([line]) => JSON.parse(String(line)) as { msg: string; traceparent?: string })
    .find((line) => line.msg === "a command failed");
}

/**
 * A command that reaches the room over RPC carries its caller's W3C trace context into the room
 * (src/rpc/context.ts hands the room a child span of the call's): the room keeps it with the job
 * and names it in the log line when the command fails on its side, so that a failure can be
 * found in its trace.
 */
it("a command's trace context reaches the room and names its failure", async () => {
  const ada = await guest("ada");
  const room = await newRoom(ada, "trace");
  // Break the room's messages table so that a post fails inside the room.
  await runInDurableObject(roomStub(room), (_room: Room, state) => {
    state.storage.sql.exec("DROP TABLE messages");
  });
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const result = await roomStub(room).command(
    { type: "post", clientId: "t1", text: "hello" },
    ada.user,
    traceparent,
  );
  expect(result).toMatchObject({ ok: false, error: { code: "internal" } });
  const failure = failedCommand(logged.mock.calls);
  expect(failure?.traceparent).toBe(traceparent);
});

it("over RPC, the room gets a child span of the call's trace: the same trace, the worker as parent", async () => {
  const ada = await guest("ada");
  const room = await newRoom(ada, "trace-rpc");
  await runInDurableObject(roomStub(room), (_room: Room, state) => {
    state.storage.sql.exec("DROP TABLE messages");
  });
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const transport = createConnectTransport({
    baseUrl: "http://edgechat.test/rpc",
    fetch: (input, init) =>
      exports.default.fetch(new Request(input, { ...init, redirect: "manual" })),
  });
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const posted = await createClient(MessageService, transport)
    .postMessage(
      { room, clientId: "t1", text: "hello" },
      { headers: { authorization: `Bearer ${ada.token}`, traceparent } },
    )
    .catch((error: unknown) => ConnectError.from(error));
  expect(posted).toMatchObject({ code: Code.Internal });
  const handed = failedCommand(logged.mock.calls)?.traceparent;
  expect(handed).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  expect(handed).not.toBe(traceparent);
});
