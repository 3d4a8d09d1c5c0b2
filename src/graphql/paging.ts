import { ApiError } from "../protocol/index.ts";

/** A connection's page as Relay spells it. */
export type Connection<T> = {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
};

export type ConnectionArgs = {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
};

/**
 * The forward page a connection's arguments ask for. The REST API pages one way only (messages
 * newest first, events oldest first, the directory in its walk), so `last`/`before` are refused
 * rather than answered by a second, untested path.
 */
export function forwardPage(args: ConnectionArgs): { first?: number; after?: string } {
  if (args.last != null || args.before != null)
    throw new ApiError("bad_request", "this connection pages forward only: use first and after");
  return {
    ...(args.first != null ? { first: args.first } : {}),
    ...(args.after != null ? { after: args.after } : {}),
  };
}

/** A cursor that is a seq or a message id: its decimal digits, as REST takes them. */
export const seqCursor = (seq: number): string => String(seq);

/** Builds the connection of `nodes`, each with its cursor; `hasNextPage` is the source's word. */
export function connectionOf<T>(
  nodes: readonly T[],
  cursorOf: (node: T, index: number) => string,
  hasNextPage: boolean,
): Connection<T> {
  const edges = nodes.map((node, index) => ({ cursor: cursorOf(node, index), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage,
      // Forward paging only: whether anything lies before `after` is not asked of the room.
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
