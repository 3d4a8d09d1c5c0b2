import { mkdirSync } from "node:fs";
import { type Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { account, useChromiumApp } from "./app.ts";
import { executablePath, requireChromium, section, WAIT, watchPage } from "./chromium.ts";

/**
 * The instance audit log in the admin dashboard, in Debian's Chromium against the real worker
 * (without Postgres: the log itself answers). Skips loudly without a Chromium.
 */
requireChromium();

describe.skipIf(!executablePath)("the audit log in Chromium", () => {
  // Without Postgres the dashboard's replica and backlog panels get 503s, on purpose.
  const expectedErrors: [string, RegExp][] = [["root", /503/]];

  const app = useChromiumApp({ vars: { ADMIN_USERNAMES: "root" } });
  const { problems } = app;

  const rows = (page: Page) => page.getByTestId("audit-entry");

  it("an admin browses, filters and pages the log, and verifies its chain", async () => {
    const context = await app.browser.newContext({ viewport: { width: 1200, height: 800 } });
    context.setDefaultTimeout(20_000);
    const root = await context.newPage();
    watchPage(root, "root", problems, expectedErrors);
    await root.goto(`${app.server.url}/`);
    await account(root, "root", true);

    // More guest sign-ins than a page holds, so that "Load older" has something to load.
    const api = new EdgechatApi(app.server.url);
    for (let i = 0; i < 55; i++) await api.signInGuest(`crowd${i}`);
    // Then, elsewhere: someone guesses root's password, and a moderator bans a guest.
    const guess = await fetch(`${app.server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "198.51.100.5" },
      body: JSON.stringify({ username: "root", password: "a wrong guess" }),
    });
    expect(guess.status).toBe(401);
    const olga = await api.signInGuest("olga");
    const bob = await api.signInGuest("bob");
    const room = `audit-${Date.now()}`;
    const asOlga = api.withToken(olga.token);
    await asOlga.createRoom({ name: room });
    await api.withToken(bob.token).postMessage(room, { text: "hi", clientId: "b1" });
    await asOlga.command(room, { type: "ban", clientId: "ban-1", userId: bob.user.id });

    await root.getByTestId("admin-link").click();
    await section(root, "audit");
    const failed = rows(root).and(root.locator('[data-action="auth.sign_in_failed"]'));
    await expect.poll(() => failed.count(), WAIT).toBe(1);
    expect(await failed.getByTestId("audit-ip").textContent()).toBe("198.51.100.5");
    expect(await failed.textContent()).toContain("reason: bad_credentials");

    // Filter by action: only the ban, with who banned whom where.
    await root.getByTestId("audit-action").selectOption("member.banned");
    await root.getByTestId("audit-filter").click();
    await expect.poll(() => rows(root).count(), WAIT).toBe(1);
    const ban = await rows(root).first().textContent();
    expect(ban).toContain("olga");
    expect(ban).toContain(`#${room}`);
    expect(ban).toContain(bob.user.id);

    // By actor and time: bob's sign-in, not before the test began.
    await root.getByTestId("audit-action").selectOption("");
    await root.getByTestId("audit-actor").fill(bob.user.id);
    await root.getByTestId("audit-filter").click();
    await expect
      .poll(
        () => rows(root).evaluateAll((all) => all.map((row) => row.getAttribute("data-action"))),
        WAIT,
      )
      .toEqual(["auth.guest_signed_in"]);
    await root.getByTestId("audit-until").fill("2001-01-01T00:00:00");
    await root.getByTestId("audit-filter").click();
    await expect
      .poll(() => root.getByTestId("audit-entries").textContent(), WAIT)
      .toContain("No entries match");

    // Page through the guests: 50, then the older ones after "Load older".
    await root.getByTestId("audit-actor").fill("");
    await root.getByTestId("audit-until").fill("");
    await root.getByTestId("audit-action").selectOption("auth.guest_signed_in");
    await root.getByTestId("audit-filter").click();
    await expect.poll(() => rows(root).count(), WAIT).toBe(50);
    await root.getByTestId("audit-older").click();
    await expect.poll(() => rows(root).count(), WAIT).toBe(57); // 55 crowd, olga and bob
    expect(await root.getByTestId("audit-older").isHidden()).toBe(true);
    const seqs = await rows(root).evaluateAll((all) =>
      all.map((row) => Number(row.getAttribute("data-seq"))),
    );
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));

    await root.getByTestId("audit-verify-button").click();
    await expect
      .poll(() => root.getByTestId("audit-verify").getAttribute("data-ok"), WAIT)
      .toBe("true");
    expect(await root.getByTestId("audit-verify").textContent()).toMatch(
      /^Chain verified: \d+ entries/,
    );

    mkdirSync("test-results", { recursive: true });
    await root.screenshot({ path: "test-results/audit-log.png", fullPage: true });

    // Any room's log, by name (the Rooms section): the room olga made verifies; a room that
    // does not exist is said so.
    await section(root, "rooms");
    await root.getByTestId("verify-room-name").fill(room);
    await root.getByTestId("verify-room").click();
    await expect
      .poll(() => root.getByTestId("verify-room-result").getAttribute("data-ok"), WAIT)
      .toBe("true");
    expect(await root.getByTestId("verify-room-result").textContent()).toMatch(
      new RegExp(`^#${room}: Intact: 5 events`),
    );
    expectedErrors.push(["root", /404/]);
    await root.getByTestId("verify-room-name").fill("no-such-room-here");
    await root.getByTestId("verify-room").click();
    await expect
      .poll(() => root.getByTestId("verify-room-result").textContent(), WAIT)
      .toMatch(/^#no-such-room-here: .*no such room/);
    await context.close();
    expect(problems).toEqual([]);
  });
});
