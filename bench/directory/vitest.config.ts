import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { TEST_SECRET } from "../../test/support/secret.ts";

/**
 * The directory benchmark's runtime: workerd through the vitest pool, with the real Directory
 * objects on SQLite, apart from `npm test`. bench/directory/run.ts starts it once per shard count.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)) },
      miniflare: {
        bindings: {
          JWT_SECRET: TEST_SECRET,
          BENCH_ROOMS: process.env.BENCH_ROOMS ?? "100000",
          BENCH_SHARDS: process.env.BENCH_SHARDS ?? "1",
        },
      },
    }),
  ],
  test: {
    name: "directory-bench",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["bench/directory/**/*.bench.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 60_000,
  },
});
