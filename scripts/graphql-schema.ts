/**
 * Prints the code's GraphQL schema (src/graphql/) as schema.graphql holds it, the file clients
 * and reviewers read as the contract: `npm run graphql:schema` writes it after a change to
 * src/graphql/; test/worker/graphql-schema.test.ts fails while the two differ. It runs on Node
 * but is type-checked with the worker's code it imports (tsconfig.json), hence no node: import.
 */
import { schemaText } from "../src/graphql/schema.ts";

console.log(schemaText());
