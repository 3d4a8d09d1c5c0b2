import { workerdBench } from "../workerd-bench.ts";

/** The directory benchmark: real Directory objects; bench/directory/run.ts starts it once per shard count. */
export default workerdBench("directory-bench", "directory", {
  BENCH_ROOMS: process.env.BENCH_ROOMS ?? "100000",
  BENCH_SHARDS: process.env.BENCH_SHARDS ?? "1",
});
