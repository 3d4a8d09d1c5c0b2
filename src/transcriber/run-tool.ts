import { spawn } from "node:child_process";
import { ServiceError } from "./errors.ts";

export type ToolResult = { code: number | null; signal: NodeJS.Signals | null; stderr: string };

/** stderr kept per run: enough for ffmpeg's one-line reason, bounded against a chatty tool. */
const STDERR_BYTES = 8 * 1024;

/**
 * Runs one tool with an argument array (never a shell), `input` on its stdin, and waits for it to
 * end. The signal kills it (SIGKILL: a decoder stuck on a file must not linger) and rejects with
 * the signal's reason. A tool that is not installed is 503 `unavailable`, named.
 */
export function runTool(
  command: string,
  args: readonly string[],
  options: { input?: Uint8Array; signal: AbortSignal },
): Promise<ToolResult> {
  options.signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.input ? "pipe" : "ignore", "ignore", "pipe"],
      signal: options.signal,
      killSignal: "SIGKILL",
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      if (stderr.length < STDERR_BYTES) stderr += chunk.slice(0, STDERR_BYTES - stderr.length);
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    child.on("error", (error: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          options.signal.aborted
            ? options.signal.reason
            : error.code === "ENOENT"
              ? new ServiceError("unavailable", `${command} is not installed`)
              : error,
        ),
      ),
    );
    child.on("close", (code, signal) =>
      settle(() =>
        options.signal.aborted ? reject(options.signal.reason) : resolve({ code, signal, stderr }),
      ),
    );
    if (options.input && child.stdin) {
      // A decoder that gives up on garbage closes its stdin early: EPIPE is its answer, not ours.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }
  });
}
