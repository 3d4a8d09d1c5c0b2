import { type Locator, type Page } from "playwright-core";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { account, sideways, smallTargets, useChromiumApp } from "./app.ts";
import {
  DESKTOP,
  executablePath,
  PHONE,
  requireChromium,
  section,
  SHOTS,
  WAIT,
} from "./chromium.ts";

/**
 * Outgoing webhooks in the UI (docs/integrations.md, "Managing webhooks in the UI"), in Debian's
 * Chromium against the real worker and its local queues, with a receiver on this machine: a
 * room's owner adds a webhook in the room's Integrations panel, copies its secret (which verifies
 * what the receiver gets), watches deliveries go through, then, with the receiver down, retry and
 * go dead, and replays one once it is back; pages, filters, edits, disables, rotates, deletes. A
 * member never sees the panel. An admin does the same for the instance in the dashboard.
 * Screenshots at a desktop size and at a phone's (390×844) in test-results/screenshots/.
 */
requireChromium();

/** A receiver's answer with markup in it: the log must show it as text. */
const HOSTILE_ANSWER = '<img src=x onerror="alert(1)"><b>down for maintenance</b>';

describe.skipIf(!executablePath)("webhooks in Chromium", () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => receiver?.close());
  const app = useChromiumApp({
    vars: {
      ADMIN_USERNAMES: "root",
      WEBHOOK_ALLOW_LOOPBACK: "true",
      WEBHOOK_RETRY_DELAYS: "1,1,1",
    },
    clipboard: true,
  });
  const { open, problems } = app;

  /** The statuses of the deliveries shown in `log`, newest first. */
  const statuses = (log: Locator) =>
    log
      .locator("li.delivery")
      .evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.status));

  /** Adds a webhook with the panel's form and copies its secret; answers the secret. */
  async function addWebhook(
    page: Page,
    url: string,
    types: string[] | "*",
    description: string,
  ): Promise<string> {
    const panel = page.getByTestId("webhooks");
    await panel.getByTestId("webhook-add").click();
    // The form takes the focus at its first field.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid")), WAIT)
      .toBe("webhook-url");
    await panel.getByTestId("webhook-url").fill(url);
    if (types !== "*") {
      await panel.getByTestId("webhook-all-events").uncheck();
      for (const type of types) await panel.getByTestId(`event-${type}`).check();
    }
    await panel.getByTestId("webhook-description").fill(description);
    await panel.getByTestId("webhook-save").click();

    const secretBox = panel.getByTestId("webhook-secret");
    await expect.poll(() => secretBox.inputValue(), WAIT).toMatch(/^whsec_/);
    expect(await panel.getByTestId("webhook-secret-warning").textContent()).toMatch(
      /only this once/,
    );
    await panel.getByTestId("webhook-secret-copy").click();
    await expect
      .poll(() => panel.getByTestId("webhook-secret-copied").textContent(), WAIT)
      .toBe("Copied.");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(await secretBox.inputValue());
    await panel.getByTestId("webhook-secret-done").click();
    expect(await secretBox.count()).toBe(0);
    return copied;
  }

  it("a room's owner adds a webhook, watches deliveries retry, die and replay; a member never sees it", async () => {
    const room = `hooks-${Date.now()}`;
    const path = `/ui-${room}`;
    let up = true;
    receiver.answer(path, () => (up ? 200 : { status: 503, body: HOSTILE_ANSWER }));

    // ada registers, creates the room, and opens its Integrations from the room's controls.
    const ada = await open("ada");
    await account(ada, "ada", true);
    await ada.getByTestId("room-name").fill(room);
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();
    await ada.getByTestId("integrations-open").click();
    await ada.getByTestId("integrations").waitFor();
    expect(new URL(ada.url()).hash).toBe(`#/room/${room}/integrations`);
    expect(await ada.getByTestId("compose").isVisible()).toBe(false);

    const secret = await addWebhook(ada, receiver.url(path), ["message.posted"], "CI bot");
    const card = ada.locator("[data-testid=webhook-list] li.webhook");
    expect(await card.count()).toBe(1);
    expect(await card.getByTestId("webhook-url-text").textContent()).toBe(receiver.url(path));
    expect(await card.getByTestId("webhook-status").textContent()).toBe("enabled");
    expect(await card.getByTestId("webhook-events").textContent()).toBe("message.posted");

    // bob, a member, posts; he has no Integrations, not even by its URL.
    const bob = await open("bob");
    await bob.getByTestId("name").fill("bob");
    await bob.getByTestId("sign-in").click();
    await bob.goto(`${app.server.url}/#/room/${room}`);
    await bob.getByTestId("compose").waitFor();
    for (const text of ["one", "two"]) {
      await bob.getByTestId("compose").fill(text);
      await bob.getByTestId("compose").press("Enter");
    }
    await bob.goto(`${app.server.url}/#/room/${room}/integrations`);
    await expect.poll(() => new URL(bob.url()).hash, WAIT).toBe(`#/room/${room}`);
    expect(await bob.getByTestId("integrations").count()).toBe(0);
    expect(await bob.getByTestId("integrations-open").isVisible()).toBe(false);
    expect(await bob.getByTestId("compose").isVisible()).toBe(true);

    // The log: both delivered, signed with the secret ada copied.
    await card.getByTestId("webhook-deliveries").click();
    const log = card.getByTestId("delivery-log");
    await expect.poll(() => statuses(log), WAIT).toEqual(["delivered", "delivered"]);
    for (const request of receiver.at(path))
      new StandardWebhook(secret).verify(request.body, request.headers);
    const first = log.locator("li.delivery").first();
    await first.getByTestId("delivery-tries").click();
    expect(await first.getByTestId("delivery-try").textContent()).toMatch(/HTTP 200 · \d/);
    expect(await card.getByTestId("webhook-last-success").textContent()).not.toBe("never");

    // The receiver goes down: the next delivery retries on the schedule, then goes dead.
    up = false;
    await bob.getByTestId("compose").fill("three");
    await bob.getByTestId("compose").press("Enter");
    const newest = log.locator("li.delivery").first();
    await expect.poll(() => newest.getAttribute("data-status"), WAIT).toBe("retrying");
    expect(await newest.getByTestId("delivery-detail").textContent()).toMatch(/^next try at /);
    await expect
      .poll(() => newest.getAttribute("data-status"), { ...WAIT, timeout: 30_000 })
      .toBe("dead");
    await newest.getByTestId("delivery-tries").click();
    const tries = newest.getByTestId("delivery-try");
    expect(await tries.count()).toBe(4);
    expect(await tries.first().textContent()).toMatch(/HTTP 503/);
    // The receiver's answer, markup and all, as text: no element came of it.
    expect(await newest.getByTestId("delivery-answer").first().textContent()).toBe(HOSTILE_ANSWER);
    expect(await newest.locator(".answer img, .answer b").count()).toBe(0);
    await expect.poll(() => card.getByTestId("webhook-failures").textContent(), WAIT).toBe("4");

    // Filtered by status.
    const filter = log.getByTestId("deliveries-filter");
    await filter.selectOption("dead");
    await expect.poll(() => statuses(log), WAIT).toEqual(["dead"]);
    await filter.selectOption("delivered");
    await expect.poll(() => statuses(log), WAIT).toEqual(["delivered", "delivered"]);
    await filter.selectOption("");
    await expect.poll(() => statuses(log), WAIT).toEqual(["dead", "delivered", "delivered"]);
    // Its tries stayed open through the filters.
    expect(await log.locator("li.delivery").first().getByTestId("delivery-try").count()).toBe(4);
    // The panel scrolls inside the page: a tall window shows all of it.
    await ada.setViewportSize({ width: DESKTOP.width, height: 1500 });
    await ada.screenshot({ path: `${SHOTS}/webhooks-room-desktop.png` });
    await ada.setViewportSize(DESKTOP);

    // Back up, the dead one is replayed from the keyboard, with its webhook-id, and delivered.
    up = true;
    const deadId = receiver.at(path).at(-1)!.headers["webhook-id"];
    await log.locator("li.delivery").first().getByTestId("delivery-replay").focus();
    await ada.keyboard.press("Enter");
    await expect.poll(() => statuses(log), WAIT).toEqual(["delivered", "delivered", "delivered"]);
    expect(receiver.at(path).at(-1)!.headers["webhook-id"]).toBe(deadId);
    expect(receiver.at(path).at(-1)!.answered).toBe(200);
    await expect.poll(() => card.getByTestId("webhook-failures").textContent(), WAIT).toBe("0");

    // Paging: 20 more posts, 20 a page, the rest behind "Older deliveries".
    const carol = new EdgechatApi(app.server.url);
    const poster = carol.withToken((await carol.signInGuest("carol")).token);
    for (let i = 0; i < 20; i++)
      await poster.postMessage(room, { text: `bulk ${i}`, clientId: crypto.randomUUID() });
    await expect
      .poll(async () => (await statuses(log)).filter((s) => s === "delivered").length, WAIT)
      .toBe(20);
    await log.getByTestId("deliveries-older").click();
    await expect.poll(() => statuses(log).then((s) => s.length), WAIT).toBe(23);
    expect(await log.getByTestId("deliveries-older").isVisible()).toBe(false);

    // On a phone: one column, nothing sideways, tap targets of 44 px.
    const phone = await open("ada", PHONE);
    await account(phone, "ada", false);
    await phone.goto(`${app.server.url}/#/room/${room}/integrations`);
    const phoneCard = phone.locator("[data-testid=webhook-list] li.webhook");
    await phoneCard.getByTestId("webhook-deliveries").click();
    await expect
      .poll(() => statuses(phoneCard.getByTestId("delivery-log")).then((s) => s.length), WAIT)
      .toBe(20);
    await phoneCard.locator("li.delivery").first().getByTestId("delivery-tries").click();
    await phoneCard.getByTestId("delivery-log").scrollIntoViewIfNeeded();
    expect(await sideways(phone)).toBe(0);
    await phone.screenshot({ path: `${SHOTS}/webhooks-room-phone.png` });
    await phone.getByTestId("webhook-add").click();
    expect(await sideways(phone)).toBe(0);
    expect(await smallTargets(phone.getByTestId("integrations"))).toEqual([]);
    await phone.screenshot({ path: `${SHOTS}/webhooks-room-phone-form.png` });
    await phone.getByTestId("webhook-cancel").click();
    await phone.getByTestId("integrations-close").click();
    await phone.getByTestId("compose").waitFor();

    // Edit: every event, a new description.
    await card.getByTestId("webhook-edit").click();
    await card.getByTestId("webhook-all-events").check();
    await card.getByTestId("webhook-description").fill("every event");
    await card.getByTestId("webhook-save").click();
    await expect
      .poll(() => card.getByTestId("webhook-events").textContent(), WAIT)
      .toBe("all events");
    expect(await card.locator(".webhook-description").textContent()).toBe("every event");

    // Disable (the reason shows), enable.
    await card.getByTestId("webhook-toggle").click();
    await expect
      .poll(() => card.getByTestId("webhook-status").textContent(), WAIT)
      .toBe("disabled by hand");
    expect(await card.getAttribute("data-status")).toBe("disabled");
    await card.getByTestId("webhook-toggle").click();
    await expect.poll(() => card.getByTestId("webhook-status").textContent(), WAIT).toBe("enabled");

    // Rotate without overlap: a new secret once, the only one that signs.
    await card.getByTestId("webhook-overlap").selectOption({ label: "none" });
    await card.getByTestId("webhook-rotate").click();
    const rotated = ada.getByTestId("webhook-secret");
    await expect.poll(() => rotated.inputValue(), WAIT).toMatch(/^whsec_/);
    const next = await rotated.inputValue();
    expect(next).not.toBe(secret);
    await expect
      .poll(() => card.getByTestId("webhook-secrets").textContent(), WAIT)
      .toBe(`${next.slice(0, 10)}…`);
    await ada.getByTestId("webhook-secret-done").click();

    // Delete, after a confirmation (kept once, then done).
    await card.getByTestId("delete").click();
    await card.getByTestId("delete-cancel").click();
    expect(await card.count()).toBe(1);
    await card.getByTestId("delete").click();
    await card.getByTestId("delete-confirm").click();
    await expect.poll(() => card.count(), WAIT).toBe(0);
    expect(await ada.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe(
      "webhook-add",
    );

    // Back to the room: the panel goes, the socket stayed (no reconnect banner, compose ready).
    await ada.getByTestId("integrations-close").click();
    await ada.getByTestId("compose").waitFor();
    expect(await ada.getByTestId("integrations").count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it("an admin manages the instance's webhooks in the dashboard: every room's events", async () => {
    const path = `/instance-${Date.now()}`;
    const root = await open("root");
    await account(root, "root", true);
    await root.getByTestId("admin-link").click();
    await section(root, "webhooks");
    await addWebhook(root, receiver.url(path), ["room.topic_changed"], "topic mirror");

    const api = new EdgechatApi(app.server.url);
    const owner = api.withToken((await api.signInGuest("olga")).token);
    const rooms = [`north-${Date.now()}`, `south-${Date.now()}`];
    for (const name of rooms) {
      await owner.createRoom({ name });
      await owner.command(name, { type: "topic", clientId: crypto.randomUUID(), topic: name });
    }
    const card = root.locator("[data-testid=webhook-list] li.webhook");
    await card.getByTestId("webhook-deliveries").click();
    const log = card.getByTestId("delivery-log");
    await expect.poll(() => statuses(log), WAIT).toEqual(["delivered", "delivered"]);
    // The instance's deliveries name their room.
    const lines = await log.locator(".delivery-line").allTextContents();
    for (const name of rooms) expect(lines.some((line) => line.includes(`#${name}`))).toBe(true);
    await root.screenshot({ path: `${SHOTS}/webhooks-admin-desktop.png`, fullPage: true });

    const phone = await open("root", PHONE);
    await account(phone, "root", false);
    await phone.goto(`${app.server.url}/#/admin/webhooks`);
    await phone
      .locator("[data-testid=webhook-list] li.webhook")
      .getByTestId("webhook-deliveries")
      .click();
    await phone.locator("li.delivery").first().waitFor();
    expect(await sideways(phone)).toBe(0);
    expect(await smallTargets(phone.getByTestId("webhooks"))).toEqual([]);
    await phone.screenshot({ path: `${SHOTS}/webhooks-admin-phone.png`, fullPage: true });
    // Its log would go on asking about the webhook deleted below (a 404 in its console).
    await phone.context().close();

    await card.getByTestId("delete").click();
    await card.getByTestId("delete-confirm").click();
    await expect.poll(() => card.count(), WAIT).toBe(0);
    expect(problems).toEqual([]);
  });
});
