import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import { GraphQLError, Kind } from "graphql";
import type { GraphQLContext } from "./context.ts";

/**
 * The one Pothos builder every area adds its types to (code first: the schema is what the code
 * says, and schema.graphql is printed from it). Relay gives the connections; its global `node`
 * fields are left out, since rooms and messages are found by name and id, not by a global id.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    Timestamp: { Input: number; Output: number };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    cursorType: "String",
  },
});

// Times are milliseconds since the epoch, past what GraphQL's 32-bit Int holds.
builder.scalarType("Timestamp", {
  description: "Milliseconds since the Unix epoch (an integer).",
  serialize: (value) => value,
  parseValue: (value) => timestamp(value),
  parseLiteral: (node) => timestamp(node.kind === Kind.INT ? Number(node.value) : Number.NaN),
});

function timestamp(value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw new GraphQLError("a Timestamp is a non-negative integer of milliseconds");
}

// An event's `data` has one shape per event type (docs/protocol.md); it is passed through as is.
builder.scalarType("JSON", {
  description: "An event's data, one shape per event type (docs/protocol.md).",
  serialize: (value) => value,
  parseValue: () => {
    throw new GraphQLError("JSON is an output type only");
  },
});

builder.queryType({});
builder.mutationType({});
