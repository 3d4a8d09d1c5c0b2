import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { TEST_SECRET } from "./secret.ts";

export type TestServer = {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Where the Durable Objects keep their SQLite files; survives `restart()`. */
  readonly persistDir: string;
  /** Stops the runtime and starts it again on the same port and storage. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
};

/** A port nobody listens on right now, picked by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Starts the real worker (workerd through wrangler) on a free local port with fresh storage;
 * `vars` sets configuration (e.g. ADMIN_USERNAMES, AUTH_WINDOW_SECONDS) beside the test secret.
 * @example
 * const server = await startServer();
 * const api = new EdgechatApi(server.url);
 * await server.dispose();
 */
export async function startServer(
  options: { port?: number; persistDir?: string; vars?: Record<string, string> } = {},
): Promise<TestServer> {
  const port = options.port ?? (await freePort());
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "edgechat-"));
  const ownsDir = options.persistDir === undefined;
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const boot = async () => {
    const worker = await unstable_startWorker({
      config: "wrangler.toml",
      bindings: Object.fromEntries(
        Object.entries({ JWT_SECRET: TEST_SECRET, ...options.vars }).map(([name, value]) => [
          name,
          { type: "plain_text" as const, value },
        ]),
      ),
      dev: {
        server: { hostname: "127.0.0.1", port },
        inspector: false,
        persist: persistDir,
        watch: false,
        logLevel: "error",
      },
    });
    await worker.ready;
    return worker;
  };
  let worker = await boot();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    persistDir,
    async restart() {
      await worker.dispose();
      worker = await boot();
    },
    async dispose() {
      await worker.dispose();
      if (ownsDir) rmSync(persistDir, { recursive: true, force: true });
    },
  };
}
