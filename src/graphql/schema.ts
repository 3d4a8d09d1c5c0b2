import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.ts";
// Each area adds its types and fields to the builder when imported.
import "./rooms.ts";
import "./users.ts";
import "./me.ts";
import "./messages.ts";
import "./attachments.ts";
import "./members.ts";
import "./audit.ts";
import "./commands.ts";
import "./reads.ts";
import "./room-events.ts";
import "./your-rooms.ts";

/** The GraphQL schema, built once from the code. */
export const schema = builder.toSchema();

/** The schema as schema.graphql holds it: sorted, so that the file's diffs are the changes. */
export const schemaText = () => printSchema(lexicographicSortSchema(schema));
