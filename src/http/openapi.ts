import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type * as z from "zod";
import type { AppEnv } from "./app-env.ts";
import {
  ERROR_STATUS,
  ErrorBody,
  type ErrorCode,
  type Refusal,
  type Result,
} from "../protocol/index.ts";
import { ApiError } from "./api-error.ts";

/** A router whose zod validation failures become the contract's 400 `bad_request`. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      throw new ApiError("bad_request", problemOf(result.error.issues));
    },
  });
}

/** The message of a 400 for zod's issues: the first one, with where it is. */
export function problemOf(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue?.message ?? "invalid input"}`;
}

/** `value` parsed by `schema`, or the contract's `bad_request` with the same message as a route's. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ApiError("bad_request", problemOf(parsed.error.issues));
}

/**
 * Arguments of GraphQL or RPC through REST's own query schemas: those read strings (query parameters), so
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

export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

/** A required JSON request body validated by `schema`. */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

/** The documented error responses of a route, all with the one error body. */
export function errors(...codes: ErrorCode[]): RouteConfig["responses"] {
  // Codes that share a status (forbidden and quota: 403) share its entry.
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, shared]) => [status, json(ErrorBody, shared.join(" or "))]),
  );
}

export const bearer = [{ bearer: [] }];

/** The value of a Durable Object's result, or its refusal thrown as the contract's error. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw ApiError.from(result.error satisfies Refusal);
}
