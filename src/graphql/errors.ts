import { GraphQLError } from "graphql";
import { ApiError } from "../protocol/index.ts";

/**
 * Every error a GraphQL answer carries, as the contract names it (`extensions.code`): a refusal
 * keeps its code, message and `retryAfter` (seconds); an error of the request itself (syntax,
 * validation, a variable, an armor limit) is `bad_request`; anything else is `internal`, its
 * message and stack hidden and handed to `report` for the log.
 */
export function contractError(error: unknown, report: (error: unknown) => void): GraphQLError {
  const graphql = error instanceof GraphQLError ? error : undefined;
  const original = graphql?.originalError ?? error;
  const where = { nodes: graphql?.nodes, path: graphql?.path };
  if (original instanceof ApiError) {
    const retry = original.retryAfter === undefined ? {} : { retryAfter: original.retryAfter };
    return new GraphQLError(original.message, {
      ...where,
      extensions: { code: original.code, ...retry },
    });
  }
  if (original instanceof GraphQLError) {
    const extensions = { ...original.extensions, code: "bad_request" };
    return new GraphQLError(original.message, { ...where, extensions });
  }
  report(error);
  return new GraphQLError("something went wrong on our side", {
    ...where,
    extensions: { code: "internal" },
  });
}
