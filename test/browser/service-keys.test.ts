import { mkdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { account, useChromiumApp } from "./app.ts";
import { executablePath, requireChromium, section, WAIT, watchPage } from "./chromium.ts";

/**
 * Service accounts in the admin dashboard (docs/service-keys.md), in Debian's Chromium against
 * the real worker: an admin creates a service, copies its key (shown once), the key posts over
 * REST and the message shows the service as its author; rotation without overlap ends the old
 * key, revocation the new one, and the scope is edited in place. Skips loudly without a Chromium.
 */
requireChromium();

describe.skipIf(!executablePath)("service accounts in Chromium", () => {
  // Without Postgres the dashboard's replica and backlog panels get 503s, on purpose; the bad
  // scope at the end is a 400 on purpose. The refused keys are the test's own calls, from Node.
  const expectedErrors: [string, RegExp][] = [
    ["root", /503/],
    ["root", /400/],
  ];

  const app = useChromiumApp({ vars: { ADMIN_USERNAMES: "root" } });
  const { problems } = app;

  const postAs = (key: string, room: string, text: string) =>
    fetch(`${app.server.url}/api/rooms/${room}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text, clientId: crypto.randomUUID() }),
    });

  it("an admin creates a service, copies its key, and the key posts as the service", async () => {
    const context = await app.browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: app.server.url,
    });
    context.setDefaultTimeout(20_000);
    const root = await context.newPage();
    watchPage(root, "root", problems, expectedErrors);

    const olga = await new EdgechatApi(app.server.url).signInGuest("olga");
    const room = `deploys-${Date.now()}`;
    await new EdgechatApi(app.server.url, olga.token).createRoom({ name: room });

    await root.goto(`${app.server.url}/`);
    await account(root, "root", true);
    await root.getByTestId("admin-link").click();
    await section(root, "services");

    // Create: a name, its room, post (checked by default) and react, as a member.
    const card = root.locator("section.services");
    await card.getByLabel("Name").fill("deploybot");
    await card.getByTestId("service-rooms").first().fill(room);
    await card.getByTestId("action-react").first().check();
    await card.getByTestId("service-create").click();

    // The key, once, with the warning; copied with the button.
    const keyBox = card.getByTestId("service-key");
    await expect.poll(() => keyBox.inputValue(), WAIT).toMatch(/^ecsk_[0-9a-f]{16}_/);
    expect(await card.getByTestId("service-key-warning").textContent()).toMatch(/only this once/);
    await card.getByTestId("service-key-copy").click();
    await expect
      .poll(() => card.getByTestId("service-key-copied").textContent(), WAIT)
      .toBe("Copied.");
    const key = await root.evaluate(() => navigator.clipboard.readText());
    expect(key).toBe(await keyBox.inputValue());
    const row = card.locator('tr[data-service="deploybot"]');
    expect(await row.getByTestId("scope").textContent()).toBe(`#${room} · member · post, react`);
    await card.getByTestId("service-key-done").click();
    expect(await keyBox.count()).toBe(0);

    // The copied key posts over REST; the room shows the message by the service.
    const posted = await postAs(key, room, "deploy 42 is live");
    expect(posted.status, await posted.clone().text()).toBe(201);
    const chat = await context.newPage();
    watchPage(chat, "root", problems, expectedErrors);
    await chat.goto(`${app.server.url}/#/room/${room}`);
    const message = chat.locator(".message", { hasText: "deploy 42 is live" });
    await expect.poll(() => message.count(), WAIT).toBe(1);
    expect(await message.getByTestId("author").textContent()).toBe("deploybot");
    expect(await message.getByTestId("service-badge").textContent()).toBe("bot");
    mkdirSync("test-results", { recursive: true });
    await chat.screenshot({ path: "test-results/service-message.png" });

    // Last used is shown once the key was used (the list is reloaded after any change).
    await root.reload();
    await expect
      .poll(() => row.locator("li[data-status=active]").textContent(), WAIT)
      .not.toContain("last used never");

    // Rotate without overlap: a new key shown once, the old one refused at once.
    await row.getByTestId("overlap").selectOption({ label: "none" });
    await row.getByTestId("rotate").click();
    await expect.poll(() => keyBox.inputValue(), WAIT).not.toBe(key);
    const next = await keyBox.inputValue();
    expect((await postAs(key, room, "old key")).status).toBe(401);
    expect((await postAs(next, room, "new key")).status).toBe(201);
    await expect.poll(() => row.locator("li[data-status=expired]").count(), WAIT).toBe(1);

    // Revoke the new key: refused at once.
    await row.locator("li[data-status=active]").getByTestId("revoke").click();
    await expect.poll(() => row.locator("li[data-status=revoked]").count(), WAIT).toBe(1);
    expect((await postAs(next, room, "revoked key")).status).toBe(401);

    // Edit the scope in place: every room, as a moderator with kick.
    await row.getByTestId("edit-scope").click();
    const editor = card.locator("tr.scope-edit:not([hidden])");
    await editor.getByTestId("service-rooms").fill("*");
    await editor.getByTestId("service-role").selectOption("moderator");
    await editor.getByTestId("action-kick").check();
    await root.screenshot({ path: "test-results/services.png", fullPage: true });
    await editor.getByTestId("scope-save").click();
    await expect
      .poll(() => row.getByTestId("scope").textContent(), WAIT)
      .toBe("every room · moderator · post, react, kick");

    // A bad scope is refused with the server's words.
    await row.getByTestId("edit-scope").click();
    await editor.getByTestId("service-role").selectOption("member");
    await editor.getByTestId("scope-save").click();
    await expect
      .poll(() => card.getByTestId("services-error").textContent(), WAIT)
      .toMatch(/needs the moderator role/);
    expect(problems).toEqual([]);
    await context.close();
  });
});
