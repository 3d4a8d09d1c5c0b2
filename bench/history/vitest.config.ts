import { workerdBench } from "../workerd-bench.ts";

/** The time-travel benchmark: a real Room object; bench/history/run.ts starts it. */
export default workerdBench("history-bench", "history", {
  BENCH_EVENTS: process.env.BENCH_EVENTS ?? "100000",
  BENCH_REPS: process.env.BENCH_REPS ?? "7",
});
