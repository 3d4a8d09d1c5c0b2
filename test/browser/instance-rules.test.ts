import { type Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { account, PASSWORD, sideways, smallTargets, useChromiumApp } from "./app.ts";
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
 * The instance's rules in the admin dashboard (docs/automation.md, "Instance rules", "In the
 * dashboard") in Debian's Chromium against the real worker: an admin builds the rule "any message
 * with `outage` in rooms a and b gets a reply" in the rule builder (the room's own, in the
 * instance's scope: a rooms field, no incoming-webhook trigger), dry-runs it against room a's
 * history (a hit) and room c's (none: the rule's rooms leave c out), saves it; a member then
 * posts in a and sees the rule's reply, posts in c and sees none. The section at a phone's size:
 * one column, nothing sideways, 44 px targets. Screenshots in test-results/screenshots/.
 */
requireChromium();

/**
 * How long a room trusts its copy of the instance's rules: 30 s in production
 * (INSTANCE_RULES_TTL_MS), shortened here so that the rooms pick the rule up without the test
 * waiting half a minute. The worker test runs the cache on a clock it moves, at 30 s.
 */
const TTL_MS = 3_000;
const REPLY = "Status page: https://status.example";

describe.skipIf(!executablePath)("instance rules in Chromium", () => {
  const app = useChromiumApp({
    vars: { ADMIN_USERNAMES: "root", INSTANCE_RULES_TTL_MS: String(TTL_MS) },
  });
  const { open, problems } = app;

  /** The room's messages as the page shows them: author and text. */
  const messages = (page: Page) =>
    page
      .locator("[data-testid=messages] [data-testid=message]")
      .evaluateAll((els) =>
        els.map((el) => [
          el.querySelector("[data-testid=author]")?.textContent ?? "",
          el.querySelector("[data-testid=text]")?.textContent ?? "",
        ]),
      );

  async function post(page: Page, text: string): Promise<void> {
    await page.getByTestId("compose").fill(text);
    await page.getByTestId("compose").press("Enter");
    await expect
      .poll(async () => (await messages(page)).some(([, t]) => t === text), WAIT)
      .toBe(true);
  }

  it("an admin builds an instance rule, dry-runs it in two rooms, saves it, and it answers in its rooms only", async () => {
    // Three rooms of ada's, with history: an outage reported in a and in c before any rule.
    const suffix = Date.now().toString(36);
    const [a, b, c] = ["a", "b", "c"].map((name) => `${name}-${suffix}`) as [
      string,
      string,
      string,
    ];
    const api = new EdgechatApi(app.server.url);
    const ada = api.withToken((await api.signInGuest("ada")).token);
    for (const room of [a, b, c]) await ada.createRoom({ name: room });
    for (const room of [a, c])
      await ada.postMessage(room, { text: "outage on the db", clientId: crypto.randomUUID() });
    await ada.postMessage(a, { text: "all fine now", clientId: crypto.randomUUID() });

    // The dashboard's Rules section: no rules yet.
    const root = await open("root");
    await account(root, "root", true);
    await root.getByTestId("admin-link").click();
    await section(root, "rules");
    const view = root.getByTestId("instance-rules");
    await expect.poll(() => view.getByTestId("rule-list").locator("li").count(), WAIT).toBe(0);

    // The builder, in the instance's scope: a rooms field, no incoming-webhook trigger.
    await view.getByTestId("rule-new").click();
    const builder = view.locator("form.rule-builder");
    const triggers = await builder
      .getByTestId("rule-trigger")
      .locator("option")
      .evaluateAll((els) => els.map((el) => (el as HTMLOptionElement).value));
    expect(triggers).toEqual([
      "message",
      "member_joined",
      "member_left",
      "reaction",
      "schedule",
      "time",
    ]);
    await builder.getByTestId("rule-name").fill("Outage");
    await builder.getByTestId("rule-keywords").fill("outage");
    await builder.getByTestId("rule-rooms").fill(`${a}, ${b}`);
    const row = builder.locator('[data-testid=rule-action][data-index="0"]');
    await row.getByTestId("action-kind").selectOption("reply");
    await row.getByTestId("action-text").fill(REPLY);

    // A room name the contract refuses is placed by the conditions before anything is sent.
    await builder.getByTestId("rule-rooms").fill(`${a}, Not A Room`);
    await builder.getByTestId("rule-dry-run").click();
    await expect
      .poll(() => builder.getByTestId("rule-conditions-error").isVisible(), WAIT)
      .toBe(true);
    await builder.getByTestId("rule-rooms").fill(`${a}, ${b}`);

    // Dry run in a, one of the rule's rooms (offered first): ada's outage would have set it off.
    const where = builder.getByTestId("rule-dry-run-room");
    await expect.poll(() => where.inputValue(), WAIT).toBe(a);
    await builder.getByTestId("rule-dry-run").click();
    const report = builder.getByTestId("dry-run");
    const headline = report.getByTestId("dry-run-headline");
    await expect
      .poll(() => headline.textContent(), WAIT)
      .toBe(`In #${a}, of 4 recent events, this rule would have fired once.`);
    expect(await builder.getByTestId("rule-conditions-error").isVisible()).toBe(false);
    const hit = report.getByTestId("dry-run-hit");
    expect(await hit.count()).toBe(1);
    expect(await hit.textContent()).toContain("outage on the db");
    expect(await hit.locator(".would li").textContent()).toMatch(
      new RegExp(`^→ reply to #\\d+: "${REPLY.replace(/[.]/g, "\\.")}"$`),
    );

    // Dry run in c, which the rule's rooms leave out: no hits, and it says why.
    await where.selectOption(c);
    await builder.getByTestId("rule-dry-run").click();
    await expect
      .poll(() => headline.textContent(), WAIT)
      .toBe(
        `#${c} is not one of the rule's rooms: the rule never runs there, so nothing would have fired it.`,
      );
    expect(await hit.count()).toBe(0);
    await root.setViewportSize({ width: DESKTOP.width, height: 1500 });
    await root.screenshot({ path: `${SHOTS}/instance-rules-builder-desktop.png` });
    await root.setViewportSize(DESKTOP);

    // Saved: a card in words, and the status says when rooms pick it up.
    await builder.getByTestId("rule-save").click();
    const card = view.getByTestId("rule-card");
    await expect.poll(() => card.count(), WAIT).toBe(1);
    // A room that pulled the instance's rules before this (at its creation, or at a dry run) asks
    // again at its first activity once its copy is TTL_MS old (docs/automation.md, "How a room
    // gets them").
    const savedAt = Date.now();
    expect(await view.locator("form.rule-builder").count()).toBe(0);
    expect(await card.getByTestId("rule-card-name").textContent()).toBe("Outage");
    expect(await card.getByTestId("rule-trigger-text").textContent()).toBe(
      "a message mentions “outage”",
    );
    expect(await card.getByTestId("rule-conditions-text").textContent()).toBe(
      `only in #${a} or #${b}`,
    );
    expect(await card.getByTestId("rule-actions-text").textContent()).toBe(
      `reply in a thread: “${REPLY}”`,
    );
    expect(await card.getByTestId("rule-saved").textContent()).toMatch(/^by root, /);
    expect(await view.getByTestId("rules-done").textContent()).toBe(
      "Rule “Outage” saved. Rooms pick it up within 30 s.",
    );
    // The instance's rules have no undo.
    expect(await view.getByTestId("rules-undo").count()).toBe(0);
    expect(await root.evaluate(() => location.hash)).toBe("#/admin/rules");

    // On a phone, while the rooms' copies go stale: one column, nothing sideways, 44 px targets,
    // the builder open too.
    const phone = await open("root-phone", PHONE);
    await account(phone, "root", false);
    await phone.goto(`${app.server.url}/#/admin/rules`);
    const phoneView = phone.getByTestId("instance-rules");
    await phoneView.getByTestId("rule-card").waitFor();
    expect(await sideways(phone)).toBeLessThanOrEqual(0);
    expect(await smallTargets(phoneView)).toEqual([]);
    await phone.screenshot({ path: `${SHOTS}/instance-rules-phone.png`, fullPage: true });
    await phoneView.getByTestId("rule-card").getByTestId("rule-edit").click();
    const phoneBuilder = phoneView.locator("form.rule-builder");
    expect(await phoneBuilder.getByTestId("rule-rooms").inputValue()).toBe(`${a}, ${b}`);
    await phoneBuilder.getByTestId("rule-window").check();
    await phoneBuilder.getByTestId("rule-dry-run-room").waitFor();
    expect(await sideways(phone)).toBeLessThanOrEqual(0);
    expect(await smallTargets(phoneView)).toEqual([]);
    await phone.screenshot({ path: `${SHOTS}/instance-rules-phone-builder.png`, fullPage: true });
    await phoneBuilder.getByTestId("rule-cancel").click();

    // A stand-up on a schedule in a: listed on the clock with its next time, as its card says.
    await view.getByTestId("rule-new").click();
    await builder.getByTestId("rule-name").fill("Stand-up");
    await builder.getByTestId("rule-trigger").selectOption("schedule");
    await builder.getByTestId("rule-preset").selectOption({ label: "Every weekday at 9:00" });
    await builder.getByTestId("rule-zone").fill("Europe/Paris");
    await builder.getByTestId("rule-rooms").fill(a);
    await row.getByTestId("action-text").fill("Stand-up in {room}");
    await builder.getByTestId("rule-dry-run").click();
    await expect
      .poll(() => report.getByTestId("dry-run-upcoming").locator("li").count(), WAIT)
      .toBe(5);
    await builder.getByTestId("rule-save").click();
    await expect.poll(() => card.count(), WAIT).toBe(2);
    const scheduled = view.getByTestId("scheduled-rule");
    await expect.poll(() => scheduled.count(), WAIT).toBe(1);
    expect(await scheduled.textContent()).toMatch(
      /^Stand-up every weekday at 9:00 \(Europe\/Paris\)Next: .+ Europe\/Paris \(in .+\)$/,
    );
    expect(await card.last().getByTestId("rule-next").textContent()).toMatch(
      /^.+ Europe\/Paris \(in .+\)$/,
    );
    await root.setViewportSize({ width: DESKTOP.width, height: 1500 });
    await root.screenshot({ path: `${SHOTS}/instance-rules-desktop.png`, fullPage: true });
    await root.setViewportSize(DESKTOP);

    // The rooms learn of the rule at their first activity once the copy they held before it was
    // saved is stale.
    const stale = savedAt + TTL_MS + 1_000 - Date.now();
    if (stale > 0) await root.waitForTimeout(stale);

    // Bob joins a (his joining is the room's activity: it pulls the rules) and reports an outage:
    // the rule replies in its thread, as its own bot.
    const bob = await open("bob");
    await bob.getByTestId("name").fill("bob");
    await bob.getByTestId("sign-in").click();
    await bob.getByTestId("me").waitFor();
    await bob.goto(`${app.server.url}/#/room/${a}`);
    await bob.getByTestId("compose").waitFor();
    await post(bob, "outage again, the API this time");
    await expect
      .poll(() => messages(bob).then((list) => list.at(-1)), WAIT)
      .toEqual(["Rule: Outage", REPLY]);
    const reply = bob.locator("[data-testid=message]").last();
    expect(await reply.getByTestId("reply-to").textContent()).toBe(
      "↪ In reply to bob: outage again, the API this time",
    );

    // In c the same words set nothing off, even once c has pulled the rules again.
    await bob.goto(`${app.server.url}/#/room/${c}`);
    await bob.getByTestId("compose").waitFor();
    await post(bob, "outage here too");
    await post(bob, "outage, still");
    // As long as a took to answer, and more: nothing from the rule.
    await bob.waitForTimeout(3_000);
    const inC = await messages(bob);
    expect(inC.map(([, text]) => text)).toEqual([
      "outage on the db",
      "outage here too",
      "outage, still",
    ]);
    expect(inC.some(([author]) => author?.startsWith("Rule:"))).toBe(false);
    await bob.screenshot({ path: `${SHOTS}/instance-rules-room-c.png` });

    // Back in the dashboard: the outage rule switched off, the stand-up deleted once confirmed.
    const outageCard = card.first();
    await outageCard.getByTestId("rule-toggle").click();
    await expect.poll(() => outageCard.getAttribute("data-enabled"), WAIT).toBe("false");
    expect(await view.getByTestId("rules-done").textContent()).toBe(
      "Rule “Outage” turned off. Rooms pick it up within 30 s.",
    );
    const standUp = card.last();
    await standUp.getByTestId("delete").click();
    expect(await standUp.textContent()).toContain("There is no undo");
    await standUp.getByTestId("delete-confirm").click();
    await expect.poll(() => card.count(), WAIT).toBe(1);
    await expect.poll(() => scheduled.count(), WAIT).toBe(0);
    expect(await view.getByTestId("rules-done").textContent()).toBe("Rule “Stand-up” deleted.");
    const rootApi = api.withToken((await api.login("root", PASSWORD)).token);
    const listed = await rootApi.admin.rules.list();
    expect(listed.rules.map((rule) => [rule.name, rule.enabled])).toEqual([["Outage", false]]);
    expect(problems).toEqual([]);
  });
});
