/**
 * A real Prometheus (Debian's package, /usr/bin/prometheus) for the tests and for
 * `npm run prometheus`: started as a child process in its own process group with a temporary
 * config and storage, scraping the worker's `/metrics` with the scrape token, queried through its
 * HTTP API. Every wait is bounded; `stop()` ends the whole group and removes what it wrote, and a
 * test process that dies first still kills it (an exit hook).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./server.ts";

export const PROMETHEUS_BINARY = process.env.PROMETHEUS_BINARY ?? "/usr/bin/prometheus";

/** One `host:port` to scrape, with the bearer token its `/metrics` asks for. */
export type ScrapeTarget = { address: string; token: string; job?: string };

export type PrometheusOptions = {
  targets: readonly ScrapeTarget[];
  /** Seconds between scrapes (1 in the tests, so that a count shows within a few seconds). */
  scrapeIntervalSeconds?: number;
  /** Where the TSDB lives; a fresh temporary folder (removed by `stop()`) when not given. */
  storageDir?: string;
  /** 127.0.0.1 and a free port when not given. */
  listenPort?: number;
  /** Bounds the wait for `/-/ready`. */
  readyTimeoutMs?: number;
  /** Prometheus's own log: "warn" unless told (its info lines are many). */
  logLevel?: "debug" | "info" | "warn" | "error";
};

/** A sample of an instant vector: its labels and its value (Prometheus sends it as text). */
export type Sample = { metric: Record<string, string>; value: number };

/** What `/api/v1/query` answered: a vector, a scalar, or the parse / evaluation error. */
export type QueryAnswer =
  | { ok: true; resultType: "vector"; samples: Sample[] }
  | { ok: true; resultType: "scalar" | "string"; samples: Sample[] }
  | { ok: true; resultType: "matrix"; samples: Sample[] }
  | { ok: false; errorType: string; error: string };

export type TargetState = {
  job: string;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
  /** When the last scrape started, ms since the epoch (0 before the first). */
  lastScrape: number;
};

export type Prometheus = {
  /** http://127.0.0.1:<port>, the UI and the HTTP API. */
  readonly url: string;
  readonly storageDir: string;
  readonly configFile: string;
  /** An instant query at `time` (seconds since the epoch; now when not given). */
  query(expr: string, time?: number): Promise<QueryAnswer>;
  /** An instant query that must succeed with a vector or scalar; its samples. */
  samples(expr: string): Promise<Sample[]>;
  /** The single value of a query that sums to one sample; undefined when it has none. */
  value(expr: string): Promise<number | undefined>;
  targets(): Promise<TargetState[]>;
  /** Waits until every target of `job` is up (a scrape answered 200 and parsed). */
  waitForTargetsUp(job?: string, timeoutMs?: number): Promise<TargetState[]>;
  /**
   * Waits until every target of `job` has been scraped `count` times after now: what they
   * expose now is then in the TSDB.
   */
  waitForScrapes(count?: number, job?: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
};

/** The YAML of the config (JSON is YAML): one job per distinct job name, the token as a bearer. */
export function prometheusConfig(
  targets: readonly ScrapeTarget[],
  scrapeIntervalSeconds = 1,
): string {
  const interval = `${scrapeIntervalSeconds}s`;
  return JSON.stringify(
    {
      global: {
        scrape_interval: interval,
        scrape_timeout: interval,
        evaluation_interval: interval,
      },
      scrape_configs: targets.map((target) => ({
        job_name: target.job ?? "edgechat",
        metrics_path: "/metrics",
        scheme: "http",
        authorization: { type: "Bearer", credentials: target.token },
        static_configs: [{ targets: [target.address] }],
      })),
    },
    null,
    2,
  );
}

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
 * Starts Prometheus and waits until it is ready.
 * @example
 * const prometheus = await startPrometheus({ targets: [{ address: "127.0.0.1:8787", token }] });
 * await prometheus.waitForTargetsUp();
 * await prometheus.value('sum(edgechat_commands_total{type="post"})');
 * await prometheus.stop();
 */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS_BINARY)) {
    throw new Error(
      `Prometheus is not installed at ${PROMETHEUS_BINARY}: apt-get install prometheus (CI does)`,
    );
  }
  const home = mkdtempSync(join(tmpdir(), "edgechat-prometheus-"));
  const storageDir = options.storageDir ?? join(home, "data");
  const configFile = join(home, "prometheus.yml");
  writeFileSync(configFile, prometheusConfig(options.targets, options.scrapeIntervalSeconds));
  const port = options.listenPort ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${storageDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--log.level=${options.logLevel ?? "warn"}`,
    ],
    { detached: true, stdio: ["ignore", "ignore", "pipe"] },
  );
  running.add(child);
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-4000);
  });
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
      rmSync(home, { recursive: true, force: true });
    })());

  try {
    await waitReady(url, child, () => log, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }

  const query = async (expr: string, time?: number): Promise<QueryAnswer> => {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set("time", String(time));
    const res = await fetch(`${url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: params,
      signal: AbortSignal.timeout(10_000),
    });
    return parseQueryAnswer(await res.json());
  };

  const samples = async (expr: string): Promise<Sample[]> => {
    const answer = await query(expr);
    if (!answer.ok) throw new Error(`${expr}: ${answer.errorType}: ${answer.error}`);
    return answer.samples;
  };

  const targets = async (): Promise<TargetState[]> => {
    const res = await fetch(`${url}/api/v1/targets?state=active`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as {
      data: {
        activeTargets: {
          scrapePool: string;
          scrapeUrl: string;
          health: TargetState["health"];
          lastError: string;
          lastScrape: string;
        }[];
      };
    };
    return body.data.activeTargets.map((target) => ({
      job: target.scrapePool,
      scrapeUrl: target.scrapeUrl,
      health: target.health,
      lastError: target.lastError,
      // Go's zero time ("0001-01-01T00:00:00Z") before the first scrape: negative, so 0.
      lastScrape: Math.max(0, Date.parse(target.lastScrape) || 0),
    }));
  };

  const ofJob = async (job: string) => (await targets()).filter((target) => target.job === job);

  return {
    url,
    storageDir,
    configFile,
    query,
    samples,
    async value(expr) {
      const found = await samples(expr);
      if (found.length > 1) throw new Error(`${expr}: ${found.length} samples, expected one`);
      return found[0]?.value;
    },
    targets,
    async waitForTargetsUp(job = "edgechat", timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await ofJob(job);
        if (states.length > 0 && states.every((state) => state.health === "up")) return states;
        if (Date.now() > deadline) {
          throw new Error(
            `Prometheus targets of ${job} not up after ${timeoutMs} ms: ${JSON.stringify(states)}`,
          );
        }
        await sleep(100);
      }
    },
    async waitForScrapes(count = 2, job = "edgechat", timeoutMs = 30_000) {
      // A scrape that started at or before now may have read the old figures: count later ones.
      const deadline = Date.now() + timeoutMs;
      let seen = new Map((await ofJob(job)).map((state) => [state.scrapeUrl, state.lastScrape]));
      const since = Date.now();
      const scrapes = new Map<string, number>();
      for (;;) {
        const states = await ofJob(job);
        for (const state of states) {
          if (state.lastScrape > since && state.lastScrape !== seen.get(state.scrapeUrl)) {
            if (state.health !== "up") {
              throw new Error(`scrape of ${state.scrapeUrl} failed: ${state.lastError}`);
            }
            scrapes.set(state.scrapeUrl, (scrapes.get(state.scrapeUrl) ?? 0) + 1);
          }
        }
        seen = new Map(states.map((state) => [state.scrapeUrl, state.lastScrape]));
        if (states.length > 0 && states.every((s) => (scrapes.get(s.scrapeUrl) ?? 0) >= count))
          return;
        if (Date.now() > deadline) {
          throw new Error(`${count} scrapes of ${job} did not happen within ${timeoutMs} ms`);
        }
        await sleep(100);
      }
    },
    stop,
  };
}

async function waitReady(
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Prometheus exited (${child.exitCode ?? child.signalCode}): ${log()}`);
    }
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) {
      throw new Error(`Prometheus not ready at ${url} after ${timeoutMs} ms: ${log()}`);
    }
    await sleep(100);
  }
}

type ApiAnswer =
  | {
      status: "success";
      data: { resultType: string; result: unknown };
    }
  | { status: "error"; errorType: string; error: string };

/** Prometheus's JSON answer as samples with numbers; an error answer as its type and message. */
export function parseQueryAnswer(body: unknown): QueryAnswer {
  const answer = body as ApiAnswer;
  if (answer.status !== "success") {
    return { ok: false, errorType: answer.errorType, error: answer.error };
  }
  const { resultType, result } = answer.data;
  switch (resultType) {
    case "vector":
      return {
        ok: true,
        resultType,
        samples: (result as { metric: Record<string, string>; value: [number, string] }[]).map(
          (sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }),
        ),
      };
    case "scalar":
    case "string": {
      const [, value] = result as [number, string];
      return { ok: true, resultType, samples: [{ metric: {}, value: Number(value) }] };
    }
    case "matrix":
      return {
        ok: true,
        resultType,
        samples: (result as { metric: Record<string, string>; values: [number, string][] }[]).map(
          (series) => ({ metric: series.metric, value: Number(series.values.at(-1)?.[1]) }),
        ),
      };
    default:
      return { ok: false, errorType: "unexpected", error: `result type ${resultType}` };
  }
}
