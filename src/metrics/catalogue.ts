/**
 * Every metric edgechat exports (docs/observability.md, "Names"): its kind, its help text and
 * its labels. Code counts only through these names, so a typo is a type error and a metric
 * cannot be exported with two sets of labels.
 */

/** Upper bounds of every histogram's buckets, in seconds (Prometheus adds +Inf). */
export const BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

type Definition = {
  readonly kind: "counter" | "histogram";
  readonly help: string;
  readonly labels: readonly string[];
};

export const METRICS = {
  http_requests_total: {
    kind: "counter",
    help: "HTTP requests by matched route, method and status.",
    labels: ["route", "method", "status"],
  },
  http_request_duration_seconds: {
    kind: "histogram",
    help: "HTTP request duration in the worker.",
    labels: ["route", "method"],
  },
  api_errors_total: {
    kind: "counter",
    help: "Error answers of the HTTP API by the contract's error code.",
    labels: ["code"],
  },
  auth_failures_total: {
    kind: "counter",
    help: "Refused credentials: tokens, service keys, passwords, refresh tokens.",
    labels: ["reason"],
  },
  auth_lockouts_total: {
    kind: "counter",
    help: "Sign-ins refused by an account lockout or an IP block.",
    labels: ["kind"],
  },
  graphql_operations_total: {
    kind: "counter",
    help: "GraphQL operations by type and outcome (ok or the error code).",
    labels: ["type", "outcome"],
  },
  graphql_operation_duration_seconds: {
    kind: "histogram",
    help: "GraphQL operation duration.",
    labels: ["type"],
  },
  rpc_calls_total: {
    kind: "counter",
    help: "Connect and gRPC-web calls by procedure and code.",
    labels: ["procedure", "code"],
  },
  rpc_call_duration_seconds: {
    kind: "histogram",
    help: "Connect and gRPC-web call duration.",
    labels: ["procedure"],
  },
  commands_total: {
    kind: "counter",
    help: "Room commands by type and outcome (ok or the refusal code).",
    labels: ["type", "outcome"],
  },
  events_appended_total: {
    kind: "counter",
    help: "Events appended to the rooms' logs, by type.",
    labels: ["type"],
  },
  deliveries_total: {
    kind: "counter",
    help: "Events sent on a socket (one event on one socket), by transport.",
    labels: ["transport"],
  },
  commit_duration_seconds: {
    kind: "histogram",
    help: "A command's arrival in its room to its batch's durable commit.",
    labels: [],
  },
  fanout_duration_seconds: {
    kind: "histogram",
    help: "An event leaving its room to a client's report that it arrived.",
    labels: [],
  },
  refusals_total: {
    kind: "counter",
    help: "Frames and sockets refused before a command was read, by reason.",
    labels: ["reason"],
  },
  room_wakeups_total: {
    kind: "counter",
    help: "Starts of a room object: its first use, or after hibernation or eviction.",
    labels: [],
  },
  flush_batches_total: {
    kind: "counter",
    help: "Batches of events written to Postgres, by outcome.",
    labels: ["outcome"],
  },
  metrics_pushes_total: {
    kind: "counter",
    help: "Pushes the metrics objects received, from rooms (and their shards) or isolates.",
    labels: ["from"],
  },
  flush_events_total: {
    kind: "counter",
    help: "Events written to Postgres.",
    labels: [],
  },
} as const satisfies Record<string, Definition>;

export type MetricName = keyof typeof METRICS;
export type CounterName = {
  [N in MetricName]: (typeof METRICS)[N]["kind"] extends "counter" ? N : never;
}[MetricName];
export type HistogramName = Exclude<MetricName, CounterName>;
/** The labels `name` takes, each a string. */
export type LabelsOf<N extends MetricName> = {
  readonly [L in (typeof METRICS)[N]["labels"][number]]: string;
};

/** The prefix of every exported series. */
export const PREFIX = "edgechat_";

/** Gauges: computed when read, from the rooms' last reports and the database probe. */
export const GAUGES = {
  sockets_open: { help: "Sockets open, summed over the rooms that report.", labels: ["kind"] },
  rooms_active: {
    help: "Rooms with a socket open or an event in the last five minutes.",
    labels: [],
  },
  rooms_reporting: { help: "Rooms the metrics objects hold a report of.", labels: [] },
  flush_backlog_events: { help: "Events not yet in Postgres, summed over the rooms.", labels: [] },
  flush_lag_seconds: { help: "Age of the oldest event not yet in Postgres.", labels: [] },
  db_node_up: {
    help: "Whether a database node answered the probe (1) or not (0).",
    labels: ["node", "role"],
  },
  db_replica_lag_seconds: { help: "A replica's replay lag behind the primary.", labels: ["node"] },
  db_replica_lag_bytes: { help: "A replica's WAL not yet replayed, in bytes.", labels: ["node"] },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>;

export type GaugeName = keyof typeof GAUGES;
export type Gauge = { name: GaugeName; labels?: Record<string, string>; value: number };
