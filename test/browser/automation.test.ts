import { type Locator, type Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { account, PASSWORD, sideways, smallTargets, useChromiumApp } from "./app.ts";
import { DESKTOP, executablePath, PHONE, requireChromium, SHOTS, WAIT } from "./chromium.ts";

/**
 * A room's Automation view (docs/automation.md, "In the UI") in Debian's Chromium against the real
 * worker: the owner builds the rule ("when a message mentions incident, post the runbook
 * link, ping the moderators, reply in a thread") in the rule builder, from the keyboard where it
 * matters, sees the form's problems placed by their fields, dry-runs it against the room's
 * history, saves it, posts "incident on db" and sees the rule's three answers; switches it off,
 * deletes it and takes the delete back with Undo; adds a rule on a schedule and sees it listed
 * with its next time; sets reminders (from the compose box's /remind and the panel's form) and
 * cancels one; a rule switched off on one screen shows off on another without a reload. A
 * member never sees the view. Screenshots at a desktop's size and a phone's.
 */
requireChromium();

const RUNBOOK = "Runbook: https://runbooks.example/incident";

describe.skipIf(!executablePath)("automation in Chromium", () => {
  const app = useChromiumApp();
  const { open, problems, expectedErrors } = app;

  const focused = (page: Page) =>
    page.evaluate(() => document.activeElement?.getAttribute("data-testid"));

  const texts = (page: Page) =>
    page
      .locator("[data-testid=messages] [data-testid=message] [data-testid=text]")
      .allTextContents();

  /** Sets the action at `index` of the open builder to `kind`, with `text` where it takes one. */
  async function action(builder: Locator, index: number, kind: string, text?: string) {
    const row = builder.locator(`[data-testid=rule-action][data-index="${index}"]`);
    await row.getByTestId("action-kind").selectOption(kind);
    if (text !== undefined) await row.getByTestId("action-text").fill(text);
    return row;
  }

  it("an owner builds the issue's rule, dry-runs it, saves it, and the room answers an incident", async () => {
    const room = `ops-${Date.now()}`;
    const ada = await open("ada");
    await account(ada, "ada", true);
    await ada.getByTestId("room-name").fill(room);
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();

    // History for the dry run: bob, a member, reported an incident before any rule existed.
    const api = new EdgechatApi(app.server.url);
    const bob = api.withToken((await api.signInGuest("bob")).token);
    await bob.postMessage(room, { text: "incident on cache", clientId: crypto.randomUUID() });
    await bob.postMessage(room, { text: "all good now", clientId: crypto.randomUUID() });
    await expect.poll(() => texts(ada), WAIT).toEqual(["incident on cache", "all good now"]);

    // The Automation view, from the room's controls, in place of the live room.
    await ada.getByTestId("automation-open").click();
    const view = ada.getByTestId("automation");
    await view.waitFor();
    expect(new URL(ada.url()).hash).toBe(`#/room/${room}/automation`);
    expect(await ada.getByTestId("compose").isVisible()).toBe(false);
    await expect.poll(() => view.getByTestId("rule-list").locator("li").count(), WAIT).toBe(0);

    // A new rule: the form takes the focus at its name.
    await view.getByTestId("rule-new").click();
    await expect.poll(() => focused(ada), WAIT).toBe("rule-name");
    const builder = view.locator("form.rule-builder");

    // Sent empty: each problem by its field, a summary in an alert, the focus on the first.
    await builder.getByTestId("rule-save").click();
    expect(await builder.getByTestId("rule-name-error").textContent()).toBe(
      "Give the rule a name.",
    );
    expect(await builder.getByTestId("rule-trigger-error").textContent()).toBe(
      "a message trigger needs keywords or a pattern",
    );
    expect(await builder.getByTestId("action-error").first().textContent()).toBe("text is empty");
    expect(await builder.getByTestId("rule-form-error").textContent()).toBe(
      "3 problems are shown by their fields.",
    );
    expect(await focused(ada)).toBe("rule-name");

    // The rule.
    await builder.getByTestId("rule-name").fill("Incident");
    expect(await builder.getByTestId("rule-trigger").inputValue()).toBe("message");
    await builder.getByTestId("rule-keywords").fill("incident");
    await action(builder, 0, "post", RUNBOOK);
    await builder.getByTestId("rule-add-action").click();
    await action(builder, 1, "notify", "{user} reported an incident: have a look");
    expect(await builder.locator('[data-index="1"]').getByTestId("action-role").inputValue()).toBe(
      "moderator",
    );
    await builder.getByTestId("rule-add-action").click();
    await action(builder, 2, "reply", "On it. Updates in this thread.");

    // A fourth action, moved up from the keyboard (the focus follows it), then removed.
    await builder.getByTestId("rule-add-action").click();
    expect(await focused(ada)).toBe("action-kind");
    await action(builder, 3, "react");
    await builder.locator('[data-index="3"]').getByTestId("action-emoji").fill("👀");
    await builder.locator('[data-index="3"]').getByTestId("action-up").focus();
    await ada.keyboard.press("Enter");
    const kinds = () =>
      builder
        .getByTestId("action-kind")
        .evaluateAll((els) => els.map((el) => (el as HTMLSelectElement).value));
    await expect.poll(kinds, WAIT).toEqual(["post", "notify", "react", "reply"]);
    expect(await focused(ada)).toBe("action-up");
    expect(
      await ada.evaluate(() => document.activeElement?.closest("li")?.getAttribute("data-index")),
    ).toBe("2");
    await builder.locator('[data-index="2"]').getByTestId("action-remove").click();
    await expect.poll(kinds, WAIT).toEqual(["post", "notify", "reply"]);
    // What was typed in the others stayed.
    expect(await builder.locator('[data-index="2"]').getByTestId("action-text").inputValue()).toBe(
      "On it. Updates in this thread.",
    );
    // Five at most: the Add button stops.
    for (let i = 0; i < 2; i++) await builder.getByTestId("rule-add-action").click();
    expect(await builder.getByTestId("rule-add-action").isDisabled()).toBe(true);
    for (const index of [4, 3])
      await builder.locator(`[data-index="${index}"]`).getByTestId("action-remove").click();
    await expect.poll(kinds, WAIT).toEqual(["post", "notify", "reply"]);

    // Dry run against the room's history: bob's report would have set it off, the rest not.
    await builder.getByTestId("rule-dry-run").click();
    const report = builder.getByTestId("dry-run");
    await expect
      .poll(() => report.getByTestId("dry-run-headline").textContent(), WAIT)
      .toMatch(/^Of \d+ recent events?, this rule would have fired once\.$/);
    const hit = report.getByTestId("dry-run-hit");
    expect(await hit.count()).toBe(1);
    expect(await hit.textContent()).toContain("incident on cache");
    expect(await hit.locator(".would li").count()).toBe(3);
    expect(await report.getAttribute("aria-live")).toBe("polite");
    await ada.setViewportSize({ width: DESKTOP.width, height: 1600 });
    await ada.screenshot({ path: `${SHOTS}/automation-builder-desktop.png` });
    await ada.setViewportSize(DESKTOP);

    // Saved: the card says it in words, and Undo is offered.
    await builder.getByTestId("rule-save").click();
    const card = view.getByTestId("rule-card");
    await expect.poll(() => card.count(), WAIT).toBe(1);
    expect(await view.locator("form.rule-builder").count()).toBe(0);
    expect(await focused(ada)).toBe("rule-new");
    expect(await card.getByTestId("rule-card-name").textContent()).toBe("Incident");
    expect(await card.getByTestId("rule-trigger-text").textContent()).toBe(
      "a message mentions “incident”",
    );
    expect(await card.getByTestId("rule-actions-text").textContent()).toBe(
      `post “${RUNBOOK}”; notify moderators: “{user} reported an incident: have a look”; ` +
        "reply in a thread: “On it. Updates in this thread.”",
    );
    expect(await card.getByTestId("rule-saved").textContent()).toMatch(/^by ada, /);
    expect(await view.getByTestId("rules-done").textContent()).toBe("Rule “Incident” saved.");
    expect(await view.getByTestId("rules-undo").isVisible()).toBe(true);

    // Back in the room, an incident: the rule posts the runbook, pings the moderators (the owner
    // among them) and replies to the message.
    await view.getByTestId("automation-close").click();
    await ada.getByTestId("compose").waitFor();
    await ada.getByTestId("compose").fill("incident on db");
    await ada.getByTestId("compose").press("Enter");
    await expect
      .poll(() => texts(ada), WAIT)
      .toEqual([
        "incident on cache",
        "all good now",
        "incident on db",
        RUNBOOK,
        // The notification: its text, then a line that mentions the moderators and the owner.
        expect.stringMatching(/^ada reported an incident: have a look\s+.*@ada\b/),
        "On it. Updates in this thread.",
      ]);
    const reply = ada.locator("[data-testid=message]").last();
    expect(await reply.getByTestId("reply-to").textContent()).toBe(
      "↪ In reply to ada: incident on db",
    );
    expect(await reply.getByTestId("author").textContent()).toMatch(/Incident/);
    // A post that does not mention it sets nothing off.
    await ada.getByTestId("compose").fill("coffee?");
    await ada.getByTestId("compose").press("Enter");
    await expect.poll(() => texts(ada).then((t) => t.at(-1)), WAIT).toBe("coffee?");

    // Off, then deleted (asked first), then the delete taken back with Undo.
    await ada.getByTestId("automation-open").click();
    await card.getByTestId("rule-toggle").click();
    await expect.poll(() => card.getAttribute("data-enabled"), WAIT).toBe("false");
    expect(await view.getByTestId("rules-done").textContent()).toBe("Rule “Incident” turned off.");
    await card.getByTestId("delete").click();
    await card.getByTestId("delete-confirm").click();
    await expect.poll(() => card.count(), WAIT).toBe(0);
    expect(await view.getByTestId("rules-done").textContent()).toBe("Rule “Incident” deleted.");
    await view.getByTestId("rules-undo").click();
    await expect.poll(() => card.count(), WAIT).toBe(1);
    expect(await card.getAttribute("data-enabled")).toBe("false");

    // Edit: the builder opens in the card, filled in; a refusal of the server is placed.
    await card.getByTestId("rule-edit").click();
    const edit = card.locator("form.rule-builder");
    expect(await edit.getByTestId("rule-keywords").inputValue()).toBe("incident");
    expect(await edit.getByTestId("rule-enabled").isChecked()).toBe(false);
    await edit.getByTestId("rule-pattern").fill("db(");
    // The browser logs the server's 400 as a failed load.
    expectedErrors.push(["ada", /status of 400 \(Bad Request\)/]);
    await edit.getByTestId("rule-save").click();
    // RE2 refuses it on the server (zod cannot): the refusal shows by the trigger.
    await expect
      .poll(() => edit.getByTestId("rule-trigger-error").textContent(), WAIT)
      .toMatch(/^the pattern is not valid RE2/);
    expect(await focused(ada)).toBe("rule-keywords");
    await edit.getByTestId("rule-pattern").fill("");
    await edit.getByTestId("rule-enabled").check();
    await edit.getByTestId("rule-save").click();
    await expect.poll(() => card.getAttribute("data-enabled"), WAIT).toBe("true");
    expect(await card.locator("form.rule-builder").count()).toBe(0);

    // A member has no Automation, not even by its URL.
    const carol = await open("carol");
    await carol.getByTestId("name").fill("carol");
    await carol.getByTestId("sign-in").click();
    await carol.goto(`${app.server.url}/#/room/${room}`);
    await carol.getByTestId("compose").waitFor();
    await carol.getByTestId("compose").fill("hello");
    await carol.getByTestId("compose").press("Enter");
    await carol.goto(`${app.server.url}/#/room/${room}/automation`);
    await expect.poll(() => new URL(carol.url()).hash, WAIT).toBe(`#/room/${room}`);
    expect(await carol.getByTestId("automation").count()).toBe(0);
    expect(await carol.getByTestId("automation-open").isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });

  it("schedules: a rule on a schedule with its next time, reminders set and cancelled", async () => {
    const room = `standup-${Date.now()}`;
    const ada = await open("ada2");
    await account(ada, "ada2", true);
    await ada.getByTestId("room-name").fill(room);
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();

    // A reminder from the compose box, as the user types it.
    await ada.getByTestId("compose").fill("/remind me in 2h to check the deploy");
    await ada.getByTestId("compose").press("Enter");
    await expect
      .poll(
        () => ada.locator("[data-testid=ephemeral] [data-testid=ephemeral-text]").allTextContents(),
        WAIT,
      )
      .toEqual([expect.stringMatching(/check the deploy/)]);

    await ada.goto(`${app.server.url}/#/room/${room}/automation`);
    const view = ada.getByTestId("automation");
    await view.waitFor();

    // A weekly stand-up: the preset fills the cron expression, the zone is the browser's.
    await view.getByTestId("rule-new").click();
    const builder = view.locator("form.rule-builder");
    await builder.getByTestId("rule-name").fill("Stand-up");
    await builder.getByTestId("rule-trigger").selectOption("schedule");
    expect(await builder.getByTestId("rule-preset").inputValue()).toBe("0 9 * * 1");
    await builder.getByTestId("rule-preset").selectOption({ label: "Every weekday at 9:00" });
    expect(await builder.getByTestId("rule-cron").inputValue()).toBe("0 9 * * 1-5");
    await builder.getByTestId("rule-zone").fill("Europe/Paris");
    await action(builder, 0, "post", "Stand-up time: what did you do, what will you do?");
    await builder.getByTestId("rule-dry-run").click();
    const upcoming = builder.getByTestId("dry-run-upcoming").locator("li");
    await expect.poll(() => upcoming.count(), WAIT).toBeGreaterThan(0);
    await builder.getByTestId("rule-save").click();

    const scheduled = view.getByTestId("scheduled-rule");
    await expect.poll(() => scheduled.count(), WAIT).toBe(1);
    expect(await scheduled.textContent()).toContain("every weekday at 9:00 (Europe/Paris)");
    expect(await scheduled.getByTestId("scheduled-next").textContent()).toMatch(
      /^Next: (Mon|Tue|Wed|Thu|Fri), .*09:00.* Europe\/Paris \(in \d+ (s|min|h|days)\)$/,
    );
    expect(await view.getByTestId("rule-card").getByTestId("rule-next").textContent()).toMatch(
      /\(in /,
    );

    // The reminder from /remind is listed; another, for the room, from the panel's form.
    const reminders = view.getByTestId("reminder");
    await expect.poll(() => reminders.count(), WAIT).toBe(1);
    expect(await reminders.getByTestId("reminder-text").textContent()).toBe("check the deploy");
    expect(await reminders.textContent()).toMatch(/for ada2, .*\(in (1|2) h\)/);
    await view.getByTestId("reminder-to").selectOption("here");
    await view.getByTestId("reminder-text-input").fill("retro notes");
    await view.getByTestId("reminder-when").selectOption("repeat");
    await view.getByTestId("reminder-preset").selectOption({ label: "Every day at 17:00" });
    await view.getByTestId("reminder-add").click();
    await expect.poll(() => reminders.count(), WAIT).toBe(2);
    expect(await view.getByTestId("reminders-status").textContent()).toBe(
      "Reminder “retro notes” set.",
    );
    const retro = view.locator('[data-testid=reminder][data-to="here"]');
    expect(await retro.textContent()).toMatch(/in the room, .*then every day at 17:00/);

    // Cancelled: gone from the list, and from the server.
    await view
      .locator('[data-testid=reminder][data-to="me"]')
      .getByTestId("reminder-cancel")
      .click();
    await expect.poll(() => reminders.count(), WAIT).toBe(1);
    expect(await view.getByTestId("reminders-status").textContent()).toBe(
      "Reminder “check the deploy” cancelled.",
    );
    await ada.reload();
    await view.waitFor();
    await expect.poll(() => reminders.count(), WAIT).toBe(1);
    expect(await reminders.getByTestId("reminder-text").textContent()).toBe("retro notes");
    await ada.setViewportSize({ width: DESKTOP.width, height: 1500 });
    await ada.screenshot({ path: `${SHOTS}/automation-desktop.png` });

    // On a phone: one column, nothing sideways, 44 px targets, the builder too.
    const phone = await open("ada2", PHONE);
    await phone.getByTestId("account-username").fill("ada2");
    await phone.getByTestId("account-password").fill(PASSWORD);
    await phone.getByTestId("account-submit").click();
    await phone.getByTestId("me").waitFor();
    await phone.goto(`${app.server.url}/#/room/${room}/automation`);
    const phoneView = phone.getByTestId("automation");
    await phoneView.getByTestId("rule-card").waitFor();
    expect(await sideways(phone)).toBe(0);
    await phone.screenshot({ path: `${SHOTS}/automation-phone.png` });
    await phoneView.getByTestId("rule-new").click();
    await phoneView.locator("form.rule-builder").getByTestId("rule-add-action").click();
    await phoneView.locator("form.rule-builder").getByTestId("rule-window").check();
    expect(await sideways(phone)).toBe(0);
    expect(await smallTargets(phoneView)).toEqual([]);
    await phone.screenshot({ path: `${SHOTS}/automation-phone-builder.png`, fullPage: true });

    // The view follows the room's log: switched off on the desktop, the rule shows off on the
    // phone without a reload, the phone's open form untouched.
    await phone.getByTestId("rule-name").fill("half typed");
    await view.getByTestId("rule-card").getByTestId("rule-toggle").click();
    const phoneCard = phoneView.getByTestId("rule-card");
    await expect.poll(() => phoneCard.getAttribute("data-enabled"), WAIT).toBe("false");
    expect(await phoneCard.getByTestId("rule-toggle").isChecked()).toBe(false);
    expect(await phone.getByTestId("rule-name").inputValue()).toBe("half typed");
    expect(problems).toEqual([]);
  });
});
