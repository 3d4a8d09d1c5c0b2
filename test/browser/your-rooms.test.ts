import { mkdirSync } from "node:fs";
import { type Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { EdgechatApi, PostMessageDocument } from "../../src/client/index.ts";
import { PASSWORD, useChromiumApp } from "./app.ts";
import { executablePath, requireChromium, WAIT } from "./chromium.ts";

/**
 * The lobby's "Your rooms" with unread counts, the UI's one screen on GraphQL (me.rooms through
 * the SDK's typed YourRooms document), in Debian's Chromium against the real worker: counts
 * appear when someone else posts and clear when the room is read. Skips loudly without a
 * Chromium; REQUIRE_BROWSER=1 makes that a failure.
 */
requireChromium();

describe.skipIf(!executablePath)("your rooms with unread counts in Chromium", () => {
  const app = useChromiumApp();
  const { problems } = app;
  let bob: EdgechatApi;

  beforeAll(async () => {
    // bob is another user, through the SDK: he owns the rooms and posts in them.
    const session = await new EdgechatApi(app.server.url).register("bob", PASSWORD);
    bob = new EdgechatApi(app.server.url, session.token);
    await bob.createRoom({ name: "alpha", topic: "the busy one" });
    await bob.createRoom({ name: "beta" });
  });

  const tab = (name: string) => app.open(name, { width: 1000, height: 720 });

  /** Opens a room by name from the lobby, waits until it has joined, and goes back. */
  async function visit(page: Page, room: string): Promise<void> {
    await page.getByTestId("go-name").fill(room);
    await page.getByTestId("go").click();
    // Joined once the socket's welcome shows its user online (the composer shows before).
    await page.locator("[data-testid=members] li[data-online=true]").first().waitFor();
    await page.locator("header h1 a").click();
    await page.getByTestId("your-rooms").waitFor();
  }

  const line = (page: Page, room: string) =>
    page.locator(`[data-testid=your-rooms] [data-testid=your-room][data-your-room="${room}"]`);
  /** What the lobby says of a room's unread messages: the count, "none", or "absent". */
  const unread = async (page: Page, room: string) => {
    if ((await line(page, room).count()) === 0) return "absent";
    const badge = line(page, room).getByTestId("unread");
    return (await badge.count()) === 0 ? "none" : await badge.textContent();
  };
  const refreshed = async (page: Page) => {
    await page.getByTestId("your-rooms-refresh").click();
    await expect.poll(() => page.getByTestId("your-rooms-refresh").isEnabled(), WAIT).toBe(true);
  };

  const post = (room: string, clientId: string, text: string) =>
    bob.graphql(PostMessageDocument, { room, clientId, text });

  it("a registered user: counts appear in the lobby when bob posts, and clear when the room is read", async () => {
    const ada = await tab("ada");
    await ada.getByTestId("mode-register").click();
    await ada.getByTestId("account-username").fill("ada");
    await ada.getByTestId("account-password").fill(PASSWORD);
    await ada.getByTestId("account-submit").click();
    await expect.poll(() => ada.getByTestId("me").textContent(), WAIT).toBe("ada");
    await expect.poll(() => ada.locator("[data-testid=your-rooms] li.empty").count(), WAIT).toBe(1);

    // ada joins both rooms by opening them.
    await visit(ada, "alpha");
    await visit(ada, "beta");
    await expect.poll(() => unread(ada, "alpha"), WAIT).toBe("none");
    expect(await unread(ada, "beta")).toBe("none");

    // bob posts twice in alpha; the lobby shows 2 there and nothing in beta.
    await post("alpha", "b1", "anyone here?");
    await post("alpha", "b2", "hello ada");
    await refreshed(ada);
    await expect.poll(() => unread(ada, "alpha"), WAIT).toBe("2 unread messages");
    expect(await unread(ada, "beta")).toBe("none");
    expect(await line(ada, "alpha").getAttribute("data-unread")).toBe("2");
    expect(await line(ada, "beta").getAttribute("data-unread")).toBe("0");
    // The most recently active room comes first, with its topic.
    expect(
      await ada
        .locator("[data-testid=your-room]")
        .evaluateAll((els) => els.map((el) => el.getAttribute("data-your-room"))),
    ).toEqual(["alpha", "beta"]);
    await expect(line(ada, "alpha").locator(".topic").textContent()).resolves.toBe("the busy one");
    mkdirSync("test-results", { recursive: true });
    await ada.screenshot({ path: "test-results/your-rooms.png" });

    // She reads alpha: the newest message in view marks it read; back in the lobby, nothing is new.
    await line(ada, "alpha").getByRole("link", { name: "#alpha" }).click();
    await ada
      .locator("[data-testid=messages] [data-testid=message]", { hasText: "hello ada" })
      .waitFor();
    await ada.locator("header h1 a").click();
    // The read frame may reach the room a moment after the lobby asks: ask again until it has.
    await expect
      .poll(async () => {
        await refreshed(ada);
        return unread(ada, "alpha");
      }, WAIT)
      .toBe("none");
    expect(await line(ada, "alpha").getAttribute("data-unread")).toBe("0");
    expect(problems).toEqual([]);
  });

  it("a guest: the lobby names the rooms this browser remembers, and counts them too", async () => {
    const gus = await tab("gus");
    await gus.getByTestId("name").fill("gus");
    await gus.getByTestId("sign-in").click();
    await gus.getByTestId("me").waitFor();
    await visit(gus, "beta");
    await expect.poll(() => unread(gus, "beta"), WAIT).toBe("none");
    // alpha, never opened here, is not his.
    expect(await unread(gus, "alpha")).toBe("absent");
    await post("beta", "b3", "welcome, gus");
    await refreshed(gus);
    await expect.poll(() => unread(gus, "beta"), WAIT).toBe("1 unread message");
    expect(problems).toEqual([]);
  });
});
