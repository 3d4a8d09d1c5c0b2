import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type Locator, type Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { account, sideways, smallTargets, useChromiumApp } from "./app.ts";
import { DESKTOP, executablePath, PHONE, requireChromium, SHOTS, WAIT } from "./chromium.ts";

/**
 * Incoming webhooks in the UI (docs/integrations.md, "Managing incoming webhooks in the UI"), in
 * Debian's Chromium against the real worker: a room's owner makes one in the room's Integrations
 * panel and copies its URL from the page; the test posts a Slack-style body to that URL, and the
 * curl command the page shows is run as pasted; the messages appear in the room's timeline under
 * the hook's bot, with the bot badge. Revoked in the UI, after a confirmation, the URL answers
 * 404. A member never sees the panel, nor does their page ask the API about hooks. On a phone
 * (390×844) and by keyboard: nothing sideways, 44 px targets, the focus where it should be.
 * Screenshots in test-results/screenshots/incoming-webhooks-*.png.
 */
requireChromium();

const CURL = ["/usr/bin/curl", "/bin/curl"].find((path) => existsSync(path));

describe.skipIf(!executablePath)("incoming webhooks in Chromium", () => {
  const app = useChromiumApp({ clipboard: true });
  const { open, problems } = app;

  const focused = (page: Page) =>
    page.evaluate(() => document.activeElement?.getAttribute("data-testid"));

  /** A message of the timeline by its text: its author's name and whether it has the bot badge. */
  async function authorOf(page: Page, text: string) {
    const message = page.getByTestId("message").filter({ hasText: text });
    await message.waitFor();
    return {
      name: await message.getByTestId("author").textContent(),
      bot: await message.getByTestId("service-badge").isVisible(),
    };
  }

  /** Makes a hook named `name` in the open panel from the keyboard; answers its card. */
  async function makeHook(page: Page, name: string): Promise<Locator> {
    const panel = page.getByTestId("incoming-webhooks");
    await panel.getByTestId("incoming-add").focus();
    await page.keyboard.press("Enter");
    // The form takes the focus at its field.
    await expect.poll(() => focused(page), WAIT).toBe("incoming-name-input");
    await page.keyboard.type(name);
    await page.keyboard.press("Enter");
    // The URL, shown once, takes the focus.
    await expect.poll(() => focused(page), WAIT).toBe("incoming-url");
    const card = panel.locator(`li.incoming-hook`).filter({ hasText: name });
    await card.waitFor();
    return card;
  }

  it("an owner makes a hook, copies its URL, posts through it, revokes it; a member never sees it", async () => {
    const room = `inhooks-${Date.now()}`;

    // ada registers, creates the room, and opens its Integrations from the room's controls.
    const ada = await open("ada");
    await account(ada, "ada", true);
    await ada.getByTestId("room-name").fill(room);
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();
    await ada.getByTestId("integrations-open").click();
    const panel = ada.getByTestId("incoming-webhooks");
    await panel.waitFor();
    expect(await panel.getByRole("heading").textContent()).toBe("Incoming webhooks");
    // A sibling of the outgoing webhooks' section, in the same panel.
    expect(await ada.getByTestId("integrations").getByTestId("webhooks").isVisible()).toBe(true);
    await expect
      .poll(() => panel.getByText("No incoming webhooks yet.").isVisible(), WAIT)
      .toBe(true);

    // A name is needed: the form says so and keeps the focus.
    await panel.getByTestId("incoming-add").click();
    await panel.getByTestId("incoming-save").click();
    expect(await panel.getByTestId("incoming-form-error").textContent()).toMatch(/Enter a name/);
    expect(await focused(ada)).toBe("incoming-name-input");
    // Cancel gives the focus back; then the same from the keyboard.
    await panel.getByTestId("incoming-cancel").click();
    expect(await focused(ada)).toBe("incoming-add");
    const card = await makeHook(ada, "Deploys");

    // The URL, once, with its warning; Copy puts it on the clipboard.
    const box = panel.getByTestId("incoming-url");
    const url = await box.inputValue();
    expect(url).toMatch(
      new RegExp(`^${app.server.url}/api/hooks/${room}/ih_[0-9a-f]{24}/[A-Za-z0-9_-]{43}$`),
    );
    expect(await panel.getByTestId("incoming-url-warning").textContent()).toMatch(
      /shown only this once/,
    );
    await panel.getByTestId("incoming-url-copy").click();
    await expect
      .poll(() => panel.getByTestId("incoming-url-copied").textContent(), WAIT)
      .toBe("Copied.");
    const copied = await ada.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(url);

    // The curl command under it uses that URL and is copied whole.
    const example = await panel.getByTestId("incoming-url-example").textContent();
    expect(example).toContain(`'${url}'`);
    await panel.getByTestId("incoming-url-example-copy").click();
    await expect
      .poll(() => panel.getByTestId("incoming-url-copied").textContent(), WAIT)
      .toBe("Example copied.");
    expect(await ada.evaluate(() => navigator.clipboard.readText())).toBe(example);
    await ada.screenshot({ path: `${SHOTS}/incoming-webhooks-desktop-url.png` });

    // The card: its name, the bot badge and its id, active, made by ada, never used yet.
    expect(await card.getByTestId("incoming-name").textContent()).toBe("Deploys");
    expect(await card.getByTestId("service-badge").isVisible()).toBe(true);
    const botId = await card.getByTestId("incoming-bot").textContent();
    expect(botId).toMatch(/^svc_[0-9a-f]{32}$/);
    expect(await card.getByTestId("incoming-status").textContent()).toBe("active");
    expect(await card.getByTestId("incoming-created").textContent()).toMatch(/^by ada, /);
    expect(await card.getByTestId("incoming-last-used").textContent()).toBe("never");
    expect(await panel.getByTestId("incoming-count").textContent()).toBe("1 of 20 working.");

    // Done puts the URL away for good, and the focus back on the button that makes one.
    await panel.getByTestId("incoming-url-done").click();
    expect(await box.count()).toBe(0);
    expect(await focused(ada)).toBe("incoming-add");

    // A CI system posts a Slack-style body to the copied URL; the page's curl command, pasted
    // into a shell, posts too.
    const response = await fetch(copied, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "Build #42 passed", username: "CI" }),
    });
    expect([response.status, await response.text()]).toEqual([200, "ok"]);
    if (CURL)
      expect(execFileSync("sh", ["-c", `${example} --silent`], { encoding: "utf8" })).toBe("ok");

    await panel.getByTestId("incoming-refresh").click();
    await expect
      .poll(() => card.getByTestId("incoming-last-used").textContent(), WAIT)
      .not.toBe("never");

    // In the room's timeline: the hook's bot, under the body's username or the hook's name.
    await ada.getByTestId("integrations-close").click();
    await ada.getByTestId("compose").waitFor();
    expect(await authorOf(ada, "Build #42 passed")).toEqual({ name: "CI", bot: true });
    if (CURL)
      expect(await authorOf(ada, "Hello from Deploys")).toEqual({ name: "Deploys", bot: true });

    // bob, a member, reads it; he has no Integrations, not even by its URL, and his page never
    // asks the API about hooks.
    const bob = await open("bob");
    const asked: string[] = [];
    bob.on("request", (request) => {
      if (request.url().includes("incoming-webhooks")) asked.push(request.url());
    });
    await bob.getByTestId("name").fill("bob");
    await bob.getByTestId("sign-in").click();
    await bob.goto(`${app.server.url}/#/room/${room}`);
    await bob.getByTestId("compose").waitFor();
    expect(await authorOf(bob, "Build #42 passed")).toEqual({ name: "CI", bot: true });
    await bob.goto(`${app.server.url}/#/room/${room}/integrations`);
    await expect.poll(() => new URL(bob.url()).hash, WAIT).toBe(`#/room/${room}`);
    expect(await bob.getByTestId("incoming-webhooks").count()).toBe(0);
    expect(await bob.getByTestId("integrations-open").isVisible()).toBe(false);
    expect(asked).toEqual([]);

    // Revoke, after a confirmation (taken back once, the safe choice focused first, then done).
    await ada.getByTestId("integrations-open").click();
    await card.getByTestId("revoke").click();
    expect(await card.getByRole("alert").textContent()).toMatch(
      /^Revoke the incoming webhook Deploys for good\? Its URL answers 404/,
    );
    expect(await focused(ada)).toBe("revoke-cancel");
    await ada.keyboard.press("Enter");
    expect(await card.getByTestId("incoming-status").textContent()).toBe("active");
    expect(await focused(ada)).toBe("revoke");
    await card.getByTestId("revoke").click();
    await card.getByTestId("revoke-confirm").click();
    await expect
      .poll(() => card.getByTestId("incoming-status").textContent(), WAIT)
      .toBe("revoked just now");
    expect(await card.getAttribute("data-status")).toBe("revoked");
    expect(await card.getByTestId("revoke").count()).toBe(0);
    expect(await panel.getByTestId("incoming-done").textContent()).toBe(
      "Revoked Deploys: its URL answers 404 now.",
    );
    expect(await focused(ada)).toBe("incoming-add");
    expect(await panel.getByTestId("incoming-count").textContent()).toBe("0 of 20 working.");
    const refused = await fetch(copied, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "after the revoke", username: "CI" }),
    });
    expect(refused.status).toBe(404);
    await ada.setViewportSize({ width: DESKTOP.width, height: 1400 });
    await ada.screenshot({ path: `${SHOTS}/incoming-webhooks-desktop.png` });

    // On a phone: one column, nothing sideways, targets of 44 px, with the form, the URL and
    // its curl command shown.
    const phone = await open("ada", PHONE);
    await account(phone, "ada", false);
    await phone.goto(`${app.server.url}/#/room/${room}/integrations`);
    const phonePanel = phone.getByTestId("incoming-webhooks");
    await phonePanel.locator("li.incoming-hook").first().waitFor();
    await phonePanel.getByTestId("incoming-add").click();
    expect(await sideways(phone)).toBe(0);
    expect(await smallTargets(phone.getByTestId("integrations"))).toEqual([]);
    await phone.keyboard.type("Alerts from a monitoring system with a long name");
    await phone.keyboard.press("Enter");
    await phonePanel.getByTestId("incoming-url-example").waitFor();
    await phonePanel.getByTestId("incoming-url-reveal").scrollIntoViewIfNeeded();
    expect(await sideways(phone)).toBe(0);
    expect(await smallTargets(phone.getByTestId("integrations"))).toEqual([]);
    await phone.screenshot({ path: `${SHOTS}/incoming-webhooks-phone-url.png` });
    await phonePanel.getByTestId("incoming-url-done").click();
    await phonePanel.locator("li.incoming-hook").last().getByTestId("revoke").click();
    expect(await sideways(phone)).toBe(0);
    await phone.screenshot({ path: `${SHOTS}/incoming-webhooks-phone.png`, fullPage: true });

    expect(problems).toEqual([]);
  });
});
