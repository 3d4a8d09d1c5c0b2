import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { settings, type AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { apiCors } from "../http/origin.ts";
import { LIMITS } from "../protocol/index.ts";
import { createContext } from "./context.ts";
import { graphiqlAnswer, wantsGraphiQL } from "./graphiql.ts";
import type { TrustedDocumentsMode } from "./trusted-documents.ts";
import { createServer } from "./yoga.ts";

/** The header that reports a request's storage calls, when GRAPHQL_COUNT_CALLS is on (tests). */
export const CALLS_HEADER = "x-edgechat-storage-calls";

declare module "hono" {
  interface ContextVariableMap {
    /** Set by the GraphiQL answer: its page's policy, which graphiqlPolicy sends. */
    graphiqlPolicy?: string;
  }
}

/**
 * Gives GraphiQL's page its own policy (graphiql.ts: its inline script by hash, nothing from
 * another origin); every other answer keeps the app's. Mounted before the app's secureHeaders,
 * which sets the app's policy on the way out, so that this one, set last, is the one sent.
 */
export const graphiqlPolicy = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const policy = c.get("graphiqlPolicy");
  if (policy) c.res.headers.set("content-security-policy", policy);
});

const servers = new Map<string, ReturnType<typeof createServer>>();
const serverFor = (introspection: boolean, trusted: TrustedDocumentsMode) => {
  const key = `${introspection}:${trusted}`;
  const server = servers.get(key) ?? createServer(introspection, trusted);
  servers.set(key, server);
  return server;
};

/**
 * Whether to have the runtime gzip an answer (it does, given the header and a plain body).
 * GraphQL's own media type, `application/graphql-response+json`, is on no list of types that
 * Cloudflare's edge or the local runtime compress by themselves, so those answers left
 * uncompressed (bench:graphql measured 2.3× REST's bytes for a room page). Only for clients that
 * ask for that type by name: GraphQL clients, on fetch, which decompresses. The worker cannot
 * tell whether a client takes gzip (the runtime shows it `Accept-Encoding: gzip` whatever it
 * sent), and a plain `curl` gets `application/json`, which the runtime compresses when asked.
 */
function gzipWanted(request: Request, response: Response): boolean {
  const type = response.headers.get("content-type") ?? "";
  const accept = request.headers.get("accept") ?? "";
  return type.startsWith(GRAPHQL_RESPONSE) && accept.includes(GRAPHQL_RESPONSE);
}

const GRAPHQL_RESPONSE = "application/graphql-response+json";

/** GET and POST /graphql: the schema of src/graphql/ over the same tokens and rooms as REST. */
export const graphqlEndpoint = new Hono<AppEnv>();

graphqlEndpoint.use("/graphql", apiCors);
graphqlEndpoint.use(
  "/graphql",
  bodyLimit({
    maxSize: LIMITS.frameBytes,
    onError: () => {
      throw new ApiError("too_large", `a request body is at most ${LIMITS.frameBytes} bytes`);
    },
  }),
);

graphqlEndpoint.on(["GET", "POST"], "/graphql", async (c) => {
  const config = settings(c);
  // GraphiQL needs introspection; without it a browser gets what any client gets.
  if (config.GRAPHQL_INTROSPECTION && wantsGraphiQL(c.req.raw)) {
    const { response, policy } = await graphiqlAnswer(c.env.ASSETS, c.req.raw);
    c.set("graphiqlPolicy", policy);
    return response;
  }
  const graphql = createContext(c);
  const server = serverFor(config.GRAPHQL_INTROSPECTION, config.GRAPHQL_TRUSTED_DOCUMENTS);
  const answer = await server.fetch(c.req.raw, { graphql });
  const response = new Response(answer.body, answer); // mutable headers
  if (config.GRAPHQL_COUNT_CALLS) response.headers.set(CALLS_HEADER, String(graphql.memo.count));
  if (gzipWanted(c.req.raw, response)) response.headers.set("content-encoding", "gzip");
  return response;
});
