import { type Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import WS from "ws";
import { EdgechatApi } from "../../src/client/index.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "../../src/protocol/index.ts";
import { useChromiumApp } from "./app.ts";
import { executablePath, PHONE, requireChromium, WAIT, watchPage } from "./chromium.ts";

/**
 * Users' own bots (docs/integrations.md, "Bots") in Debian's Chromium against the real worker:
 * a registered user opens "Your bots" from the account menu, makes a bot for a room they own
 * (only their rooms are offered), copies its key (shown once), the key posts and the message
 * carries the bot badge, as does the bot in the people list while its socket is open and in
 * the banned list once its owner bans it; the page is one column with 44 px targets and no
 * sideways scroll on a phone (390×844); deleting the bot asks first, then its key is refused.
 * Skips loudly without a Chromium.
 */
requireChromium();

const SHOTS = "test-results";

describe.skipIf(!executablePath)("bots in Chromium", () => {
  const sockets: WS[] = [];
  const app = useChromiumApp();
  const { problems } = app;
  // Registered after useChromiumApp, so it runs first: the bots' sockets close before the worker.
  afterAll(() => {
    for (const socket of sockets) socket.terminate();
  });

  const postAs = (key: string, room: string, text: string) =>
    fetch(`${app.server.url}/api/rooms/${room}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text, clientId: crypto.randomUUID() }),
    });

  /** A chat socket with the bot's key, the way a bot connects, open until the test ends. */
  async function botSocket(key: string, room: string): Promise<WS> {
    const url = `${app.server.url.replace(/^http/, "ws")}/api/rooms/${room}/ws`;
    const socket = new WS(url, [SUBPROTOCOL, BEARER_PREFIX + key]);
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return socket;
  }

  /** How far the page would scroll sideways (0 when it fits), and its targets under 44 px. */
  const layout = (page: Page) =>
    page.evaluate(() => {
      const sideways = document.scrollingElement!.scrollWidth - window.innerWidth;
      const small = [...document.querySelectorAll("main.bots button, main.bots select")]
        .filter((el) => (el as HTMLElement).offsetParent !== null)
        .map((el) => [el.textContent?.trim() ?? el.tagName, el.getBoundingClientRect().height])
        .filter(([, height]) => (height as number) < 44);
      return { sideways, small };
    });

  it("a user makes a bot for their room, copies its key; its message and its line carry the badge", async () => {
    const api = new EdgechatApi(app.server.url);
    const olga = api.withToken((await api.register("olga", "olga's password 1")).token);
    const nina = api.withToken((await api.register("nina", "nina's password 1")).token);
    const room = `builds-${Date.now()}`;
    const other = `elsewhere-${Date.now()}`;
    await olga.createRoom({ name: room });
    await nina.createRoom({ name: other });
    await olga.postMessage(other, { text: "hi", clientId: "join" }); // a member there, not its owner

    const context = await app.browser.newContext({ viewport: PHONE });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: app.server.url,
    });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    watchPage(page, "olga", problems, []);
    await page.goto(`${app.server.url}/`);
    await page.getByTestId("account-username").fill("olga");
    await page.getByTestId("account-password").fill("olga's password 1");
    await page.getByTestId("account-submit").click();
    await expect.poll(() => page.getByTestId("me").textContent(), WAIT).toBe("olga");

    // The account menu leads to the page.
    await page.getByTestId("account-menu").click();
    await page.getByTestId("bots-link").click();
    await page.locator("main.bots").waitFor();
    await expect
      .poll(() => page.getByTestId("bots-count").textContent(), WAIT)
      .toBe("0 of 10 bots.");
    // Only the rooms she owns are offered.
    const offered = page.locator("form.service-form [data-testid=bot-room]");
    await expect.poll(() => offered.count(), WAIT).toBe(1);
    expect(await offered.getAttribute("data-room")).toBe(room);

    await page.getByTestId("bot-name").fill("buildbot");
    await offered.check();
    await page.getByTestId("action-react").first().check();
    await page.getByTestId("bot-create").click();

    // The key, once, with the warning; copied with the button.
    const keyBox = page.getByTestId("service-key");
    await expect.poll(() => keyBox.inputValue(), WAIT).toMatch(/^ecsk_[0-9a-f]{16}_/);
    expect(await page.getByTestId("service-key-warning").textContent()).toMatch(
      /only this once.*acts as the bot/,
    );
    await page.getByTestId("service-key-copy").click();
    await expect
      .poll(() => page.getByTestId("service-key-copied").textContent(), WAIT)
      .toBe("Copied.");
    const key = await page.evaluate(() => navigator.clipboard.readText());
    expect(key).toBe(await keyBox.inputValue());
    const card = page.locator('li.bot[data-bot="buildbot"]');
    expect(await card.getByTestId("scope").textContent()).toBe(`#${room} · member · post, react`);
    expect(await card.getByTestId("service-badge").textContent()).toBe("bot");
    expect(await page.getByTestId("bots-count").textContent()).toBe("1 of 10 bots.");
    // One column, 44 px targets, nothing to scroll sideways: with the key shown, and with the
    // scope editor and the delete question open.
    expect(await layout(page)).toEqual({ sideways: 0, small: [] });
    await page.screenshot({ path: `${SHOTS}/bots-phone.png`, fullPage: true });
    await page.getByTestId("service-key-done").click();
    await card.getByTestId("edit-scope").click();
    await card.getByTestId("delete").click();
    expect(await layout(page)).toEqual({ sideways: 0, small: [] });
    await card.screenshot({ path: `${SHOTS}/bot-card-phone.png` });
    await card.getByTestId("delete-cancel").click();
    await card.getByTestId("edit-scope").click();

    // The copied key posts; the chat shows the message with the bot badge, and the bot in the
    // people list, badge and all, while its socket is open.
    expect((await postAs(key, room, "build 42 passed")).status).toBe(201);
    await botSocket(key, room);
    const chat = await context.newPage();
    await chat.setViewportSize({ width: 1280, height: 900 });
    watchPage(chat, "olga", problems, []);
    await chat.goto(`${app.server.url}/#/room/${room}`);
    const message = chat.locator(".message", { hasText: "build 42 passed" });
    await expect.poll(() => message.count(), WAIT).toBe(1);
    expect(await message.getByTestId("author").textContent()).toBe("buildbot");
    expect(await message.getByTestId("service-badge").textContent()).toBe("bot");
    const line = chat.locator(`[data-testid=members] li[data-name="buildbot"]`);
    await expect.poll(() => line.getAttribute("data-online"), WAIT).toBe("true");
    expect(await line.getByTestId("service-badge").textContent()).toBe("bot");
    await chat.screenshot({ path: `${SHOTS}/bot-message.png` });

    // Its owner bans it from the people list, like anyone: it shows among the banned, a bot.
    await line.getByTestId("member-actions").click();
    await line.getByTestId("act-ban").click();
    const banned = chat.locator("[data-testid=banned] li");
    await expect.poll(() => banned.count(), WAIT).toBe(1);
    expect(await banned.getByTestId("service-badge").textContent()).toBe("bot");
    expect((await postAs(key, room, "let me in")).status).toBe(403);

    // Deleting asks first; then the bot is gone and its key refused.
    await page.bringToFront();
    await card.getByTestId("delete").click();
    expect(await card.locator(".confirm-delete [role=alert]").textContent()).toMatch(
      /Delete buildbot for good\?/,
    );
    await card.getByTestId("delete-confirm").click();
    await expect.poll(() => card.count(), WAIT).toBe(0);
    expect(await page.getByTestId("bots-count").textContent()).toBe("0 of 10 bots.");
    expect((await postAs(key, room, "still here?")).status).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });
});
