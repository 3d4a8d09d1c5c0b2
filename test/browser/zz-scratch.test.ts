import { afterAll, beforeAll, it } from "vitest";
import { startServer, type TestServer } from "../support/server.ts";
import { launchChromium, DESKTOP, PHONE } from "./chromium.ts";
import type { Browser } from "playwright-core";

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

it("looks", async () => {
  for (const [name, viewport] of [
    ["desk", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    const page = await (await browser.newContext({ viewport })).newPage();
    page.on("console", (m) => console.log(name, "console", m.type(), m.text()));
    page.on("pageerror", (e) => console.log(name, "pageerror", e.message));
    await page.goto(server.url);
    await page.getByTestId("mode-register").click();
    await page.getByTestId("account-username").fill("ada" + name);
    await page.getByTestId("account-password").fill("correct horse battery");
    await page.getByTestId("account-submit").click();
    await page.getByTestId("me").waitFor();
    await page.getByTestId("room-name").fill("ops" + name);
    await page.getByTestId("create").click();
    await page.getByTestId("compose").waitFor();
    await page.getByTestId("automation-open").click();
    await page.getByTestId("automation").waitFor();
    await page.getByTestId("rule-new").click();
    await page.getByTestId("rule-save").click();
    await page.getByTestId("rule-add-action").click();
    await page.locator('[data-index="1"]').getByTestId("action-kind").selectOption("webhook");
    await page.getByTestId("rule-window").check();
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `/tmp/ui-${name}.png`, fullPage: true });
    await page.getByTestId("rule-trigger").selectOption("schedule");
    await page.getByTestId("rule-name").fill("x");
    await page.getByTestId("rule-dry-run").click();
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `/tmp/ui-${name}-2.png`, fullPage: true });
    await page.goto(server.url + "/#/admin/plugins");
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `/tmp/ui-${name}-admin.png`, fullPage: true });
  }
}, 120_000);
