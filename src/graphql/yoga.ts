import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { NoSchemaIntrospectionCustomRule, type GraphQLError } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import type { GraphQLContext } from "./context.ts";
import { contractError, withContractCode } from "./errors.ts";
import { schema } from "./schema.ts";

/**
 * The armor's limits (docs/graphql.md, "Limits"). The deepest useful query, a room's messages
 * with their reactions' members, is 7 deep; the issue's "one query" is about 120 tokens and has
 * no alias. Each limit leaves room for real clients and refuses what only an attack needs.
 */
export const LIMITS = {
  maxDepth: 10,
  maxAliases: 15,
  maxTokens: 1000,
  // armor's cost grows with depth (objects 2, scalars 1, ×1.5 a level), not with `first`: the
  // issue's one query costs about 11,000; 20,000 is that twice over, less than a third of the
  // cost of the widest query 1000 tokens can write.
  maxCost: 20000,
  maxDirectives: 10,
} as const;

export type ServerContext = { graphql: GraphQLContext };

/** The Yoga server, with or without introspection (and GraphiQL, which needs it). */
export function createServer(introspection: boolean) {
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    context: ({ graphql }) => graphql,
    graphiql: introspection ? { title: "edgechat GraphQL" } : false,
    landingPage: false,
    // Contract errors are answers, not incidents: contractError logs the unexpected ones itself.
    logging: false,
    maskedErrors: {
      maskError: (error) =>
        contractError(error, (unexpected) =>
          console.error("edgechat: unexpected GraphQL error", unexpected),
        ),
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: LIMITS.maxDepth },
        maxAliases: { n: LIMITS.maxAliases },
        maxTokens: { n: LIMITS.maxTokens },
        costLimit: { maxCost: LIMITS.maxCost },
        maxDirectives: { n: LIMITS.maxDirectives },
        // Suggestions ("did you mean …") would reveal the schema that introspection hides.
        blockFieldSuggestion: { enabled: !introspection },
      }),
      ...(introspection ? [] : [withoutIntrospection]),
      contractCodes,
    ],
  });
}

const withoutIntrospection: Plugin = {
  onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
};

/** Gives the errors raised before execution the contract's code too (errors.ts). */
const contractCodes: Plugin = {
  onResultProcess: ({ result, setResult }) => {
    if (Array.isArray(result) || !("errors" in result) || !result.errors) return;
    setResult({ ...result, errors: result.errors.map((e) => withContractCode(e as GraphQLError)) });
  },
};
