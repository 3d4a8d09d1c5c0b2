/**
 * The benchmark's webhook receiver: a `node:http` server of the bench's own process on
 * 127.0.0.1, keep-alive, that answers `200 ok` to every request as soon as its body is in and
 * notes when it arrived (the request's headers, before the body is read), on which path (one
 * path per endpoint), and the room, seq and `webhook-id` the body carries. It verifies nothing:
 * test/e2e/webhooks.test.ts checks the signatures and bodies with the spec's library.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { now } from "../util.ts";

export type Arrival = {
  /** The endpoint's path: one per webhook (`/w/<room>/<k>`). */
  path: string;
  room: string;
  seq: number;
  webhookId: string;
  /** When the request's headers arrived (bench/util.ts `now()`, ms). */
  at: number;
  /** The event's `at`: when the room committed it (its clock, Date.now()). */
  committedAt: number;
};

export type DeliveryReceiver = {
  readonly url: (path: string) => string;
  /** Every request, in arrival order; `forget()` empties it between runs. */
  readonly arrivals: Arrival[];
  /** Requests whose body was not a webhook payload (there should be none). */
  readonly unreadable: () => number;
  forget(): void;
  close(): Promise<void>;
};

type Payload = { data?: { room?: unknown; event?: { seq?: unknown; at?: unknown } } };

export async function startDeliveryReceiver(): Promise<DeliveryReceiver> {
  const arrivals: Arrival[] = [];
  let unreadable = 0;
  const server: Server = createServer((req, res) => {
    const at = now();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      try {
        const payload = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Payload;
        const room = payload.data?.room;
        const seq = payload.data?.event?.seq;
        const committedAt = payload.data?.event?.at;
        if (typeof room !== "string" || typeof seq !== "number" || typeof committedAt !== "number")
          throw new Error("not a payload");
        const webhookId = String(req.headers["webhook-id"] ?? "");
        arrivals.push({ path: req.url ?? "/", room, seq, webhookId, at, committedAt });
      } catch {
        unreadable += 1;
      }
    });
  });
  // Workerd keeps its connections to an origin open between deliveries; so does this end.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    arrivals,
    unreadable: () => unreadable,
    forget: () => {
      arrivals.length = 0;
      unreadable = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
