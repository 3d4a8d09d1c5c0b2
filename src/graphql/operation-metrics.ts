import { getOperationAST, type GraphQLError } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import { countInIsolate, observeInIsolate } from "../metrics/isolate.ts";

/**
 * Counts each executed operation by type and outcome (`ok`, or the first error's contract code)
 * and times it; a subscription counts when it starts. Operations refused before execution
 * (syntax, armor, trusted documents) show in the HTTP metrics of `/graphql` instead.
 */
export const operationMetrics: Plugin = {
  onExecute({ args }) {
    const type = getOperationAST(args.document, args.operationName)?.operation ?? "unknown";
    const started = Date.now();
    return {
      onExecuteDone({ result }) {
        const errors = isAsyncIterable(result) ? undefined : result.errors;
        const code = (errors?.[0] as GraphQLError | undefined)?.extensions?.["code"];
        const outcome = !errors?.length ? "ok" : typeof code === "string" ? code : "error";
        countInIsolate("graphql_operations_total", { type, outcome });
        observeInIsolate(
          "graphql_operation_duration_seconds",
          { type },
          (Date.now() - started) / 1000,
        );
      },
    };
  },
};
