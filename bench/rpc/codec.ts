/**
 * Protobuf against JSON for one page of messages, in this process (no server): the time to turn
 * the page into bytes and back, each way as its own code does it.
 *
 * - REST: `JSON.stringify` of `MessagesPage` (what Hono's `c.json` does), UTF-8 out; UTF-8 in,
 *   `JSON.parse`, then the contract's zod schema (`MessagesPage.parse`), as the SDK validates.
 *   Also without zod, for clients that trust the server.
 * - Connect JSON: `toJsonString` / `fromJsonString` of Protobuf-ES 2 on `ListMessagesResponse`
 *   (protobuf's JSON mapping), UTF-8 both ways, exactly Connect-ES's JSON serialization.
 * - Protobuf binary: `toBinary` / `fromBinary`.
 * - The worker's conversion of REST's page into protobuf messages (src/rpc/convert.ts's
 *   `toMessage`), which the RPC pays on top of its encoding because the rooms answer the
 *   contract's JSON objects.
 *
 * Each sample times a batch of operations (so that the clock's cost is spread thin) and gives
 * the time per page. Every round takes one sample of every operation, in an order rotated by
 * one each round, after uncounted rounds of warm-up: the machine's drift and the collector hit
 * every operation alike.
 */
import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { MessagesPage } from "../../src/protocol/index.ts";
import { toMessage } from "../../src/rpc/convert.ts";
import {
  ListMessagesResponseSchema,
  type ListMessagesResponse,
} from "../../src/rpc/gen/edgechat/v1/messages_pb.js";
import { now, percentiles, type Percentiles } from "../util.ts";

export type CodecInput = {
  /** REST's body as the server sent it (decoded, if it came compressed). */
  restBody: Uint8Array;
  /** The Connect JSON answer's body. */
  connectJsonBody: Uint8Array;
  /** The Connect binary answer's body. */
  binaryBody: Uint8Array;
};

export type Operation = { name: string; label: string; run(): unknown };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The operations, each on the real page; the objects to encode are decoded once up front. */
export function operations(input: CodecInput): Operation[] {
  const restPage: MessagesPage = MessagesPage.parse(JSON.parse(fromUtf8.decode(input.restBody)));
  const response: ListMessagesResponse = fromBinary(ListMessagesResponseSchema, input.binaryBody);
  return [
    {
      name: "rest-encode",
      label: "REST JSON: JSON.stringify + UTF-8",
      run: () => utf8.encode(JSON.stringify(restPage)),
    },
    {
      name: "rest-decode",
      label: "REST JSON: UTF-8 + JSON.parse + zod MessagesPage",
      run: () => MessagesPage.parse(JSON.parse(fromUtf8.decode(input.restBody))),
    },
    {
      name: "rest-decode-nozod",
      label: "REST JSON: UTF-8 + JSON.parse (no validation)",
      run: () => JSON.parse(fromUtf8.decode(input.restBody)) as unknown,
    },
    {
      name: "json-encode",
      label: "Connect JSON: toJsonString + UTF-8",
      run: () => utf8.encode(toJsonString(ListMessagesResponseSchema, response)),
    },
    {
      name: "json-decode",
      label: "Connect JSON: UTF-8 + fromJsonString",
      run: () => fromJsonString(ListMessagesResponseSchema, fromUtf8.decode(input.connectJsonBody)),
    },
    {
      name: "binary-encode",
      label: "protobuf binary: toBinary",
      run: () => toBinary(ListMessagesResponseSchema, response),
    },
    {
      name: "binary-decode",
      label: "protobuf binary: fromBinary",
      run: () => fromBinary(ListMessagesResponseSchema, input.binaryBody),
    },
    {
      name: "convert",
      label: "the worker's conversion: REST's page → ListMessagesResponse (toMessage)",
      run: () =>
        create(ListMessagesResponseSchema, {
          messages: restPage.messages.map((message) => toMessage(message, "bench")),
          nextPageToken: restPage.nextBefore === null ? "" : String(restPage.nextBefore),
        }),
    },
  ];
}

export type CodecOptions = { rounds: number; warmup: number; batch: number };

/** Microseconds per page, per operation: every round one batch of each, the order rotated. */
export function measure(ops: Operation[], options: CodecOptions): Record<string, Percentiles> {
  const samples = new Map(ops.map((op) => [op.name, [] as number[]]));
  let sink = 0; // keeps every result alive, so that no call can be optimized away
  for (let round = 0; round < options.warmup + options.rounds; round++)
    for (let k = 0; k < ops.length; k++) {
      const op = ops[(round + k) % ops.length]!;
      const started = now();
      for (let i = 0; i < options.batch; i++) if (op.run() !== undefined) sink++;
      const microsPerPage = ((now() - started) * 1000) / options.batch;
      if (round >= options.warmup) samples.get(op.name)!.push(microsPerPage);
    }
  if (sink !== (options.warmup + options.rounds) * ops.length * options.batch)
    throw new Error("an operation returned nothing");
  return Object.fromEntries([...samples].map(([name, values]) => [name, percentiles(values)]));
}
