import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import type { AdminSection } from "../../src/web/route.ts";
import { it } from "vitest";

export { ensureWebBuild } from "../support/web-build.ts";

/**
 * Debian's Chromium, driven by playwright-core (`npx playwright install` cannot work offline).
 * Without one the browser tests skip loudly; with REQUIRE_BROWSER=1 (CI) that is a failure.
 */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
export const executablePath = CANDIDATES.find((path) => existsSync(path));

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Playwright's polling for the UI's asynchronous updates. */
export const WAIT = { timeout: 20_000, interval: 100 };

/** The viewports the UI is checked at: a desktop, and a phone's (docs: usable at 390×844). */
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
/** Where the tests leave their screenshots (not committed). */
export const SHOTS = "test-results/screenshots";

/** `extraArgs`: more switches, e.g. a fake microphone playing a file (voice-messages.test.ts). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath, args: [...ARGS, ...extraArgs] });
}

/**
 * Call at the top of a browser test file: warns when there is no Chromium and, when one is
 * required, defines the failing test (only then, so a normal run shows no skipped test).
 */
export function requireChromium(): void {
  if (executablePath) return;
  console.warn(
    [
      "",
      "************************************************************************",
      "*  BROWSER TESTS SKIPPED: no Chromium at " + CANDIDATES.join(", "),
      "*  Install one (apt-get install -y chromium) or set REQUIRE_BROWSER=1",
      "*  to make its absence fail the run.",
      "************************************************************************",
      "",
    ].join("\n"),
  );
  if (process.env.REQUIRE_BROWSER !== "1") return;
  it("finds a Chromium (REQUIRE_BROWSER=1)", () => {
    throw new Error(`REQUIRE_BROWSER=1 but no Chromium found at ${CANDIDATES.join(", ")}`);
  });
}

/**
 * Records into `problems` what a page must never do: throw, open a dialog (an injected
 * `alert`), or log an error that the scenario did not announce in `expected` beforehand.
 */
export function watchPage(
  page: Page,
  name: string,
  problems: string[],
  expected: [string, RegExp][],
): void {
  page.on("pageerror", (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on("dialog", (dialog) => {
    problems.push(`${name}: a dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    const announced = expected.some(
      ([who, pattern]) => who === name && pattern.test(message.text()),
    );
    if (message.type() === "error" && !announced) {
      problems.push(`${name}: console error: ${message.text()} (${message.location().url})`);
    }
  });
}

/** Opens a section of the admin dashboard by its menu, as a person would. */
export async function section(page: Page, name: AdminSection): Promise<void> {
  await page.locator(`[data-testid=admin-nav] a[data-section=${name}]`).click();
  await page.locator(`main.admin[data-section=${name}]`).waitFor();
}
