/**
 * A local OTLP/HTTP trace receiver for the tests: `POST /v1/traces` with an
 * `ExportTraceServiceRequest` in protobuf, decoded here field by field with protobuf-es's wire
 * reader after opentelemetry-proto's trace.proto, common.proto and resource.proto (v1), so that
 * the tests check what a real collector would read, not what the worker meant to send.
 */
import { createServer, type Server } from "node:http";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

export type AttributeValue = string | boolean | number | bigint | undefined;

export type ReceivedSpan = {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** SpanKind as the proto numbers it: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, AttributeValue>;
  links: { traceId: string; spanId: string }[];
  /** Status.code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** The resource's attributes (service.name, …). */
  resource: Record<string, AttributeValue>;
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** Calls `field` for each field of the message in `bytes`, skipping what it does not take. */
function eachField(
  bytes: Uint8Array,
  field: (number: number, wireType: WireType, reader: BinaryReader) => boolean,
): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (!field(number, wireType, reader)) reader.skip(wireType, number);
  }
}

// common.proto: AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4; … }
function anyValue(bytes: Uint8Array): AttributeValue {
  let value: AttributeValue;
  eachField(bytes, (number, _wire, reader) => {
    if (number === 1) value = reader.string();
    else if (number === 2) value = reader.bool();
    else if (number === 3) value = BigInt(reader.int64());
    else if (number === 4) value = reader.double();
    else return false;
    return true;
  });
  return value;
}

// common.proto: KeyValue { string key = 1; AnyValue value = 2; }
function keyValue(bytes: Uint8Array, into: Record<string, AttributeValue>): void {
  let key = "";
  let value: AttributeValue;
  eachField(bytes, (number, _wire, reader) => {
    if (number === 1) key = reader.string();
    else if (number === 2) value = anyValue(reader.bytes());
    else return false;
    return true;
  });
  into[key] = value;
}

// trace.proto: Span.Link { bytes trace_id = 1; bytes span_id = 2; … }
function link(bytes: Uint8Array): { traceId: string; spanId: string } {
  const found = { traceId: "", spanId: "" };
  eachField(bytes, (number, _wire, reader) => {
    if (number === 1) found.traceId = hex(reader.bytes());
    else if (number === 2) found.spanId = hex(reader.bytes());
    else return false;
    return true;
  });
  return found;
}

// trace.proto: Span { trace_id = 1; span_id = 2; trace_state = 3; parent_span_id = 4; name = 5;
// kind = 6; start_time_unix_nano = 7 (fixed64); end_time_unix_nano = 8 (fixed64);
// attributes = 9; … links = 13; status = 15 (Status { message = 2; code = 3; }) }
function span(bytes: Uint8Array, resource: Record<string, AttributeValue>): ReceivedSpan {
  const found: ReceivedSpan = {
    traceId: "",
    spanId: "",
    parentSpanId: "",
    name: "",
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    links: [],
    statusCode: 0,
    resource,
  };
  eachField(bytes, (number, _wire, reader) => {
    if (number === 1) found.traceId = hex(reader.bytes());
    else if (number === 2) found.spanId = hex(reader.bytes());
    else if (number === 4) found.parentSpanId = hex(reader.bytes());
    else if (number === 5) found.name = reader.string();
    else if (number === 6) found.kind = reader.int32();
    else if (number === 7) found.startTimeUnixNano = BigInt(reader.fixed64());
    else if (number === 8) found.endTimeUnixNano = BigInt(reader.fixed64());
    else if (number === 9) keyValue(reader.bytes(), found.attributes);
    else if (number === 13) found.links.push(link(reader.bytes()));
    else if (number === 15)
      eachField(reader.bytes(), (n, _w, status) => {
        if (n !== 3) return false;
        found.statusCode = status.int32();
        return true;
      });
    else return false;
    return true;
  });
  return found;
}

/**
 * collector/trace/v1: ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
 * ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
 * Resource { repeated KeyValue attributes = 1; } ScopeSpans { repeated Span spans = 2; }
 */
export function decodeTraceRequest(body: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  eachField(body, (number, _wire, reader) => {
    if (number !== 1) return false;
    const resource: Record<string, AttributeValue> = {};
    const scopes: Uint8Array[] = [];
    eachField(reader.bytes(), (n, _w, inner) => {
      if (n === 1)
        eachField(inner.bytes(), (a, _x, attrs) => {
          if (a !== 1) return false;
          keyValue(attrs.bytes(), resource);
          return true;
        });
      else if (n === 2) scopes.push(inner.bytes());
      else return false;
      return true;
    });
    for (const scope of scopes)
      eachField(scope, (n, _w, inner) => {
        if (n !== 2) return false;
        spans.push(span(inner.bytes(), resource));
        return true;
      });
    return true;
  });
  return spans;
}

export type OtlpReceiver = {
  /** http://127.0.0.1:<port>, the base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  /** Every span received so far, in order of arrival. */
  readonly spans: ReceivedSpan[];
  /** The requests received: path, content type, headers. */
  readonly requests: { path: string; contentType: string; headers: Record<string, string> }[];
  close(): Promise<void>;
};

/** Starts the receiver on a free local port; it answers 200 with an empty response message. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: OtlpReceiver["requests"] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const contentType = request.headers["content-type"] ?? "";
      requests.push({
        path: request.url ?? "",
        contentType,
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
        ),
      });
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      if (contentType !== "application/x-protobuf") {
        response.writeHead(415).end();
        return;
      }
      try {
        spans.push(...decodeTraceRequest(new Uint8Array(Buffer.concat(chunks))));
      } catch {
        response.writeHead(400).end();
        return;
      }
      response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    spans,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
