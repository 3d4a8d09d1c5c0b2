import { getOperationAST, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { GraphQLContext } from "./context.ts";
import { SpanKind, SpanStatusCode, startSpan } from "../telemetry/tracing.ts";

/**
 * A span per executed operation (a query or a mutation), a child of the request's SERVER span,
 * named `type name` with the GraphQL semantic conventions' attributes; the room calls its
 * resolvers make hang under it (context.ts's `trace`). Subscriptions are not traced here: they
 * live for the length of a stream (docs/observability.md, "What is not traced").
 */
export const operationSpans: Plugin<GraphQLContext> = {
  onExecute({ args }) {
    const context = args.contextValue;
    const parent = context.trace.scope;
    if (!parent) return undefined;
    const operation = getOperationAST(args.document, args.operationName);
    const type = operation?.operation ?? "query";
    const name = operation?.name?.value;
    const { span, scope } = startSpan(parent, name ? `${type} ${name}` : type, {
      kind: SpanKind.INTERNAL,
      attributes: {
        "graphql.operation.type": type,
        ...(name && { "graphql.operation.name": name }),
      },
    });
    context.trace.scope = scope;
    return {
      onExecuteDone({ result }) {
        const first = (result as ExecutionResult).errors?.[0];
        const code = first?.extensions?.["code"];
        span.setAttribute("edgechat.graphql.outcome", first ? String(code ?? "error") : "ok");
        if (code === "internal") span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        context.trace.scope = parent;
      },
    };
  },
};
