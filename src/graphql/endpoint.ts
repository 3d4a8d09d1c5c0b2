import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { settings, type AppEnv } from "../http/app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { apiCors } from "../http/origin.ts";
import { LIMITS } from "../protocol/index.ts";
import { createContext } from "./context.ts";
import { createServer } from "./yoga.ts";

/** The header that reports a request's storage calls, when GRAPHQL_COUNT_CALLS is on (tests). */
export const CALLS_HEADER = "x-edgechat-storage-calls";

// GraphiQL's page loads its bundle from unpkg and starts inline scripts and blob workers: it
// gets its own policy; the JSON answers keep the app's.
const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' https://unpkg.com",
  "style-src 'self' 'unsafe-inline' https://unpkg.com",
  "font-src 'self' data: https://unpkg.com",
  "img-src 'self' data: https://unpkg.com",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Gives GraphiQL's page its policy. Mounted before the app's secureHeaders, which sets its own
 * policy on the way out, so that this one, set last, is the one sent.
 */
export const graphiqlPolicy = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.headers.get("content-type")?.startsWith("text/html"))
    c.res.headers.set("content-security-policy", GRAPHIQL_CSP);
});

const servers = new Map<boolean, ReturnType<typeof createServer>>();
const serverFor = (introspection: boolean) => {
  const server = servers.get(introspection) ?? createServer(introspection);
  servers.set(introspection, server);
  return server;
};

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
  const graphql = createContext(c);
  const answer = await serverFor(config.GRAPHQL_INTROSPECTION).fetch(c.req.raw, { graphql });
  const response = new Response(answer.body, answer); // mutable headers
  if (config.GRAPHQL_COUNT_CALLS) response.headers.set(CALLS_HEADER, String(graphql.memo.count));
  return response;
});
