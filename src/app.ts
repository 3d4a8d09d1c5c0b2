import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./http/app-env.ts";
import { ApiError, errorResponse, idsOf, renderError } from "./http/api-error.ts";
import { docsPage } from "./http/docs-page.ts";
import { LIMITS } from "./protocol/index.ts";
import { apiCors } from "./http/origin.ts";
import { admin } from "./routes/admin.ts";
import { auth } from "./routes/auth.ts";
import { bots } from "./routes/bots.ts";
import { commands } from "./routes/commands.ts";
import { health } from "./routes/health.ts";
import { metrics } from "./routes/metrics.ts";
import { requestMetrics } from "./http/request-metrics.ts";
import { members } from "./routes/members.ts";
import { reads } from "./routes/reads.ts";
import { roomSocket } from "./routes/room-socket.ts";
import { rooms } from "./routes/rooms.ts";
import { roomWebhooks } from "./routes/webhooks.ts";
import { rules } from "./routes/rules.ts";
import { slash } from "./routes/slash.ts";
import { isPluginInstall, plugins } from "./routes/plugins.ts";
import { reminders } from "./routes/reminders.ts";
import { isUploadPart, uploads } from "./routes/uploads.ts";
import { attachmentPolicy, attachments, ATTACHMENTS_PATH } from "./routes/attachments.ts";
import { incomingWebhooks } from "./routes/incoming-webhooks.ts";
import { SLACK_EVENTS_PATH, slackEvents } from "./routes/slack.ts";
import { graphiqlPolicy, graphqlEndpoint } from "./graphql/endpoint.ts";
import { isGraphiQLFile } from "./graphql/graphiql.ts";
import { echoRoutes, servesEcho } from "./rpc/echo.ts";
import { routes as rpcRoutes } from "./rpc/services/index.ts";
import { mountRpc } from "./rpc/transport.ts";
import { requestTelemetry } from "./telemetry/middleware.ts";

const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: {
    title: "edgechat",
    version: "1",
    description:
      'Realtime chat on Cloudflare Workers. Every non-2xx body is {"error": {"code", "message", "requestId", "traceId"}}: the ids lead to the logs and the trace (docs/observability.md).',
  },
};

/** The worker's Hono app: small routers mounted on one root with shared middleware. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use(requestTelemetry);
  app.use(requestMetrics);
  app.use("/graphql", graphiqlPolicy);
  app.use(ATTACHMENTS_PATH, attachmentPolicy);
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        // blob: for attachments, fetched with the token into blob URLs (docs/attachments.md).
        imgSrc: ["'self'", "data:", "blob:"],
        mediaSrc: ["'self'", "blob:"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      strictTransportSecurity: "max-age=63072000; includeSubDomains",
      referrerPolicy: "no-referrer",
    }),
  );
  const apiBodyLimit = bodyLimit({
    maxSize: LIMITS.frameBytes,
    onError: () => {
      throw new ApiError("too_large", `a request body is at most ${LIMITS.frameBytes} bytes`);
    },
  });
  // Slack's events have a limit of their own (an edit carries the message twice): routes/slack.ts;
  // so have plugin installs (a module of up to 1 MiB): routes/plugins.ts; and an upload's parts
  // (5 MiB, checked from Content-Length before they are read): routes/uploads.ts.
  app.use("/api/*", (c, next) =>
    c.req.path === SLACK_EVENTS_PATH ||
    isPluginInstall(c.req.method, c.req.path) ||
    isUploadPart(c.req.method, c.req.path)
      ? next()
      : apiBodyLimit(c, next),
  );
  app.use("/api/*", apiCors);
  app.route("/", health);
  app.route("/", metrics);
  app.route("/", auth);
  app.route("/", rooms);
  app.route("/", members);
  app.route("/", commands);
  app.route("/", reads);
  app.route("/", roomWebhooks);
  app.route("/", rules);
  app.route("/", slash);
  app.route("/", reminders);
  app.route("/", uploads);
  app.route("/", attachments);
  app.route("/", incomingWebhooks);
  app.route("/", slackEvents);
  app.route("/", admin);
  app.route("/", plugins);
  app.route("/", bots);
  app.route("/", roomSocket);
  app.route("/", graphqlEndpoint);
  mountRpc(app, { routes: (router) => echoRoutes(rpcRoutes(router)), served: servesEcho });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "An access token (a JWT from /api/auth), or a service account's API key, `ecsk_<id>_<secret>` (docs/service-keys.md).",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "metricsToken", {
    type: "http",
    scheme: "bearer",
    description: "The scrape token configured as METRICS_TOKEN (docs/observability.md).",
  });
  app.doc31("/api/openapi.json", OPENAPI_INFO);
  app.get("/api/docs", (c) => c.html(docsPage(app.getOpenAPI31Document(OPENAPI_INFO))));

  app.all("/api/*", () => {
    throw new ApiError("not_found", "no such endpoint");
  });
  // Everything else is the browser UI, from Workers static assets (with the headers above).
  app.get("*", async (c) => {
    if (isGraphiQLFile(c.req.path)) throw new ApiError("not_found", "not found");
    const asset = await c.env.ASSETS.fetch(c.req.raw);
    return new Response(asset.body, asset); // a mutable copy, so the middleware can add headers
  });
  app.notFound((c) => errorResponse(new ApiError("not_found", "not found"), idsOf(c)));
  app.onError(renderError);
  return app;
}
