/**
 * The local transcriber (src/transcriber/, `npm run transcriber`) for the tests and the bench:
 * started as `node scripts/transcriber.ts`, the very entry of the npm script, in its own process
 * group on a free port, and waited for until `/healthz` answers. `stop()` ends the group (the
 * service and any ffmpeg or pocketsphinx it is running); a test process that dies first still
 * kills it (an exit hook).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./server.ts";

const ENTRY = fileURLToPath(new URL("../../scripts/transcriber.ts", import.meta.url));

export type StartTranscriberOptions = {
  /** TRANSCRIBER_* settings (src/transcriber/options.ts) and anything else, e.g. TMPDIR. */
  env?: Record<string, string>;
  /** A port of the caller's choosing (a worker already pointed at it); a free one by default. */
  port?: number;
  /** Wait for a 200 from /healthz (default); false: for any answer (a test of a 503). */
  requireHealthy?: boolean;
  readyTimeoutMs?: number;
};

export type RunningTranscriber = {
  /** http://127.0.0.1:<port>, the base URL (TRANSCRIBER_URL). */
  url: string;
  /** The service's process id (its RSS, for the bench). */
  pid: number;
  stop(): Promise<void>;
};

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * @example
 * const transcriber = await startTranscriber();
 * await fetch(`${transcriber.url}/v1/transcribe`, { method: "POST", body: JSON.stringify({ audio }) });
 * await transcriber.stop();
 */
export async function startTranscriber(
  options: StartTranscriberOptions = {},
): Promise<RunningTranscriber> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [ENTRY], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      TRANSCRIBER_HOST: "127.0.0.1",
      TRANSCRIBER_PORT: String(port),
      ...options.env,
    },
  });
  running.add(child);
  let log = "";
  const keep = (chunk: Buffer) => (log = (log + chunk.toString("utf8")).slice(-4000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      killGroup(child, "SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!done) {
        killGroup(child, "SIGKILL");
        await Promise.race([exited, sleep(5_000)]);
      }
      running.delete(child);
    })());

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`the transcriber exited (${child.exitCode ?? child.signalCode}): ${log}`);
    }
    const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200 || (status !== 0 && options.requireHealthy === false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `the transcriber at ${url} is not ready (/healthz ${status || "no answer"}): ${log}`,
      );
    }
    await sleep(100);
  }
  return { url, pid: child.pid!, stop };
}
