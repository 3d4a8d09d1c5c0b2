import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { LIFTED_LIMITS } from "./limits.ts";
import { TEST_SECRET } from "./secret.ts";

export type TestServer = {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Where the Durable Objects keep their SQLite files; survives `restart()`. */
  readonly persistDir: string;
  /**
   * Stops the whole dev server, wrangler's proxy and the runtime (miniflare ends each workerd
   * with SIGKILL), and starts a new one on the same port and storage: what clients see of a
   * deploy or of `wrangler dev` restarted, every socket lost at once. Unlike `crash()`, it happens
   * when the caller chooses to await it, not under traffic. `whileStopped` runs in between, with
   * nothing holding the storage (to alter it on disk, as an attacker with the disk would).
   */
  restart(whileStopped?: () => Promise<void> | void): Promise<void>;
  /** The pid of the workerd process that runs the worker and its Durable Objects (Linux: /proc). */
  readonly runtimePid: number;
  /**
   * Kills that workerd with SIGKILL at once (synchronously, so it can land between two frames),
   * as a crash would, while wrangler's proxy in front of it stays up; miniflare notices and
   * starts the runtime again on the same ports and storage. Resolves when the new runtime is
   * answering; fails loudly if it is not back within `timeoutMs`.
   */
  crash(timeoutMs?: number): Promise<void>;
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

// ---------------------------------------------------------------- runtime processes (/proc)

/** workerd processes started by servers of this process, so two servers never claim one. */
const claimed = new Set<number>();

/** The live (not zombie) workerd children of this process, with their command lines. */
function workerdChildren(): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name: state, ppid, ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) !== process.pid || state === "Z") continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.includes("workerd")) found.push({ pid: Number(entry), cmd });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** The Node side of miniflare that a runtime reports to; a restarted runtime keeps it. */
const loopbackOf = (cmd: string) => /--external-addr=loopback=(\S+)/.exec(cmd)?.[1];

/**
 * Waits (bounded) until the worker answers at `url` and a workerd child matching `which` runs;
 * claims it and the proxy in front of it. wrangler starts two: its proxy, listening on the
 * public port, and behind it the runtime of the worker itself, which starts only once the proxy
 * is ready.
 */
async function findRuntime(
  url: string,
  which: (child: { pid: number; cmd: string }) => boolean,
  timeoutMs = 30_000,
): Promise<{ pid: number; loopback: string | undefined; proxies: number[] }> {
  const deadline = Date.now() + timeoutMs;
  const publicEntry = `entry=127.0.0.1:${new URL(url).port} `;
  for (;;) {
    // A request through the proxy waits for the runtime behind it.
    const healthy = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    const children = workerdChildren().filter((child) => !claimed.has(child.pid));
    const proxies = children.filter(({ cmd }) => cmd.includes(publicEntry)).map((c) => c.pid);
    const runtime = children.find((child) => !child.cmd.includes(publicEntry) && which(child));
    if (healthy && runtime) {
      for (const pid of [runtime.pid, ...proxies]) claimed.add(pid);
      return { pid: runtime.pid, loopback: loopbackOf(runtime.cmd), proxies };
    }
    if (Date.now() > deadline)
      throw new Error(`no workerd runtime answering at ${url} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const alive = (pid: number) => workerdChildren().some((child) => child.pid === pid);

/**
 * Starts the real worker (workerd through wrangler) on a free local port with fresh storage;
 * `vars` sets configuration (e.g. ADMIN_USERNAMES, AUTH_WINDOW_SECONDS) beside the test secret,
 * over the abuse limits, which are lifted (LIFTED_LIMITS) unless a test sets them.
 * @example
 * const server = await startServer();
 * const api = new EdgechatApi(server.url);
 * await server.dispose();
 */
export async function startServer(
  options: {
    port?: number;
    persistDir?: string;
    vars?: Record<string, string>;
    /** "log" passes the worker's console output on to this process's console (logs.test.ts). */
    logLevel?: "error" | "log";
  } = {},
): Promise<TestServer> {
  const port = options.port ?? (await freePort());
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "edgechat-"));
  const ownsDir = options.persistDir === undefined;
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const boot = async () => {
    const worker = await unstable_startWorker({
      config: "wrangler.toml",
      bindings: Object.fromEntries(
        Object.entries({ JWT_SECRET: TEST_SECRET, ...LIFTED_LIMITS, ...options.vars }).map(
          ([name, value]) => [name, { type: "plain_text" as const, value }],
        ),
      ),
      dev: {
        server: { hostname: "127.0.0.1", port },
        inspector: false,
        persist: persistDir,
        watch: false,
        logLevel: options.logLevel ?? "error",
      },
    });
    await worker.ready;
    return worker;
  };
  const url = `http://127.0.0.1:${port}`;
  // Without /proc (not Linux) the server runs all the same; only crash() cannot.
  const locate = () => (existsSync("/proc/self") ? findRuntime(url, () => true) : undefined);
  const release = () => {
    for (const pid of [runtime?.pid, ...(runtime?.proxies ?? [])]) if (pid) claimed.delete(pid);
  };
  let worker = await boot();
  let runtime = await locate();
  const current = () => {
    if (!runtime) throw new Error("finding the workerd process needs /proc (Linux)");
    return runtime;
  };
  return {
    url,
    port,
    persistDir,
    get runtimePid() {
      return current().pid;
    },
    async restart(whileStopped) {
      await worker.dispose();
      release();
      await whileStopped?.();
      worker = await boot();
      runtime = await locate();
    },
    crash(timeoutMs = 30_000) {
      const killed = current();
      process.kill(killed.pid, "SIGKILL");
      return (async () => {
        const deadline = Date.now() + timeoutMs;
        while (alive(killed.pid)) {
          if (Date.now() > deadline) throw new Error(`workerd ${killed.pid} survived SIGKILL`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        claimed.delete(killed.pid);
        // miniflare starts the new runtime for the same Node side, on the same ports.
        const restarted = await findRuntime(
          url,
          ({ pid, cmd }) => pid !== killed.pid && loopbackOf(cmd) === killed.loopback,
          Math.max(1, deadline - Date.now()),
        );
        runtime = { ...restarted, proxies: killed.proxies };
      })();
    },
    async dispose() {
      await worker.dispose();
      release();
      if (ownsDir) rmSync(persistDir, { recursive: true, force: true });
    },
  };
}
