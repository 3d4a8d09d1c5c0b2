import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { TEST_SECRET } from "../test/support/secret.ts";

/**
 * A benchmark's runtime inside workerd: the vitest pool with the real objects on SQLite, apart
 * from `npm test`; `bindings` carry the run's sizes from its run.ts.
 */
export function workerdBench(name: string, folder: string, bindings: Record<string, string>) {
  return defineConfig({
    plugins: [
      cloudflareTest({
        wrangler: { configPath: fileURLToPath(new URL("../wrangler.toml", import.meta.url)) },
        miniflare: { bindings: { JWT_SECRET: TEST_SECRET, ...bindings } },
      }),
    ],
    test: {
      name,
      root: fileURLToPath(new URL("..", import.meta.url)),
      include: [`bench/${folder}/**/*.bench.ts`],
      testTimeout: 30 * 60_000,
      hookTimeout: 60_000,
    },
  });
}
