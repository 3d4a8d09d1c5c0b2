import type * as z from "zod";
import { parseOr400 } from "../http/openapi.ts";

/**
 * GraphQL arguments through REST's own query schemas: those read strings (query parameters), so
 * numbers are handed over as their decimal text and the same rules give the same messages.
 */
export function asQuery<S extends z.ZodType>(
  schema: S,
  args: Record<string, string | number | null | undefined>,
): z.infer<S> {
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(args))
    if (value !== null && value !== undefined) query[key] = String(value);
  return parseOr400(schema, query);
}

/** Drops null arguments (GraphQL's "not given") so that zod sees them as absent. */
export function given<T extends Record<string, unknown>>(
  args: T,
): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}
