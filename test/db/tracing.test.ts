/**
 * One post's trace across the three hops, on a real primary and replicas: the worker's SERVER
 * span → the room's `room.command` → the `db.flush` that wrote it to Postgres, received by a
 * local OTLP/HTTP receiver that decodes the protobuf wire format; and a read's `db.read` span
 * under its request.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.ts";
import { freshRoom, guest, waitUntil } from "../e2e/helpers.ts";
import { flushed, useDbSuite } from "./harness.ts";

const CLIENT = 3;
const receiver: OtlpReceiver = await startOtlpReceiver();
const suite = useDbSuite({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
afterAll(() => receiver.close());

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

describe("a post's trace", () => {
  it("reads worker POST /api/rooms/:room/messages → room.command → db.flush, linked by parent ids", async () => {
    const { server, cluster } = suite;
    const ada = await guest(server.url, "ada");
    const room = await freshRoom(ada);
    const traceId = hex(16);
    const answer = await fetch(`${server.url}/api/rooms/${room}/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ada.token}`,
        "content-type": "application/json",
        traceparent: `00-${traceId}-${hex(8)}-01`,
      },
      body: JSON.stringify({ text: "to postgres and back", clientId: "c-db-trace" }),
    });
    expect(answer.status).toBe(201);
    const { seq } = (await answer.json()) as { seq: number };
    await flushed(cluster, room, seq);

    const inTrace = (name: string) =>
      receiver.spans.find((span) => span.traceId === traceId && span.name === name);
    const worker = await waitUntil(() => inTrace("POST /api/rooms/:room/messages"), "worker span");
    const command = await waitUntil(() => inTrace("room.command"), "room.command span");
    const flush = await waitUntil(() => inTrace("db.flush"), "db.flush span");

    expect(command.parentSpanId).toBe(worker.spanId);
    expect(flush.parentSpanId).toBe(command.spanId);
    expect(flush.kind).toBe(CLIENT);
    expect(flush.attributes).toMatchObject({
      "db.system": "postgresql",
      "edgechat.room": room,
    });
    expect(Number(flush.attributes["edgechat.flush.rows"])).toBeGreaterThanOrEqual(1);
    expect(flush.statusCode).not.toBe(2);
    // The flush runs after the commit that scheduled it.
    expect(flush.startTimeUnixNano).toBeGreaterThanOrEqual(command.endTimeUnixNano);
  });

  it("a read from Postgres is a db.read span under its request, naming the node, never its URL", async () => {
    const { server } = suite;
    const ada = await guest(server.url, "ada");
    const traceId = hex(16);
    const answer = await fetch(`${server.url}/api/search?q=postgres`, {
      headers: {
        authorization: `Bearer ${ada.token}`,
        traceparent: `00-${traceId}-${hex(8)}-01`,
      },
    });
    expect(answer.status).toBe(200);
    const worker = await waitUntil(
      () => receiver.spans.find((s) => s.traceId === traceId && s.name === "GET /api/search"),
      "worker span",
    );
    const read = await waitUntil(
      () => receiver.spans.find((s) => s.traceId === traceId && s.name === "db.read"),
      "db.read span",
    );
    expect(read.parentSpanId).toBe(worker.spanId);
    expect(read.attributes["edgechat.db.node"]).toMatch(/^(primary|replica-\d)$/);
    expect(JSON.stringify(read.attributes)).not.toContain("postgres://");
  });
});
