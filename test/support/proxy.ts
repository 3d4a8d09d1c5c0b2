import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A TCP relay on 127.0.0.1 between clients and a server, standing in for the network: it can
 * tear connections down the way a failing network does, with both TCP sockets reset and no
 * WebSocket close frame on either side, so the client sees 1006 and the server an abnormal
 * closure.
 */
export type NetworkProxy = {
  /** http://127.0.0.1:<port>: give this to the clients instead of the server's url. */
  readonly url: string;
  /** Resets every open connection at once; returns how many were cut. */
  cut(): number;
  /** Cuts every open connection and resets new ones at once, until `restore()`. */
  outage(): number;
  restore(): void;
  /**
   * Cuts every open connection as soon as the server sends anything on one of them: that data is
   * dropped, never reaching the client. Emulates a network lost between the server doing
   * something (e.g. storing a command) and the client hearing of it (the ack). Resolves once cut;
   * rejects when the server sends nothing within `timeoutMs`.
   */
  cutOnReply(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

type Pair = { client: Socket; upstream: Socket };

/**
 * Starts a relay to `target` (http://127.0.0.1:<port>).
 * @example
 * const network = await startProxy(server.url);
 * const client = await connect(network.url, room, bob);
 * network.cut(); // the SDK sees 1006 and reconnects through the relay
 */
export async function startProxy(target: string): Promise<NetworkProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  let onReply: (() => void) | undefined;
  let down = false;

  const reset = (pair: Pair) => {
    pairs.delete(pair);
    // RST, not FIN: the connection dies as it does when a route disappears, with nothing in flight delivered.
    pair.client.resetAndDestroy();
    pair.upstream.resetAndDestroy();
  };
  const cut = () => {
    const count = pairs.size;
    for (const pair of [...pairs]) reset(pair);
    return count;
  };

  const server: Server = createServer((client) => {
    client.on("error", () => undefined);
    if (down) return client.resetAndDestroy();
    client.setNoDelay(true);
    const upstream = connect({ host: hostname, port: Number(port), noDelay: true });
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk) => {
      if (pairs.has(pair)) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!pairs.has(pair)) return;
      if (onReply) return onReply();
      client.write(chunk);
    });
    // An orderly end on one side is passed on as such: only cut() and cutOnReply() break connections.
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the proxy has no address");

  return {
    url: `http://127.0.0.1:${address.port}`,
    cut,
    outage() {
      down = true;
      return cut();
    },
    restore() {
      down = false;
    },
    cutOnReply(timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          onReply = undefined;
          reject(new Error(`the server sent nothing within ${timeoutMs} ms: nothing was cut`));
        }, timeoutMs);
        onReply = () => {
          clearTimeout(timer);
          onReply = undefined;
          cut();
          resolve();
        };
      });
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
