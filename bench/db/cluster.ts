/**
 * One fresh local cluster for the whole run: primary + two streaming replicas (scripts/pg/
 * cluster.ts, as test/support/cluster.ts starts them) in a temp folder on free ports, and the
 * WebSocket proxy in a child process (bench/db/proxy-child.ts). `stop()` is idempotent and
 * bounded; the cluster's own exit hook stops the nodes if this process dies first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Cluster } from "../../scripts/pg/cluster.ts";
import { startTemporaryCluster } from "../../test/support/cluster.ts";

export type BenchCluster = Cluster & { proxyAddress: string; proxyPid: number };

const PROXY = fileURLToPath(new URL("./proxy-child.ts", import.meta.url));

async function startProxy(): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [PROXY], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("proxy did not start in 20 s")), 20_000);
      createInterface({ input: child.stdout! }).once("line", (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`proxy exited early (code ${code})`));
      });
    });
    return { child, address: (JSON.parse(line) as { address: string }).address };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const wait = (ms: number) =>
    Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
    ]);
  child.stdin?.end();
  if (await wait(4_000)) return;
  child.kill("SIGTERM");
  if (await wait(3_000)) return;
  child.kill("SIGKILL");
  await wait(2_000);
}

export async function startBenchCluster(log: (line: string) => void): Promise<BenchCluster> {
  const { cluster, removeDir } = await startTemporaryCluster("edgechat-benchdb-", (line) =>
    log(`  [pg] ${line}`),
  );
  let proxy: { child: ChildProcess; address: string };
  try {
    proxy = await startProxy();
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    removeDir();
    throw error;
  }
  // If something else ends the process first (wrangler handles SIGINT itself, for one), the
  // cluster's own exit hook (registered before this one) stops the nodes synchronously; this one
  // then removes the proxy and the data folder.
  const onExit = () => {
    proxy.child.kill("SIGKILL");
    removeDir();
  };
  process.on("exit", onExit);
  let stopping: Promise<void> | undefined;
  return {
    ...cluster,
    proxyAddress: proxy.address,
    proxyPid: proxy.child.pid!,
    stop() {
      stopping ??= (async () => {
        try {
          await stopChild(proxy.child);
          await cluster.stop();
        } finally {
          removeDir();
          process.off("exit", onExit);
        }
      })();
      return stopping;
    },
  };
}
