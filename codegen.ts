import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * GraphQL Code Generator (`npm run graphql:codegen`): the SDK's operations
 * (src/client/graphql/operations.graphql) against schema.graphql, into
 * src/client/graphql/generated/.
 * The generated files are committed, as source for clients; test/unit/graphql-codegen.test.ts
 * fails while they differ from what this config generates.
 */
const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["src/client/graphql/operations.graphql"],
  generates: {
    "src/client/graphql/generated/": {
      preset: "client",
      presetConfig: {
        fragmentMasking: false,
        // The SDK exports the documents of generated/graphql.ts; no barrel over gql.ts's map.
        skipIndexFile: true,
        // sha256, as Apollo's automatic persisted queries and GraphQL over HTTP's documentId use.
        persistedDocuments: { hashAlgorithm: "sha256" },
      },
      config: {
        // Documents as their text with the hash beside it: no AST and no graphql printer in the
        // browser bundle.
        documentMode: "string",
        useTypeImports: true,
        // Imports that Node runs as they are (type stripping), as the rest of src/ spells them.
        importExtension: ".ts",
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { Timestamp: "number", JSON: "unknown" },
      },
    },
  },
};

export default config;
