import { mkdirSync } from "node:fs";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import {
  ensureWebBuild,
  executablePath,
  launchChromium,
  requireChromium,
  WAIT,
  watchPage,
} from "./chromium.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../support/server.ts";

/**
 * Accounts, private rooms and moderation in the browser UI: registered users in Debian's
 * Chromium (driven by playwright-core) against the real worker. Skips loudly without a
 * Chromium; REQUIRE_BROWSER=1 makes that a failure.
 */
requireChromium();

const PASSWORD = "correct horse battery";

describe.skipIf(!executablePath)("accounts and moderation in Chromium", () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  /** Failures the scenario causes on purpose, by page name, listed before it causes them. */
  const expectedErrors: [string, RegExp][] = [];

  beforeAll(async () => {
    ensureWebBuild();
    server = await startServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.dispose();
  });

  /** A fresh browser profile (its own cookie jar and storage). */
  async function profile(viewport = { width: 1000, height: 720 }): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    return context;
  }

  async function tab(context: BrowserContext, name: string, hash = ""): Promise<Page> {
    const page = await context.newPage();
    watchPage(page, name, problems, expectedErrors);
    await page.goto(`${server.url}/${hash}`);
    return page;
  }

  async function register(page: Page, name: string): Promise<void> {
    await page.getByTestId("mode-register").click();
    await page.getByTestId("account-username").fill(name);
    await page.getByTestId("account-password").fill(PASSWORD);
    await page.getByTestId("account-submit").click();
    await expect.poll(() => page.getByTestId("me").textContent(), WAIT).toBe(name);
  }

  const texts = (page: Page) =>
    page
      .locator("[data-testid=messages] [data-testid=message] [data-testid=text]")
      .allTextContents();
  const person = (page: Page, name: string) =>
    page.locator(`[data-testid=members] li[data-name="${name}"]`);

  async function act(page: Page, name: string, action: string): Promise<void> {
    await person(page, name).getByTestId("member-actions").click();
    await person(page, name).getByTestId(action).click();
  }

  async function openRoom(page: Page, room: string): Promise<void> {
    await page.getByTestId("go-name").fill(room);
    await page.getByTestId("go").click();
  }

  it("registered users keep their session, share a private room, moderate, and sign out everywhere", async () => {
    // ada registers; she is no guest.
    const adaProfile = await profile();
    const ada = await tab(adaProfile, "ada");
    await register(ada, "ada");
    expect(await ada.getByTestId("guest-marker").count()).toBe(0);

    // A reload keeps her signed in through the HttpOnly refresh cookie alone: even with the
    // stored access token spoiled, /api/auth/refresh signs her in again.
    const cookies = await adaProfile.cookies();
    const refresh = cookies.find((c) => c.name === "edgechat_refresh");
    expect(refresh, "the refresh cookie was stored over http://127.0.0.1").toBeDefined();
    expect(refresh).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
      path: "/api/auth",
    });
    expect(await ada.evaluate<string>("document.cookie")).not.toContain("edgechat_refresh");
    await ada.evaluate(() => {
      const session = JSON.parse(localStorage.getItem("edgechat.session") ?? "{}") as object;
      localStorage.setItem("edgechat.session", JSON.stringify({ ...session, token: "spoiled" }));
    });
    await ada.reload();
    await expect.poll(() => ada.getByTestId("me").textContent(), WAIT).toBe("ada");
    await ada.getByTestId("room-name").waitFor();
    expect(await ada.getByTestId("account-username").count()).toBe(0);
    expect(await ada.evaluate(() => localStorage.getItem("edgechat.session"))).not.toContain(
      "spoiled",
    );

    // She creates a private room and lands in it as its owner.
    await ada.getByTestId("room-name").fill("secret");
    await ada.getByTestId("room-topic").fill("members only");
    await ada.getByTestId("visibility-private").check();
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();
    await expect
      .poll(() => person(ada, "ada").getByTestId("role").textContent(), WAIT)
      .toBe("owner");

    // bob and carol register in their own profiles; the room is in nobody's list.
    const bob = await tab(await profile(), "bob");
    await register(bob, "bob");
    const carol = await tab(await profile({ width: 390, height: 844 }), "carol");
    await register(carol, "carol");
    await carol.getByTestId("refresh").click();
    await carol.locator("[data-testid=rooms] li").first().waitFor();
    expect(await carol.locator("[data-testid=rooms] [data-room=secret]").count()).toBe(0);

    // carol cannot open it by URL either: not found.
    expectedErrors.push(["carol", /status of 404/]);
    await openRoom(carol, "secret");
    await carol.getByTestId("fatal").waitFor();
    expect(await carol.getByTestId("fatal").textContent()).toMatch(/no such room|not found/i);

    // ada invites bob; he opens the room by name and they chat.
    await ada.getByTestId("invite-name").fill("bob");
    await ada.getByTestId("invite-submit").click();
    await expect
      .poll(() => ada.getByTestId("invite-status").textContent(), WAIT)
      .toBe("Invited bob.");
    await expect.poll(() => person(ada, "bob").count(), WAIT).toBe(1);
    await openRoom(bob, "secret");
    await bob.getByTestId("compose").waitFor();
    await expect.poll(() => bob.getByTestId("topic").textContent(), WAIT).toBe("members only");
    await bob.getByTestId("compose").fill("hi from bob");
    await bob.getByTestId("compose").press("Enter");
    await expect.poll(() => texts(ada), WAIT).toEqual(["hi from bob"]);
    await expect.poll(() => person(ada, "bob").getAttribute("data-online"), WAIT).toBe("true");
    // A plain member gets no moderation controls.
    expect(await bob.getByTestId("invite-submit").isVisible()).toBe(false);
    expect(await person(bob, "ada").getByTestId("member-actions").count()).toBe(0);

    // ada makes bob a moderator; both see the badge, and bob gets the controls.
    await act(ada, "bob", "act-promote");
    await expect
      .poll(() => person(bob, "bob").getByTestId("role").textContent(), WAIT)
      .toBe("moderator");
    await expect
      .poll(() => person(ada, "bob").getByTestId("role").textContent(), WAIT)
      .toBe("moderator");
    await bob.getByTestId("invite-submit").waitFor();
    await bob.getByTestId("slow-mode").waitFor();
    // Only the owner names moderators.
    expect(
      await bob.locator("[data-testid=invite-role] option[value=moderator]").isDisabled(),
    ).toBe(true);

    // ada invites carol, who can open the room now.
    await ada.getByTestId("invite-name").fill("carol");
    await ada.getByTestId("invite-submit").click();
    await expect.poll(() => person(bob, "carol").count(), WAIT).toBe(1);
    await carol.getByTestId("fatal-back").click();
    await openRoom(carol, "secret");
    await carol.getByTestId("compose").waitFor();
    await carol.getByTestId("compose").fill("thanks for having me");
    await carol.getByTestId("compose").press("Enter");
    await expect.poll(async () => (await texts(bob)).at(-1), WAIT).toBe("thanks for having me");

    // bob (moderator) may delete carol's message, and bans her: she is sent back with the reason.
    await bob
      .locator("[data-testid=messages] [data-testid=message]", { hasText: "thanks for having me" })
      .getByTestId("delete")
      .click();
    await expect.poll(async () => (await texts(ada)).at(-1), WAIT).toBe("message deleted");
    await act(bob, "carol", "act-ban");
    await carol.getByTestId("flash").waitFor();
    expect(await carol.getByTestId("flash").textContent()).toMatch(/removed from #secret.*banned/i);
    expect(new URL(carol.url()).hash).toBe("#/");
    await expect.poll(() => person(ada, "carol").count(), WAIT).toBe(0);
    await ada.locator("[data-testid=banned] li", { hasText: "carol" }).waitFor();

    mkdirSync("test-results", { recursive: true });
    await ada.screenshot({ path: "test-results/accounts.png" });

    // ada signs in on a second device too. Changing her password here ends every other
    // session: that device's socket is closed (4401), renewing fails, and it asks her to sign in;
    // this tab's socket is closed too, renews with the new session and carries on.
    const adaPhone = await tab(await profile({ width: 390, height: 844 }), "ada-phone");
    await adaPhone.getByTestId("account-username").fill("ada");
    await adaPhone.getByTestId("account-password").fill(PASSWORD);
    await adaPhone.getByTestId("account-submit").click();
    await openRoom(adaPhone, "secret");
    await adaPhone.getByTestId("compose").waitFor();
    // This device never saw the ban happen: its list of bans comes from the server's.
    await adaPhone
      .locator("[data-testid=banned] li", { hasText: "carol" })
      .waitFor({ state: "attached" });
    expectedErrors.push(["ada-phone", /status of 401/]);
    await ada.getByTestId("account-menu").click();
    await ada.getByTestId("pw-current").fill(PASSWORD);
    await ada.getByTestId("pw-new").fill("a brand new password");
    await ada.getByTestId("pw-submit").click();
    await adaPhone.getByTestId("account-username").waitFor({ timeout: 10_000 });
    await expect.poll(() => ada.getByTestId("compose").isEnabled(), WAIT).toBe(true);
    await ada.getByTestId("compose").fill("new password, same me");
    await ada.getByTestId("compose").press("Enter");
    await expect.poll(async () => (await texts(bob)).at(-1), WAIT).toBe("new password, same me");

    // ada has the room open in a second tab; she signs out in the first. The second tab's
    // socket is closed by the server (4401) and it goes to the sign-in screen within seconds.
    const ada2 = await tab(adaProfile, "ada2", "#/room/secret");
    await ada2.getByTestId("compose").waitFor();
    expectedErrors.push(["ada2", /status of 401/], ["ada", /status of 401/]);
    const started = Date.now();
    await ada.getByTestId("sign-out").click();
    await ada.getByTestId("account-username").waitFor();
    await ada2.getByTestId("account-username").waitFor({ timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await adaProfile.cookies()).some((c) => c.name === "edgechat_refresh")).toBe(false);
    await expect.poll(() => person(bob, "ada").getAttribute("data-online"), WAIT).toBe("false");

    expect(problems).toEqual([]);
  });

  it("shows the server's refusals at sign-in: a taken name, a wrong password, then the wait", async () => {
    const page = await tab(await profile(), "dave");
    await register(page, "dave");
    await page.getByTestId("sign-out").click();
    await page.getByTestId("account-username").waitFor();

    expectedErrors.push(["dave", /status of (409|401|429)/]);
    await page.getByTestId("mode-register").click();
    await page.getByTestId("account-username").fill("dave");
    await page.getByTestId("account-password").fill(PASSWORD);
    await page.getByTestId("account-submit").click();
    await expect.poll(() => page.getByTestId("account-error").textContent(), WAIT).toMatch(/taken/);

    await page.getByTestId("mode-login").click();
    await page.getByTestId("account-password").fill("not the password");
    await page.getByTestId("account-submit").click();
    await expect
      .poll(() => page.getByTestId("account-error").textContent(), WAIT)
      .toBe("wrong username or password");
    // Five wrong passwords lock the account for a while: the form says how long, and waits.
    const waiting = async () =>
      /try again in \d+ s/.test((await page.getByTestId("account-error").textContent()) ?? "");
    for (let i = 0; i < 10 && !(await waiting()); i += 1) {
      await page.getByTestId("account-submit").click();
      await expect
        .poll(
          async () => (await page.getByTestId("account-submit").isEnabled()) || (await waiting()),
          WAIT,
        )
        .toBe(true);
    }
    await expect
      .poll(() => page.getByTestId("account-error").textContent(), WAIT)
      .toMatch(/try again in \d+ s/);
    expect(await page.getByTestId("account-submit").isDisabled()).toBe(true);
    expect(await page.getByTestId("account-submit").textContent()).toMatch(/Wait \d+ s/);

    // Guests keep working, marked as guests, and cannot create private rooms.
    await page.getByTestId("name").fill("gus");
    await page.getByTestId("sign-in").click();
    await expect.poll(() => page.getByTestId("me").textContent(), WAIT).toBe("gus");
    expect(await page.getByTestId("guest-marker").textContent()).toContain("guest");
    expect(await page.getByTestId("visibility-private").isDisabled()).toBe(true);

    expect(problems).toEqual([]);
  });
});
