import { metricsConfig } from "../config.ts";

/** The name of metrics object `index`. */
export const metricsShardName = (index: number) => `metrics-${index}`;

/** FNV-1a: a stable spread of rooms (and isolates) over the metrics objects. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The metrics object `key` (a room's name, an isolate's id) pushes to. */
export function metricsShardFor(env: Env, key: string) {
  const shards = metricsConfig(env).METRICS_SHARDS;
  return env.METRICS.getByName(metricsShardName(hash(key) % shards));
}

/** Every metrics object's holdings, read at once. */
export function readEveryShard(env: Env) {
  const shards = metricsConfig(env).METRICS_SHARDS;
  return Promise.all(
    Array.from({ length: shards }, (_, i) => env.METRICS.getByName(metricsShardName(i)).read()),
  );
}
