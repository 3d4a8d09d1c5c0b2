import {
  defaultExtractPersistedOperationId,
  usePersistedOperations,
} from "@graphql-yoga/plugin-persisted-operations";
import type { GraphQLParams, Plugin } from "graphql-yoga";
import { ApiError } from "../protocol/index.ts";
// The SDK's operations, hash → document, as `npm run graphql:codegen` writes them: bundled.
import manifest from "../client/graphql/generated/persisted-documents.json";

/** GRAPHQL_TRUSTED_DOCUMENTS: off, the manifest's documents beside any (allow), or only them. */
export type TrustedDocumentsMode = "off" | "allow" | "only";

/** A Map, so that a documentId such as "constructor" finds nothing of Object's. */
export const TRUSTED_DOCUMENTS = new Map<string, string>(Object.entries(manifest));

/**
 * The Yoga plugins of trusted documents (docs/graphql.md): a request names a document of the
 * manifest by `documentId` (GraphQL over HTTP's persisted documents, `sha256:<hex>`, in the body
 * or the URL) or by `extensions.persistedQuery.sha256Hash` (Apollo's APQ). `allow` runs those and
 * any document sent in full; `only` refuses a document that is not the manifest's.
 */
export function trustedDocuments(mode: TrustedDocumentsMode): Plugin[] {
  if (mode === "off") return [];
  return [
    trustedCopyFirst,
    usePersistedOperations({
      getPersistedOperation: (id) => TRUSTED_DOCUMENTS.get(id) ?? null,
      allowArbitraryOperations: mode === "allow",
      extractPersistedOperationId: documentIdOf,
      customErrors: {
        // APQ clients (Apollo's persisted query link) read this message as "send the text".
        notFound: () => new ApiError("bad_request", "PersistedQueryNotFound"),
        persistedQueryOnly: () =>
          new ApiError(
            "bad_request",
            "only trusted documents run here: send the documentId of one in the manifest",
          ),
        keyNotFound: () => new ApiError("bad_request", "send a query or a documentId"),
      },
    }),
  ];
}

/** The documentId of a request: `documentId` (body or URL), else APQ's sha256Hash. */
export function documentIdOf(params: GraphQLParams, request: Request): string | null {
  const sent =
    (params as { documentId?: unknown }).documentId ??
    (request.method === "GET" ? new URL(request.url).searchParams.get("documentId") : null);
  if (typeof sent === "string") return sent.includes(":") ? sent : `sha256:${sent}`;
  const apq = defaultExtractPersistedOperationId(params, request, {});
  return apq === null ? null : `sha256:${apq}`;
}

/**
 * A request that sends a trusted document's text and its id (what the SDK sends) runs the
 * manifest's copy: the id decides, so `only` accepts it and `allow` never runs another text
 * under a trusted id. The plugin would otherwise see the text first and, in `only`, refuse it.
 */
const trustedCopyFirst: Plugin = {
  onParams: ({ params, request, setParams }) => {
    if (params.query === undefined) return;
    const id = documentIdOf(params, request);
    if (id === null || !TRUSTED_DOCUMENTS.has(id)) return;
    const { query: _sent, ...byId } = params;
    setParams(byId);
  },
};
