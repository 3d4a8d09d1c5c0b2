import { mkdirSync } from "node:fs";
import type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Locator,
  Page,
} from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { startServer, type TestServer } from "../support/server.ts";
import { DESKTOP, ensureWebBuild, launchChromium, SHOTS, WAIT, watchPage } from "./chromium.ts";

/*
 * What the browser test files share: the worker and Chromium for the file (useChromiumApp), pages
 * watched for problems, sign-in, and the phone checks (sideways, smallTargets). Files whose pages
 * differ in a way that matters keep their own: accounts.test.ts (two tabs in one profile, to
 * share a session), chat.test.ts (pages through a TCP relay it cuts), postgres.test.ts (two
 * workers, one on a Postgres cluster, with long hook timeouts), voice-messages.test.ts's
 * smallTargets (width too) and admin-dashboard.test.ts's sideways (its own scrolling box).
 */

/** The password every browser test's registered users share. */
export const PASSWORD = "correct horse battery";

export type ChromiumAppOptions = {
  /** The worker's variables; a function when they depend on what an earlier beforeAll started. */
  vars?: Record<string, string> | (() => Record<string, string>);
  /** More Chromium switches (launchChromium's `extraArgs`); a function for the same reason. */
  launchArgs?: string[] | (() => string[]);
  /** Grants each new context the clipboard at the app's origin (tests that copy secrets). */
  clipboard?: boolean;
  /** More options for each new context, e.g. `acceptDownloads` or a `timezoneId`. */
  contextOptions?: BrowserContextOptions;
};

export type ChromiumApp = {
  readonly server: TestServer;
  readonly browser: Browser;
  /** What the pages did that they must never do (see watchPage); each test expects it empty. */
  problems: string[];
  /** Console errors a scenario announces before it causes them (a refusal it asks for). */
  expectedErrors: [string, RegExp][];
  /** The contexts `open` made, in order (closed by the afterAll). */
  contexts: readonly BrowserContext[];
  /** A page in a fresh context (its own cookie jar), watched for problems, at the app's root. */
  open(name: string, viewport?: { width: number; height: number }): Promise<Page>;
  /** `open`, then signed in as the guest `name`. */
  openAsGuest(name: string, viewport?: { width: number; height: number }): Promise<Page>;
};

/**
 * Call inside a browser test's describe: registers the beforeAll that builds the UI, starts the
 * worker and launches Chromium, and the afterAll that closes them (after the file's own afterAll
 * hooks registered later, before those registered earlier: vitest runs them as a stack).
 */
export function useChromiumApp(options: ChromiumAppOptions = {}): ChromiumApp {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const app: ChromiumApp = {
    get server() {
      if (!server) throw new Error("useChromiumApp: the server is not started yet");
      return server;
    },
    get browser() {
      if (!browser) throw new Error("useChromiumApp: Chromium is not launched yet");
      return browser;
    },
    problems: [],
    expectedErrors: [],
    contexts,
    async open(name, viewport = DESKTOP) {
      const context = await app.browser.newContext({ ...options.contextOptions, viewport });
      contexts.push(context);
      context.setDefaultTimeout(20_000);
      if (options.clipboard) {
        await context.grantPermissions(["clipboard-read", "clipboard-write"], {
          origin: app.server.url,
        });
      }
      // An inline style or script the page's CSP refuses is a console error, which watchPage reports.
      await context.addInitScript(() =>
        document.addEventListener("securitypolicyviolation", (event) =>
          console.error(`CSP violation: ${event.violatedDirective} ${event.sourceFile}`),
        ),
      );
      const page = await context.newPage();
      watchPage(page, name, app.problems, app.expectedErrors);
      await page.goto(`${app.server.url}/`);
      return page;
    },
    async openAsGuest(name, viewport) {
      const page = await app.open(name, viewport);
      await guest(page, name);
      return page;
    },
  };

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(SHOTS, { recursive: true });
    const vars = typeof options.vars === "function" ? options.vars() : options.vars;
    server = await startServer(vars ? { vars } : {});
    const args =
      typeof options.launchArgs === "function" ? options.launchArgs() : options.launchArgs;
    browser = await launchChromium(args);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.dispose();
  });

  return app;
}

/** Signs `username` in (or registers them first) on the sign-in screen, with PASSWORD. */
export async function account(page: Page, username: string, register: boolean): Promise<void> {
  if (register) await page.getByTestId("mode-register").click();
  await page.getByTestId("account-username").fill(username);
  await page.getByTestId("account-password").fill(PASSWORD);
  await page.getByTestId("account-submit").click();
  await expect.poll(() => page.getByTestId("me").textContent(), WAIT).toBe(username);
}

/** Signs in as the guest `name` on the sign-in screen. */
async function guest(page: Page, name: string): Promise<void> {
  await page.getByTestId("name").fill(name);
  await page.getByTestId("sign-in").click();
  await page.getByTestId("me").waitFor();
}

/** How far the page would scroll sideways: 0 when everything fits. */
export const sideways = (page: Page) =>
  page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth);

/**
 * Visible controls in `within` smaller than a 44 px tap target, named. A checkbox is measured by
 * its label, which is what a finger hits.
 */
export const smallTargets = (within: Locator) =>
  within.locator("button, select, a.button-link, summary, input, textarea").evaluateAll((els) =>
    els
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .filter((el) => {
        const box = (
          (el as HTMLInputElement).type === "checkbox" ? el.closest("label")! : el
        ).getBoundingClientRect();
        return box.height < 44;
      })
      .map((el) => el.getAttribute("data-testid") ?? el.textContent),
  );
