import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_SECRET } from "./test/support/secret.ts";

/**
 * The test layers, all run by `npm test`:
 * unit (pure code in Node), worker (inside workerd), e2e (a real server and real clients),
 * browser (Debian's Chromium through playwright-core).
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", environment: "node", include: ["test/unit/**/*.test.ts"] } },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                JWT_SECRET: TEST_SECRET,
                ADMIN_USERNAMES: "root",
                AUTH_WINDOW_SECONDS: "2",
              },
            },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"] },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each file starts its own workerd; on two cores one at a time keeps timings honest.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "db",
          environment: "node",
          include: ["test/db/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // A real primary and two streaming replicas per file: one file at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "security",
          environment: "node",
          include: ["test/security/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 90_000,
          // One real server per file; one file at a time on two cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "browser",
          environment: "node",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
