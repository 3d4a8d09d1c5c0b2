import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import type { Plugin } from "@envelop/core";
import { NoSchemaIntrospectionCustomRule } from "graphql";

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

/**
 * What every document passes before it runs, over HTTP and on a room's GraphQL socket alike:
 * the armor's limits, and with introspection off its rule and no "did you mean" suggestions
 * (which would reveal the schema that introspection hides).
 */
export function protection(introspection: boolean): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: LIMITS.maxDepth },
    maxAliases: { n: LIMITS.maxAliases },
    maxTokens: { n: LIMITS.maxTokens },
    costLimit: { maxCost: LIMITS.maxCost },
    maxDirectives: { n: LIMITS.maxDirectives },
    blockFieldSuggestion: { enabled: !introspection },
  });
  return introspection ? [armor] : [armor, withoutIntrospection];
}

const withoutIntrospection: Plugin = {
  onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
};
