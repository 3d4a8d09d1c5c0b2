/**
 * Where the services live: `/rpc/<package>.<Service>/<Method>`. One prefix keeps the RPC apart
 * from the UI's assets (the worker's catch-all) and from /api, whose middleware answers in REST's
 * error body, and gives CORS, limits and edge rules one path to match. Connect and gRPC-web
 * clients take it as part of their base URL; plain gRPC clients cannot, but reach the services
 * through the gateway, which adds it.
 */
export const RPC_PREFIX = "/rpc";
