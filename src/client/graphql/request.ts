import type { DocumentTypeDecoration } from "@graphql-typed-document-node/core";
import * as z from "zod";
import { ApiError, ErrorBody, ErrorCode } from "../../protocol/index.ts";

/**
 * A typed document as the codegen writes it (src/client/graphql/generated/graphql.ts): its text,
 * the types of its result and variables, and its hash (`sha256:<hex>`) in `__meta__`.
 */
export type TypedDocument<Result, Variables> = DocumentTypeDecoration<Result, Variables> & {
  toString(): string;
  __meta__?: Record<string, unknown> | undefined;
};

/** The variables argument: optional when the operation has no required variable. */
export type VariablesOf<Variables> =
  Record<string, never> extends Variables ? [variables?: Variables] : [variables: Variables];

/** A GraphQL answer's envelope: checked, since the server is not trusted to send one. */
const Answer = z.object({
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  errors: z
    .array(
      z.object({
        message: z.string(),
        extensions: z
          .object({ code: z.string().optional(), retryAfter: z.number().optional() })
          .optional(),
      }),
    )
    .optional(),
});

/**
 * Runs a typed document at `${baseUrl}/graphql` with the bearer token and resolves with its data,
 * typed; an answer with errors throws the contract's ApiError of the first one (its
 * `extensions.code`, that code's HTTP status, `retryAfter`), as a REST call would.
 *
 * The request carries the document's text and its hash as `extensions.persistedQuery` (the shape
 * of Apollo's automatic persisted queries): a server with trusted documents off runs the text;
 * one with them on (`allow` or `only`) runs its own copy of the hash's document.
 * @example const { me } = await graphqlRequest(url, token, YourRoomsDocument, { first: 10 });
 */
export async function graphqlRequest<Result, Variables>(
  baseUrl: string,
  token: string | undefined,
  document: TypedDocument<Result, Variables>,
  ...[variables]: VariablesOf<Variables>
): Promise<Result> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl.replace(/\/+$/, "")}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document.toString(), variables, extensions: hashOf(document) }),
    credentials: "same-origin",
  });
  const json: unknown = await response.json().catch(() => undefined);
  const answer = Answer.safeParse(json);
  if (!answer.success) throw notGraphQL(json, response.status);
  const [first] = answer.data.errors ?? [];
  if (first) {
    const code = ErrorCode.catch("internal").parse(first.extensions?.code);
    throw new ApiError(code, first.message, { retryAfter: first.extensions?.retryAfter });
  }
  if (!answer.data.data) throw new ApiError("internal", "the answer had neither data nor errors");
  return answer.data.data as Result;
}

/** `extensions.persistedQuery` for a document with a sha256 hash, as APQ spells it. */
function hashOf({ __meta__: meta }: { __meta__?: Record<string, unknown> | undefined }) {
  const hash = meta?.hash;
  if (typeof hash !== "string" || !hash.startsWith("sha256:")) return undefined;
  return { persistedQuery: { version: 1, sha256Hash: hash.slice("sha256:".length) } };
}

/** A refusal before GraphQL (a body too large, a bad method) comes as the REST error body. */
function notGraphQL(json: unknown, status: number): ApiError {
  const rest = ErrorBody.safeParse(json);
  if (rest.success) return new ApiError(rest.data.error.code, rest.data.error.message, { status });
  return new ApiError("internal", `HTTP ${status}: not a GraphQL answer`, { status });
}
