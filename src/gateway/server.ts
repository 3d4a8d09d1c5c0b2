import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "../rpc/gen/edgechat/v1/admin_pb.js";
import { ConverseService } from "../rpc/gen/edgechat/v1/converse_pb.js";
import { HistoryService } from "../rpc/gen/edgechat/v1/history_pb.js";
import { MemberService } from "../rpc/gen/edgechat/v1/members_pb.js";
import { MessageService } from "../rpc/gen/edgechat/v1/messages_pb.js";
import { RoomService } from "../rpc/gen/edgechat/v1/rooms_pb.js";
import { RPC_PREFIX } from "../rpc/prefix.ts";
import { converse } from "./converse.ts";
import { forwardService, type Forwarding } from "./forward.ts";
import { callMetrics, enforceDeadline, traceContext } from "../rpc/interceptors.ts";
import { CallCounts } from "./metrics.ts";
import { Upstreams } from "./upstreams.ts";
import { watchRoom } from "./watch.ts";

/** The services the worker answers, forwarded as they are. */
const FORWARDED: readonly DescService[] = [
  RoomService,
  MessageService,
  MemberService,
  AdminService,
];

export type GatewayOptions = {
  /** Worker origins (http://host:port), load-balanced round robin over the healthy ones. */
  upstreams: readonly string[];
  port?: number;
  host?: string;
  /** How often each upstream's /healthz is asked (ms). */
  healthEveryMs?: number;
  /** The services forwarded as they are (default: those of proto/edgechat/v1 the worker serves). */
  forwarded?: readonly DescService[];
};

export type Gateway = {
  url: string;
  upstreams: Upstreams;
  /** Calls per method and code so far (the observability work exports them). */
  metrics: CallCounts;
  /** Runs every health check now (the tests do; the timer does it every healthEveryMs). */
  check(): Promise<void>;
  close(): Promise<void>;
};

/**
 * The gRPC gateway (docs/rpc.md): an HTTP/2 server (cleartext h2c; put TLS in front in
 * production) answering plain gRPC, gRPC-web and Connect for every service of proto/, each call
 * forwarded over Connect to a healthy worker origin, and the bidirectional Converse that a Worker
 * cannot serve. A worker that does not answer is set aside until its health check passes.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const upstreams = new Upstreams(options.upstreams);
  const transports = new Map<string, ReturnType<typeof createConnectTransport>>();
  const forwarding: Forwarding = {
    upstreams,
    transportFor: (upstream) => {
      let transport = transports.get(upstream);
      if (!transport) {
        transport = createConnectTransport({
          baseUrl: `${upstream}${RPC_PREFIX}`,
          httpVersion: "1.1",
          useBinaryFormat: true,
        });
        transports.set(upstream, transport);
      }
      return transport;
    },
  };
  const routes = (router: ConnectRouter) => {
    for (const service of options.forwarded ?? FORWARDED)
      router.service(service, forwardService(forwarding, service) as never);
    router.service(
      HistoryService,
      forwardService(forwarding, HistoryService, { watchRoom: watchRoom(forwarding) }) as never,
    );
    router.service(ConverseService, { converse: converse(forwarding) } as never);
  };
  const metrics = new CallCounts();
  const server: Http2Server = createServer(
    connectNodeAdapter({
      routes,
      grpc: true,
      grpcWeb: true,
      connect: true,
      // The worker's own interceptors (src/rpc/interceptors.ts): calls counted per method and
      // code, the caller's trace context read (forwarded as a child span: forward.ts), deadlines
      // ended on time.
      interceptors: [callMetrics((call) => metrics.record(call)), traceContext, enforceDeadline],
    }),
  );
  await new Promise<void>((ready) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", ready),
  );
  const { port } = server.address() as AddressInfo;

  const check = async () => {
    await Promise.all(
      upstreams.all.map(async (upstream) => {
        const healthy = await fetch(`${upstream}/healthz`, {
          signal: AbortSignal.timeout(1000),
        }).then(
          (res) => res.ok,
          () => false,
        );
        if (healthy) upstreams.up(upstream);
        else upstreams.down(upstream);
      }),
    );
  };
  await check();
  const timer = setInterval(() => void check(), options.healthEveryMs ?? 2000);
  timer.unref();

  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    upstreams,
    metrics,
    check,
    close: async () => {
      clearInterval(timer);
      server.close();
      await new Promise<void>((done) => {
        if (!server.listening) return done();
        server.once("close", () => done());
        // Open HTTP/2 sessions keep a server from closing: end them.
        setTimeout(done, 2000).unref();
      });
    },
  };
}
