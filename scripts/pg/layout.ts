/** The cluster's fixed names and shapes: nodes, database, user, options. */

/** A result row from `Cluster.query`: every value as the server's text, or null. */
export type Row = Record<string, string | null>;

export type NodeName = "primary" | "replica1" | "replica2";

export const NODE_NAMES: readonly NodeName[] = ["primary", "replica1", "replica2"];
export const REPLICA_NAMES: readonly NodeName[] = ["replica1", "replica2"];

export const DATABASE = "edgechat";
export const USER = "postgres";
export const PASSWORD = "postgres";

export type ClusterOptions = {
  /** Folder holding the three data folders and logs; created if missing. */
  dataDir: string;
  /** Defaults: primary 5433, replicas 5434 and 5435. */
  ports?: { primary?: number; replicas?: number[] };
  /** Stop whatever runs from `dataDir`, wipe it and initialise a new cluster. */
  fresh?: boolean;
  /**
   * Stop the nodes when this process exits (normal exit, or SIGINT/SIGTERM/SIGHUP when nobody
   * else handles them). Default true; the CLI `start` passes false so the cluster outlives it.
   */
  stopOnExit?: boolean;
  /** Progress lines (default: silent). */
  log?: (line: string) => void;
};

export type Cluster = {
  /** postgres://postgres:postgres@127.0.0.1:<port>/edgechat */
  readonly primaryUrl: string;
  readonly replicaUrls: string[];
  readonly dataDir: string;
  readonly ports: { primary: number; replicas: number[] };
  /** Stops every node (fast mode) and waits until their processes are gone. Idempotent. */
  stop(): Promise<void>;
  stopNode(name: NodeName): Promise<void>;
  /** Starts a node and waits until it accepts connections (replicas: until they stream). */
  startNode(name: NodeName): Promise<void>;
  /** Runs SQL on a node over its unix socket (trust, no password), as `postgres`. */
  query(name: NodeName, sql: string, database?: string): Promise<Row[]>;
};

export type NodeInfo = { name: NodeName; dir: string; port: number; log: string };
