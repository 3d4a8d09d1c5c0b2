/**
 * The shard that holds `userId`'s sockets (FNV-1a of the id): stable, so that all of one user's
 * sockets share one shard and their presence is that shard's to report. Pure.
 */
export function shardOf(userId: string, shards: number): number {
  let hash = 2166136261;
  for (let i = 0; i < userId.length; i++) hash = Math.imul(hash ^ userId.charCodeAt(i), 16777619);
  return (hash >>> 0) % shards;
}
