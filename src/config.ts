import * as z from "zod";

const list = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );
/** A switch: a boolean var, or its text ("true"/"false") from .dev.vars or the dashboard. */
const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false"])])
    .default(fallback)
    .transform((value) => value === true || value === "true");
const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const count = seconds;

/** What a room reads: its queue, its consumers and the abuse limits it enforces. */
const RoomConfig = z.object({
  /**
   * A room's command queue (docs/benchmark.md, backpressure): how many commands may wait, and how
   * long the oldest may have waited (ms), before new ones are refused with `overloaded`.
   */
  ROOM_QUEUE_MAX_COMMANDS: count(2000),
  ROOM_QUEUE_MAX_WAIT_MS: count(250),
  /** How late (ms, the median of its batch clients' reports) a room's events may reach them. */
  ROOM_MAX_DELIVERY_LAG_MS: count(500),
  /** How many events a socket on edgechat.v1.batch may be behind before it is cut off (4408). */
  ROOM_SLOW_CONSUMER_EVENTS: count(5000),
  /**
   * How many objects the room directory is spread over (docs/directory.md). Fixed for the life of
   * an instance: changing it moves rooms to other shards, whose old rows stay behind.
   */
  DIRECTORY_SHARDS: count(8),
  // Abuse limits a room enforces (docs/limits.md).
  /** Commands per user in one room, however they arrive: a token bucket. */
  LIMIT_COMMANDS_PER_SECOND: count(20),
  LIMIT_COMMANDS_BURST: count(40),
  /** Open WebSockets per user in one room, and in all rooms together (`quota`). */
  LIMIT_SOCKETS_PER_ROOM: count(10),
  LIMIT_SOCKETS_PER_USER: count(50),
  /** Invitations per room. */
  LIMIT_INVITES_PER_ROOM: count(50),
  LIMIT_INVITES_WINDOW_SECONDS: seconds(3600),
  /**
   * How long a room trusts its copy of the instance's rules before it asks the hub again (ms,
   * src/room/instance-rules.ts). At most the 30 s the dashboard promises; tests shorten it.
   */
  INSTANCE_RULES_TTL_MS: count(30_000).pipe(z.number().max(30_000)),
});
export type RoomConfig = z.infer<typeof RoomConfig>;

const roomConfigs = new WeakMap<object, RoomConfig>();

/**
 * The room's part of the config, its defaults for what is missing or does not parse: a room
 * keeps working on a broken configuration (the worker reports it on every request).
 */
export function roomConfig(env: object): RoomConfig {
  let config = roomConfigs.get(env);
  if (!config) {
    config = RoomConfig.safeParse(env).data ?? RoomConfig.parse({});
    roomConfigs.set(env, config);
  }
  return config;
}

/**
 * Tracing and logs (docs/observability.md), under OpenTelemetry's standard names. Every part of
 * the worker reads it, the Durable Objects too: parsed on its own so that a room traces and logs
 * even when the rest of the configuration is broken (the worker reports that on every request).
 */
const TelemetryConfig = z.object({
  /** The OTLP/HTTP base URL; spans go to `<base>/v1/traces`. Unset: tracing off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** Headers for the collector, `key=value,key=value` (values percent-encoded). */
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .default("")
    .transform((text, context) => {
      const headers = parseOtlpHeaders(text);
      if (headers) return headers;
      context.addIssue({ code: "custom", message: "expected key=value,key=value" });
      return z.NEVER;
    }),
  OTEL_TRACES_SAMPLER: z
    .enum([
      "always_on",
      "always_off",
      "traceidratio",
      "parentbased_always_on",
      "parentbased_always_off",
      "parentbased_traceidratio",
    ])
    .default("parentbased_traceidratio"),
  /** The ratio of the `traceidratio` samplers, 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  OTEL_SERVICE_NAME: z.string().min(1).default("edgechat"),
  /** The least level logged: debug, info, warn or error. */
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});
export type TelemetryConfig = z.infer<typeof TelemetryConfig>;

const telemetryConfigs = new WeakMap<object, TelemetryConfig>();

/** The telemetry part of the config, its defaults (tracing off) when it does not parse. */
export function telemetryConfig(env: object): TelemetryConfig {
  let config = telemetryConfigs.get(env);
  if (!config) {
    config = TelemetryConfig.safeParse(env).data ?? TelemetryConfig.parse({});
    telemetryConfigs.set(env, config);
  }
  return config;
}

/** What rooms and isolates read to count and push metrics (docs/observability.md). */
const MetricsConfig = z.object({
  /** "false" counts nothing and pushes nothing: the benchmark's baseline. */
  METRICS_ENABLED: flag(true),
  /** How many metrics objects the rooms and isolates push to; `/metrics` reads them all. */
  METRICS_SHARDS: count(4).pipe(z.number().max(64)),
  /** How long a room's counts wait before its alarm pushes them. */
  METRICS_PUSH_MS: count(5_000),
  /** How long an isolate's counts wait after a request, so that a burst goes in one push. */
  METRICS_SHIP_MS: z.coerce.number().int().min(0).default(1_000),
});
export type MetricsConfig = z.infer<typeof MetricsConfig>;

const metricsConfigs = new WeakMap<object, MetricsConfig>();

/** The metrics part of the config, its defaults for what is missing or does not parse. */
export function metricsConfig(env: object): MetricsConfig {
  let config = metricsConfigs.get(env);
  if (!config) {
    config = MetricsConfig.safeParse(env).data ?? MetricsConfig.parse({});
    metricsConfigs.set(env, config);
  }
  return config;
}

/** A secret that may be left out; an empty one (`SLACK_BOT_TOKEN=` in .dev.vars) is left out. */
const optionalSecret = z
  .string()
  .transform((text) => text.trim() || undefined)
  .optional();

/** What the integrations read (docs/integrations.md): outgoing webhooks' delivery rules. */
const IntegrationsConfig = z.object({
  /**
   * Local development only: webhooks and slash commands may call http:// and https:// URLs on
   * loopback (127.0.0.0/8, ::1, localhost). Every other private address stays refused.
   */
  WEBHOOK_ALLOW_LOOPBACK: flag(false),
  /**
   * Seconds between a failed try and the next, one number per retry ("5,300,1800"), each at most
   * 12 h (Queues' longest delay). Unset: the Standard Webhooks schedule (src/integrations/).
   */
  WEBHOOK_RETRY_DELAYS: z
    .string()
    .regex(
      /^\s*\d+\s*(,\s*\d+\s*){0,19}$/,
      "WEBHOOK_RETRY_DELAYS is up to 20 whole seconds, comma-separated",
    )
    .transform((text) => text.split(",").map(Number))
    .refine((delays) => delays.every((d) => d <= 43_200), "a retry delay is at most 43200 s (12 h)")
    .optional(),
  /** How long a receiver has to answer one try. */
  WEBHOOK_TIMEOUT_MS: count(15_000),
  /** An endpoint whose tries have all failed for this long (and at least 5 of them) is disabled. */
  WEBHOOK_DISABLE_AFTER_SECONDS: seconds(5 * 24 * 60 * 60),
  /**
   * The Slack bridge (docs/integrations.md, "Slack bridge"): on when both secrets are set, its
   * routes a 404 otherwise. The signing secret checks each request Slack sends; the bot token
   * (`xoxb-…`) calls Slack's Web API, at `SLACK_API_BASE` (the tests' fake Slack elsewhere).
   */
  SLACK_SIGNING_SECRET: optionalSecret,
  SLACK_BOT_TOKEN: optionalSecret,
  SLACK_API_BASE: z.url({ protocol: /^https?$/ }).default("https://slack.com/api"),
});
export type IntegrationsConfig = z.infer<typeof IntegrationsConfig>;

const integrationsConfigs = new WeakMap<object, IntegrationsConfig>();

/** The integrations' part of the config, its defaults for what is missing or does not parse. */
export function integrationsConfig(env: object): IntegrationsConfig {
  let config = integrationsConfigs.get(env);
  if (!config) {
    config = IntegrationsConfig.safeParse(env).data ?? IntegrationsConfig.parse({});
    integrationsConfigs.set(env, config);
  }
  return config;
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS` as the OTel spec writes it (W3C baggage's list syntax):
 * `key=value` pairs split by commas, values percent-decoded; undefined when a pair is malformed.
 */
export function parseOtlpHeaders(text: string): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const at = pair.indexOf("=");
    const key = pair.slice(0, at).trim().toLowerCase();
    if (at < 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(key)) return undefined;
    try {
      headers[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      return undefined;
    }
  }
  return headers;
}

/** Configuration from the environment (wrangler.toml vars, .dev.vars, secrets), parsed once. */
const Config = z.object({
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters"),
  /** "production" makes a missing secret fail the worker at start instead of at first use. */
  ENVIRONMENT: z.string().default("development"),
  /** Registered usernames (case-insensitive) who may act on any room. */
  ADMIN_USERNAMES: list.transform((names) => names.map((name) => name.toLowerCase())),
  /** Origins besides the worker's own that may call the API and open WebSockets. */
  ALLOWED_ORIGINS: list,
  /** Wrong passwords per account, and attempts per IP, within AUTH_WINDOW_SECONDS. */
  AUTH_WINDOW_SECONDS: seconds(300),
  AUTH_MAX_FAILURES: seconds(5),
  AUTH_MAX_ATTEMPTS_PER_IP: seconds(30),
  ACCESS_TOKEN_SECONDS: seconds(15 * 60),
  /** Postgres (optional): the primary, its read replicas, and locally the WebSocket proxy. */
  DATABASE_URL: z.string().optional(),
  DATABASE_REPLICA_URLS: list,
  PG_WS_PROXY: z.string().optional(),
  /** A replica further behind than this is skipped for reads. */
  REPLICA_MAX_LAG_MS: seconds(5_000),
  REFRESH_TOKEN_SECONDS: seconds(30 * 24 * 60 * 60),
  // Abuse limits (docs/limits.md): windows in seconds, counts per window.
  /** Guest sign-ins per address. */
  LIMIT_GUESTS_PER_IP: count(20),
  LIMIT_GUESTS_WINDOW_SECONDS: seconds(600),
  /** Room creations per user and per address. */
  LIMIT_ROOMS_PER_USER: count(10),
  LIMIT_ROOMS_PER_IP: count(30),
  LIMIT_ROOMS_WINDOW_SECONDS: seconds(3600),
  /** Rooms a user may own at once (a standing cap: `quota`). */
  LIMIT_ROOMS_OWNED: count(50),
  /** GraphQL introspection and GraphiQL at /graphql (docs/graphql.md); off for a closed production API. */
  GRAPHQL_INTROSPECTION: flag(true),
  /**
   * Trusted documents at /graphql (docs/graphql.md): `off`; `allow` the SDK's manifest by id
   * beside any document; `only` the manifest's documents.
   */
  GRAPHQL_TRUSTED_DOCUMENTS: z.enum(["off", "allow", "only"]).default("off"),
  /** Tests only: each /graphql answer reports its storage calls in x-edgechat-storage-calls. */
  GRAPHQL_COUNT_CALLS: flag(false),
  /** The scrape token of `/metrics` (`Authorization: Bearer …`); unset, `/metrics` is not served. */
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  /** Tests only: serves edgechat.test.v1.EchoService, the RPC transport's fixture (docs/rpc.md). */
  RPC_ECHO: flag(false),
  ...RoomConfig.shape,
  ...TelemetryConfig.shape,
  ...IntegrationsConfig.shape,
});
export type Config = z.infer<typeof Config>;

/**
 * Called once when the worker starts: in production a missing or weak secret stops the worker
 * with a message that names it, rather than failing request by request.
 */
export function assertConfigured(env: object): void {
  if (!("ENVIRONMENT" in env) || env.ENVIRONMENT !== "production") return;
  const parsed = Config.safeParse(env);
  if (!parsed.success) throw new Error(`edgechat: configuration error: ${describe(parsed.error)}`);
}

function describe(error: z.ZodError): string {
  const problems = error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  return `${problems}. Set it in .dev.vars locally or with \`wrangler secret put\`.`;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problem: string };

const parsedConfigs = new WeakMap<object, ConfigResult>();

/** The config, or a message naming what is missing or wrong; parsed once per environment. */
export function parseConfig(env: object): ConfigResult {
  const cached = parsedConfigs.get(env);
  if (cached) return cached;
  const parsed = Config.safeParse(env);
  const result: ConfigResult = parsed.success
    ? { ok: true, config: parsed.data }
    : { ok: false, problem: describe(parsed.error) };
  parsedConfigs.set(env, result);
  return result;
}

/**
 * The config, for code that cannot go on without it (a Durable Object answering a call the
 * worker already let through): a plain error naming the problem, never an HTTP answer.
 */
export function requireConfig(env: object): Config {
  const parsed = parseConfig(env);
  if (!parsed.ok) throw new Error(`edgechat: configuration error: ${parsed.problem}`);
  return parsed.config;
}
