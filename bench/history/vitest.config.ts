import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { TEST_SECRET } from "../../test/support/secret.ts";

/**
 * The time-travel benchmark's runtime: workerd through the vitest pool, with a real Room object
 * on SQLite, apart from `npm test`. bench/history/run.ts starts it.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)) },
      miniflare: {
        bindings: {
          JWT_SECRET: TEST_SECRET,
          BENCH_EVENTS: process.env.BENCH_EVENTS ?? "100000",
          BENCH_REPS: process.env.BENCH_REPS ?? "7",
        },
      },
    }),
  ],
  test: {
    name: "history-bench",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["bench/history/**/*.bench.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 60_000,
  },
});
