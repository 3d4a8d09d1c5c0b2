import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OUTPUT, sandboxModulesSource } from "../../scripts/sandbox-modules.ts";
import { COMPATIBILITY_DATE, FUEL_NAME } from "../../src/plugins/sandbox/names.ts";
import { SANDBOX_RUNTIME } from "../../src/plugins/sandbox-modules.ts";

/**
 * The sandbox's modules are bundled from src/plugins/sandbox/ into a committed file the worker
 * imports: it must be what `npm run plugins:sandbox` writes now, or plugins would run an older
 * sandbox than the code and its tests say.
 */
describe("the sandbox's modules (npm run plugins:sandbox)", () => {
  it("are what the bundler writes now", async () => {
    expect(readFileSync(OUTPUT, "utf8"), "stale: npm run plugins:sandbox").toBe(
      await sandboxModulesSource(),
    );
  });

  it("export the fuel guard under the name instrument.ts calls", () => {
    // Not imported here: the runtime meters the realm it loads in, this test's own included.
    expect(SANDBOX_RUNTIME).toContain(`function ${FUEL_NAME}() {`);
    expect(SANDBOX_RUNTIME).toMatch(new RegExp(`export \\{[^}]*\\b${FUEL_NAME}\\b`));
  });

  it("run on wrangler.toml's compatibility date", () => {
    const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync("wrangler.toml", "utf8"));
    expect(COMPATIBILITY_DATE).toBe(date?.[1]);
  });
});
