import type { GraphQLError } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import type { GraphQLContext } from "./context.ts";
import { contractError, withContractCode } from "./errors.ts";
import { operationMetrics } from "./operation-metrics.ts";
import { protection } from "./protection.ts";
import { schema } from "./schema.ts";
import { trustedDocuments, type TrustedDocumentsMode } from "./trusted-documents.ts";
import { operationSpans } from "./tracing.ts";
import { errorFields, log } from "../telemetry/log.ts";

export type ServerContext = { graphql: GraphQLContext };

/**
 * The Yoga server, with or without introspection, and with trusted documents off, allowed beside
 * any, or only them (trusted-documents.ts). Its own GraphiQL (whose page loads its bundle from a
 * CDN) is off: the endpoint serves a self-hosted one from the static assets (graphiql.ts).
 */
export function createServer(introspection: boolean, trusted: TrustedDocumentsMode = "off") {
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    extraParamNames: trusted === "off" ? [] : ["documentId"],
    context: ({ graphql }) => graphql,
    graphiql: false,
    landingPage: false,
    // Contract errors are answers, not incidents: contractError logs the unexpected ones itself.
    logging: false,
    maskedErrors: {
      maskError: (error) =>
        contractError(error, (unexpected) =>
          log.error("unexpected GraphQL error", { error: errorFields(unexpected) }),
        ),
    },
    plugins: [
      ...trustedDocuments(trusted),
      ...protection(introspection),
      contractCodes,
      operationSpans,
      operationMetrics,
    ],
  });
}

/** Gives the errors raised before execution the contract's code too (errors.ts). */
const contractCodes: Plugin = {
  onResultProcess: ({ result, setResult }) => {
    if (Array.isArray(result) || !("errors" in result) || !result.errors) return;
    setResult({ ...result, errors: result.errors.map((e) => withContractCode(e as GraphQLError)) });
  },
};
