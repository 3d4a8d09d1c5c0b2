/**
 * A local OTLP/HTTP receiver for the tracing variants: a node:http server on 127.0.0.1 that
 * answers 200 to `POST /v1/traces` and counts what the worker exported (requests, body bytes,
 * spans). It decodes just enough of the protobuf `ExportTraceServiceRequest` to count spans;
 * the wire format itself is tested on the tracing branch, not here.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { gunzipSync } from "node:zlib";

export type SinkCounts = {
  /** `POST /v1/traces` requests answered 200. */
  requests: number;
  /** Their bodies as received (compressed, if the exporter compressed). */
  bytes: number;
  spans: number;
  /** Requests to any other path or method, answered 404, or bodies that did not decode. */
  rejected: number;
};

export type TraceSink = {
  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  counts(): SinkCounts;
  stop(): Promise<void>;
};

/**
 * The repeated message field `field` of each message in `messages`, as raw bytes: the walk
 * from ExportTraceServiceRequest (resource_spans = 1) through ResourceSpans (scope_spans = 2)
 * to ScopeSpans (spans = 2).
 */
function repeated(messages: Uint8Array[], field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const message of messages) {
    const reader = new BinaryReader(message);
    while (reader.pos < reader.len) {
      const [number, wireType] = reader.tag();
      if (number === field && wireType === WireType.LengthDelimited) out.push(reader.bytes());
      else reader.skip(wireType, number);
    }
  }
  return out;
}

export function countSpans(body: Uint8Array): number {
  return repeated(repeated(repeated([body], 1), 2), 2).length;
}

export async function startTraceSink(): Promise<TraceSink> {
  const counts: SinkCounts = { requests: 0, bytes: 0, spans: 0, rejected: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        counts.rejected += 1;
        res.writeHead(404).end();
        return;
      }
      try {
        const gzipped = req.headers["content-encoding"] === "gzip";
        const spans = countSpans(gzipped ? gunzipSync(body) : body);
        counts.requests += 1;
        counts.bytes += body.length;
        counts.spans += spans;
        // An empty ExportTraceServiceResponse: full success.
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      } catch {
        counts.rejected += 1;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
