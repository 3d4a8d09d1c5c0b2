import { envelop, useEngine, useSchema } from "@envelop/core";
import {
  execute,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type OperationDefinitionNode,
} from "graphql";
import type { SubscribePayload } from "graphql-ws";
import * as z from "zod";
import { parseConfig } from "../config.ts";
import { tokenCheck } from "../http/authenticate.ts";
import { actorFromToken } from "../identity/verify-actor.ts";
import type { RoomEvent } from "../protocol/index.ts";
import type { LiveEngine } from "../room/graphql-sockets.ts";
import { contractError, withContractCode } from "./errors.ts";
import { protection } from "./protection.ts";
import { EVERY_FIELD } from "../http/room-stream.ts";
import { TRUSTED_DOCUMENTS, type TrustedDocumentsMode } from "./trusted-documents.ts";
import { schema } from "./schema.ts";
import { errorFields, log } from "../telemetry/log.ts";

/** A subscription ready to run for every event: checked once, kept per socket group. */
type Prepared = {
  document: DocumentNode;
  operationName: string | undefined;
  variableValues: Record<string, unknown>;
};

/** Prepared subscriptions kept per key; a room rarely has more than a handful of distinct ones. */
const CACHED_SUBSCRIPTIONS = 64;

/**
 * GraphQL for a room's sockets (src/room/graphql-sockets.ts): a subscription is parsed and
 * validated with the same armor as POST /graphql, must be `roomEvents` of the socket's room, and
 * runs once per event with the event as its root value: graphql-js's "execute subscription
 * event", without the long-lived iterator that hibernation would drop.
 */
export function liveEngine(env: Env): LiveEngine {
  const parsed = parseConfig(env);
  const introspection = parsed.ok ? parsed.config.GRAPHQL_INTROSPECTION : false;
  // A configuration that does not parse signs no one in (verify below), whatever these say.
  const trusted = parsed.ok ? parsed.config.GRAPHQL_TRUSTED_DOCUMENTS : "off";
  const getEnveloped = envelop({
    plugins: [
      useEngine({ parse, validate, execute, specifiedRules }),
      useSchema(schema),
      ...protection(introspection),
    ],
  });
  const prepared = new Map<string, Prepared>();
  const sinceNames = new Map<string, string | undefined>();

  /** What makes two subscriptions' results equal (see sinceVariable), from a cache of parses. */
  const keyOf = (payload: SubscribePayload) => {
    const operation = JSON.stringify([payload.query, payload.operationName ?? null]);
    if (!sinceNames.has(operation)) remember(sinceNames, operation, sinceVariable(payload));
    const { [sinceNames.get(operation) ?? ""]: _, ...variables } = payload.variables ?? {};
    return JSON.stringify([operation, variables]);
  };

  return {
    prepare(sent, room) {
      const query = trustedQuery(trusted, sent);
      if (!query.ok) return { ok: false, errors: [formatted(query.error)] };
      const payload = { ...sent, query: query.value };
      const checked = check(getEnveloped(), payload, room);
      if (!checked.ok) return { ok: false, errors: checked.errors.map(formatted) };
      remember(prepared, keyOf(payload), checked.prepared);
      return { ok: true, since: checked.since, query: query.value };
    },
    keyOf,
    render(payload, key, event) {
      let entry = prepared.get(key);
      if (!entry) {
        // After hibernation: the socket's attachment kept the payload, not the parsed document.
        const again = check(getEnveloped(), payload, undefined);
        if (!again.ok) return JSON.stringify({ errors: again.errors.map(formatted) });
        entry = again.prepared;
        remember(prepared, key, entry);
      }
      return JSON.stringify(run(entry, event));
    },
    async verify(token) {
      if (!parsed.ok)
        return { ok: false, error: { code: "internal", message: "the server is not configured" } };
      // The worker's own check: the same secret, admins, sessions and service keys.
      return actorFromToken(token, tokenCheck(env, parsed.config));
    },
  };
}

/**
 * The document a subscription runs, under GRAPHQL_TRUSTED_DOCUMENTS as at POST /graphql: named by
 * `extensions.persistedQuery.sha256Hash` (the manifest's copy runs), or sent in full (`only`
 * takes it if it is one of the manifest's, or the worker's own for SSE).
 */
function trustedQuery(
  mode: TrustedDocumentsMode,
  payload: SubscribePayload,
): { ok: true; value: string } | { ok: false; error: GraphQLError } {
  const hash = PersistedQuery.safeParse(payload.extensions).data?.persistedQuery.sha256Hash;
  if (mode !== "off" && hash !== undefined) {
    const known = TRUSTED_DOCUMENTS.get(`sha256:${hash}`);
    return known === undefined ? refused("PersistedQueryNotFound") : { ok: true, value: known };
  }
  if (mode !== "only" || TRUSTED_TEXTS.has(payload.query))
    return { ok: true, value: payload.query };
  return refused("only trusted documents run here: send the sha256Hash of one in the manifest");
}

const PersistedQuery = z.object({ persistedQuery: z.object({ sha256Hash: z.string() }) });
const TRUSTED_TEXTS = new Set([...TRUSTED_DOCUMENTS.values(), EVERY_FIELD]);
const refused = (message: string) =>
  ({
    ok: false,
    error: new GraphQLError(message, { extensions: { code: "bad_request" } }),
  }) as const;

type Checked =
  | { ok: true; since: number | undefined; prepared: Prepared }
  | { ok: false; errors: readonly GraphQLError[] };

/** Parses and validates a subscription for `room` (any room when undefined: already checked). */
function check(
  engine: ReturnType<ReturnType<typeof envelop>>,
  payload: SubscribePayload,
  room: string | undefined,
): Checked {
  let document: DocumentNode;
  try {
    document = engine.parse(payload.query);
  } catch (error) {
    return { ok: false, errors: [asGraphQLError(error)] };
  }
  const invalid = engine.validate(engine.schema, document);
  if (invalid.length > 0) return { ok: false, errors: invalid };
  const operationName = payload.operationName ?? undefined;
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== "subscription")
    return refuse("this socket serves subscriptions: queries and mutations go to POST /graphql");
  const variables = getVariableValues(
    schema,
    operation.variableDefinitions ?? [],
    payload.variables ?? {},
  );
  if (variables.errors) return { ok: false, errors: variables.errors };
  const field = rootField(operation);
  if (!field) return refuse("write roomEvents as the subscription's one field, outside fragments");
  const args = getArgumentValues(
    schema.getSubscriptionType()!.getFields()[field.name.value]!,
    field,
    variables.coerced,
  ) as { room: string; since?: number | null };
  if (room !== undefined && args.room !== room)
    return refuse(
      `this socket serves room "${room}": subscribe to "${args.room}" on its own socket`,
    );
  const since = args.since ?? undefined;
  if (since !== undefined && since < 0) return refuse("since: expected a non-negative integer");
  return {
    ok: true,
    since,
    prepared: { document, operationName, variableValues: variables.coerced },
  };
}

/** The subscription's root field, when it is written plainly (not through a fragment). */
function rootField(operation: OperationDefinitionNode): FieldNode | undefined {
  const [first] = operation.selectionSet.selections;
  return first?.kind === Kind.FIELD && operation.selectionSet.selections.length === 1
    ? first
    : undefined;
}

/**
 * The variable that only says where a subscription resumes (`since: $name`), which its results
 * do not depend on: left out of its key, so that clients resuming from different seqs still share
 * one rendering per event. Undefined when `since` is written inline or not at all.
 */
function sinceVariable(payload: SubscribePayload): string | undefined {
  try {
    const operation = getOperationAST(parse(payload.query), payload.operationName ?? undefined);
    const field = operation && rootField(operation);
    const since = field?.arguments?.find((argument) => argument.name.value === "since")?.value;
    return since?.kind === Kind.VARIABLE ? since.name.value : undefined;
  } catch {
    return undefined; // not a document: it fails prepare on its own
  }
}

function run(entry: Prepared, event: RoomEvent): ExecutionResult {
  const result = execute({ schema, rootValue: event, contextValue: {}, ...entry });
  // Every field of an event resolves from the event itself, synchronously; a resolver that
  // awaits would break the room's one-turn delivery, so it is an internal error, not a wait.
  if (result instanceof Promise)
    return {
      errors: [formatted(new GraphQLError("a subscription field resolved asynchronously"))],
    };
  return result.errors ? { ...result, errors: result.errors.map(formatted) } : result;
}

function remember<T>(cache: Map<string, T>, key: string, entry: T): void {
  cache.delete(key);
  cache.set(key, entry);
  if (cache.size > CACHED_SUBSCRIPTIONS) cache.delete(cache.keys().next().value!);
}

const refuse = (message: string): Checked => ({
  ok: false,
  errors: [new GraphQLError(message, { extensions: { code: "bad_request" } })],
});

// Armor's token counter throws graphql's CommonJS GraphQLError (errors.ts): keep its message.
const asGraphQLError = (error: unknown) =>
  error instanceof GraphQLError
    ? error
    : new GraphQLError(error instanceof Error ? error.message : String(error));

/** Errors as POST /graphql answers them: the contract's code in `extensions.code`. */
function formatted(error: GraphQLError): GraphQLError {
  return withContractCode(
    contractError(error, (unexpected) =>
      log.error("unexpected GraphQL subscription error", { error: errorFields(unexpected) }),
    ),
  );
}
