/**
 * `npm run grpc-gateway`: the gRPC gateway (src/gateway/, docs/rpc.md) in front of one or more
 * worker origins. GATEWAY_UPSTREAMS (comma-separated, default http://127.0.0.1:8787, the
 * `npm run dev` worker), GATEWAY_PORT (default 50051), GATEWAY_HOST (default 127.0.0.1).
 */
import { startGateway } from "../src/gateway/server.ts";

const upstreams = (process.env.GATEWAY_UPSTREAMS ?? "http://127.0.0.1:8787")
  .split(",")
  .map((url) => url.trim())
  .filter(Boolean);
const port = Number(process.env.GATEWAY_PORT ?? 50051);
const host = process.env.GATEWAY_HOST ?? "127.0.0.1";

const gateway = await startGateway({ upstreams, port, host });
console.log(
  `grpc gateway: ${gateway.url} (h2c: gRPC, gRPC-web, Connect) → ${upstreams.join(", ")}` +
    ` (healthy now: ${gateway.upstreams.healthy().join(", ") || "none"})`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void gateway.close().then(() => process.exit(0)));
