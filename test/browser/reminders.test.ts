import { type Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useChromiumApp } from "./app.ts";
import { executablePath, requireChromium, WAIT } from "./chromium.ts";

/**
 * `/remind` in Debian's Chromium against the real worker (docs/automation.md, "Schedules and
 * reminders"): typing `/rem` offers `/remind`, Tab completes it; the composer sends the
 * browser's time zone (the page runs in Asia/Tokyo here), so the answer reads the time there;
 * `/remind me in 2s …` then shows the reminder, for its author alone. Skips loudly without a
 * Chromium.
 */
requireChromium();

describe.skipIf(!executablePath)("/remind in Chromium", () => {
  const app = useChromiumApp({ contextOptions: { timezoneId: "Asia/Tokyo" } });
  const { problems } = app;

  const signedIn = (name: string) => app.openAsGuest(name, { width: 1100, height: 760 });

  const compose = (page: Page) => page.getByTestId("compose");
  const ephemerals = (page: Page) =>
    page.locator("[data-testid=ephemeral] [data-testid=ephemeral-text]").allTextContents();

  it("offers /remind, reads times in the browser's zone, and shows the reminder when it is due", async () => {
    const ada = await signedIn("ada");
    await ada.getByTestId("room-name").fill("reminders");
    await ada.getByTestId("create").click();
    await expect.poll(() => compose(ada).isEnabled(), WAIT).toBe(true);

    await compose(ada).pressSequentially("/rem", { delay: 20 });
    await expect
      .poll(() => ada.getByTestId("slash-option").allTextContents(), WAIT)
      .toEqual([expect.stringMatching(/^\/remind Remind you or the room/)]);
    await compose(ada).press("Tab");
    expect(await compose(ada).inputValue()).toBe("/remind ");
    await compose(ada).pressSequentially("me tomorrow at 9:00 to water the plants", { delay: 5 });
    await compose(ada).press("Enter");
    await expect
      .poll(() => ephemerals(ada), WAIT)
      .toEqual([
        expect.stringMatching(/^I will remind you on .*, 09:00 \(Asia\/Tokyo\): water the plants/),
      ]);
    await ada.getByTestId("ephemeral-dismiss").click();

    await compose(ada).fill("/remind me in 2s to stretch");
    await compose(ada).press("Enter");
    await expect.poll(() => ephemerals(ada), WAIT).toContainEqual("⏰ Reminder: stretch");
    expect(problems).toEqual([]);
  });
});
