import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { LIFTED_LIMITS } from "./test/support/limits.ts";
import { TEST_SECRET } from "./test/support/secret.ts";

/**
 * The test layers, all run by `npm test`:
 * unit (pure code in Node), worker (inside workerd), e2e (a real server and real clients),
 * security (a real server under fuzzing and brute force), db (real Postgres clusters), browser
 * (Debian's Chromium through playwright-core).
 *
 * The projects run as groups, one after another (`sequence.groupOrder`), each group alone on the
 * machine: layers that measure time (lockout windows, ordering and resume deadlines, SDK backoff)
 * must not share two cores with the fuzzers' thousands of frames or with a primary and two
 * replicas streaming WAL. Cheap, fast feedback first (unit, worker), then the real server alone
 * (e2e), then the CPU hogs one by one: security, db, and the browser last (it starts the worker
 * and Chromium together). The numbers start at 1 because vitest puts every project left at 0 that
 * runs one file at a time (fileParallelism false, or any project on a 2-core machine) into one
 * catch-all group after the numbered ones, ordered by project name: browser first, unit last.
 */
const GROUP = { unit: 1, worker: 2, e2e: 3, security: 4, db: 5, browser: 6 } as const;
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["test/unit/**/*.test.ts", "plugins/**/*.test.ts"],
          // Through vite like the tests' own imports, so that all load graphql's ES module: left
          // to Node, Pothos, graphql-armor, envelop and @graphql-inspector/core would load its
          // CommonJS build, whose instanceof checks refuse the other's schemas ("Cannot use
          // GraphQLSchema from another module or realm"). The worker's bundle has one graphql.
          server: {
            deps: {
              inline: [/@escape\.tech\//, /@envelop\//, /@pothos\//, "@graphql-inspector/core"],
            },
          },
          sequence: { groupOrder: GROUP.unit },
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                JWT_SECRET: TEST_SECRET,
                ...LIFTED_LIMITS,
                ADMIN_USERNAMES: "root",
                // As on a clean clone, whatever a developer's .dev.vars (npm run dev) allows.
                WEBHOOK_ALLOW_LOOPBACK: "false",
                // test/worker/graphql.test.ts reads each request's storage calls from a header.
                GRAPHQL_COUNT_CALLS: "true",
                // test/worker/rpc-transport.test.ts calls the RPC transport's fixture service.
                RPC_ECHO: "true",
                // test/worker/metrics.test.ts scrapes /metrics: rooms push 50 ms on, isolates at once.
                METRICS_TOKEN: "worker-test-scrape-token",
                METRICS_PUSH_MS: "50",
                METRICS_SHIP_MS: "0",
                // Holds the lockout test's six password hashes with a wide margin on a busy
                // machine, and is still short enough to wait out (accounts.test.ts).
                AUTH_WINDOW_SECONDS: "5",
                // Every test registers from the same address: the per-IP limit is not under test here.
                AUTH_MAX_ATTEMPTS_PER_IP: "100000",
              },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          // Its ASSETS binding serves public/ from disk: build it when a run has none.
          globalSetup: ["test/support/web-build.ts"],
          sequence: { groupOrder: GROUP.worker },
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          sequence: { groupOrder: GROUP.e2e },
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
          sequence: { groupOrder: GROUP.db },
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
          sequence: { groupOrder: GROUP.security },
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
          sequence: { groupOrder: GROUP.browser },
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
