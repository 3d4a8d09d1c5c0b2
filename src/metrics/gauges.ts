import type { NodeReport } from "../protocol/index.ts";
import type { Gauge } from "./catalogue.ts";
import { isActive, type RoomRow } from "./room-report.ts";

/** The gauges of the rooms' last reports at `now`. */
export function roomGauges(rooms: readonly RoomRow[], now: number): Gauge[] {
  const sum = (of: (row: RoomRow) => number) => rooms.reduce((total, row) => total + of(row), 0);
  const oldest = Math.min(...rooms.map((row) => row.oldestUnflushedAt ?? Infinity));
  return [
    { name: "sockets_open", labels: { kind: "chat" }, value: sum((row) => row.chat) },
    { name: "sockets_open", labels: { kind: "graphql" }, value: sum((row) => row.graphql) },
    { name: "rooms_active", value: rooms.filter((row) => isActive(row, now)).length },
    { name: "rooms_reporting", value: rooms.length },
    { name: "flush_backlog_events", value: sum((row) => row.backlog) },
    {
      name: "flush_lag_seconds",
      value: Number.isFinite(oldest) ? Math.max(0, now - oldest) / 1000 : 0,
    },
  ];
}

/**
 * The database nodes' gauges, each named `primary` or `replica-N` in the order of
 * DATABASE_REPLICA_URLS: never by its URL, which holds a password.
 */
export function databaseGauges(nodes: readonly NodeReport[]): Gauge[] {
  let replicas = 0;
  return nodes.flatMap((node): Gauge[] => {
    const name = node.role === "primary" ? "primary" : `replica-${++replicas}`;
    const up: Gauge = {
      name: "db_node_up",
      labels: { node: name, role: node.role },
      value: node.healthy ? 1 : 0,
    };
    if (node.role === "primary") return [up];
    return [
      up,
      ...(node.lagMs === null
        ? []
        : [
            {
              name: "db_replica_lag_seconds",
              labels: { node: name },
              value: node.lagMs / 1000,
            } as const,
          ]),
      ...(node.lagBytes === null
        ? []
        : [
            { name: "db_replica_lag_bytes", labels: { node: name }, value: node.lagBytes } as const,
          ]),
    ];
  });
}

/** The worst replica's lag in ms, or null when none reports one. */
export function worstReplicaLagMs(nodes: readonly NodeReport[]): number | null {
  const lags = nodes.filter((node) => node.role === "replica" && node.lagMs !== null);
  return lags.length === 0 ? null : Math.max(...lags.map((node) => node.lagMs!));
}
