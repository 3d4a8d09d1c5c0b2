import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseContentType as parseConnectType } from "@connectrpc/connect/protocol-connect";
import { parseContentType as parseGrpcWebType } from "@connectrpc/connect/protocol-grpc-web";
import { ERROR_CODE_HEADER } from "./errors.ts";

/**
 * How a request's body holds binary protobuf: the whole body is the message (Connect unary), or
 * each message is framed in a 5-byte envelope (Connect streams, gRPC-web); undefined for JSON,
 * gRPC-web-text and anything Connect will refuse itself.
 */
export function binaryFraming(contentType: string | null): "whole" | "enveloped" | undefined {
  const connect = parseConnectType(contentType);
  if (connect) return connect.binary ? (connect.stream ? "enveloped" : "whole") : undefined;
  const grpcWeb = parseGrpcWebType(contentType);
  return grpcWeb?.binary && !grpcWeb.text ? "enveloped" : undefined;
}

/**
 * The request's body, each binary message checked to decode as `schema` before Connect reads it.
 * Connect-ES 2.3 answers a message it cannot decode `internal` ("parse binary: …", HTTP 500);
 * it is the client's fault, so this fails the body with `invalid_argument` first, which Connect
 * then answers in the call's own protocol. The body is read whole: the worker's calls carry one
 * message (unary and server streaming). Past `maxBytes` it is passed on unchecked, for Connect's
 * own limit to refuse; a compressed message too, which Connect refuses (no compression is on).
 */
export async function* decodableBody(
  body: AsyncIterable<Uint8Array>,
  schema: DescMessage,
  framing: "whole" | "enveloped",
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    chunks.push(next.value);
    size += next.value.length;
    if (size > maxBytes) {
      yield* chunks;
      yield* { [Symbol.asyncIterator]: () => iterator };
      return;
    }
  }
  const bytes = concat(chunks, size);
  for (const message of framing === "whole" ? [bytes] : plainMessages(bytes))
    assertDecodes(schema, message);
  yield bytes;
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** The payloads of the complete, uncompressed message envelopes (flags 0) in `bytes`. */
function plainMessages(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: Uint8Array[] = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const end = at + 5 + view.getUint32(at + 1);
    if (end > bytes.length) break; // truncated: Connect says so itself
    if (bytes[at] === 0) messages.push(bytes.subarray(at + 5, end));
    at = end;
  }
  return messages;
}

function assertDecodes(schema: DescMessage, message: Uint8Array): void {
  try {
    fromBinary(schema, message);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ConnectError(
      `the request is not a valid ${schema.typeName}: ${why}`,
      Code.InvalidArgument,
      new Headers({ [ERROR_CODE_HEADER]: "bad_request" }),
    );
  }
}
