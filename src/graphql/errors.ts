import { GraphQLError } from "graphql";
import { ApiError, ErrorCode } from "../protocol/index.ts";

/**
 * Every error a GraphQL answer carries, as the contract names it (`extensions.code`): a refusal
 * keeps its code, message and `retryAfter` (seconds); an error of the request itself (syntax,
 * validation, a variable, an armor limit) is `bad_request`; anything else is `internal`, its
 * message and stack hidden and handed to `report` for the log.
 */
export function contractError(error: unknown, report: (error: unknown) => void): GraphQLError {
  const graphql = isGraphQLError(error) ? error : undefined;
  const original = graphql?.originalError ?? error;
  const where = { nodes: graphql?.nodes, path: graphql?.path };
  if (original instanceof ApiError) {
    const retry = original.retryAfter === undefined ? {} : { retryAfter: original.retryAfter };
    return new GraphQLError(original.message, {
      ...where,
      extensions: { code: original.code, ...retry },
    });
  }
  if (isGraphQLError(original)) {
    const extensions = { ...original.extensions, code: "bad_request" };
    return new GraphQLError(original.message, { ...where, extensions });
  }
  report(error);
  return new GraphQLError("something went wrong on our side", {
    ...where,
    extensions: { code: "internal" },
  });
}

/**
 * graphql's error from either of its builds: a plugin that loads graphql's CommonJS build throws
 * errors of another GraphQLError class than the ESM build this file imports (a syntax error from
 * graphql-armor's token counter did), so `instanceof` alone would call a bad query `internal`.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === "GraphQLError");
}

/**
 * An error Yoga raised itself before execution (a syntax or validation error, an armor limit),
 * which reaches the answer without passing through the mask and carries graphql-js's own codes:
 * it is the request's fault, so `bad_request`. Errors with a contract code are left as they are.
 */
export function withContractCode(error: GraphQLError): GraphQLError {
  if (ErrorCode.safeParse(error.extensions?.code).success) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { code: "bad_request" },
  });
}
