import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { startFakeSlack, type FakeSlack } from "../support/fake-slack.ts";
import { account, useChromiumApp } from "./app.ts";
import { executablePath, requireChromium, section, WAIT, watchPage } from "./chromium.ts";

/**
 * The Slack bridge's links in the admin dashboard (docs/integrations.md, "Slack bridge"), in
 * Debian's Chromium against the real worker and the fake Slack: an admin links a channel to a
 * room and the room's messages reach the channel; a link to a channel the bot was never invited
 * to shows Slack's `not_in_channel` and what to do; a taken channel is refused with the server's
 * words; unlinking removes the row. Skips loudly without a Chromium.
 */
requireChromium();

const APP = {
  botToken: "xoxb-5555-6666-browserTEST",
  signingSecret: "browser-slack-signing-secret-0123",
  teamId: "T0EDGE0004",
  appId: "A0EDGE0004",
  botUserId: "U0EDGEBOT4",
  botId: "B0EDGEBOT4",
};
const CHANNEL = "C0BROWSER01";
const NO_BOT = "C0BROWSER02";

describe.skipIf(!executablePath)("Slack links in Chromium", () => {
  let slack: FakeSlack;
  // The taken channel is a 409 on purpose.
  const expectedErrors: [string, RegExp][] = [["root", /409/]];

  beforeAll(async () => {
    slack = await startFakeSlack({ ...APP, channels: [CHANNEL], channelsWithoutBot: [NO_BOT] });
  });
  afterAll(async () => slack?.close());
  const app = useChromiumApp({
    vars: () => ({
      ADMIN_USERNAMES: "root",
      SLACK_SIGNING_SECRET: APP.signingSecret,
      SLACK_BOT_TOKEN: APP.botToken,
      SLACK_API_BASE: slack.apiBase,
    }),
  });
  const { problems } = app;
  beforeAll(() => slack.setEventsUrl(`${app.server.url}/api/slack/events`));

  it("an admin links a channel, sees a failure and its remedy, and unlinks", async () => {
    const context = await app.browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(20_000);
    const root = await context.newPage();
    watchPage(root, "root", problems, expectedErrors);
    const olga = await new EdgechatApi(app.server.url).signInGuest("olga");
    const olgaApi = new EdgechatApi(app.server.url, olga.token);
    const general = `general-${Date.now()}`;
    const ops = `ops-${Date.now()}`;
    await olgaApi.createRoom({ name: general });
    await olgaApi.createRoom({ name: ops });

    await root.goto(`${app.server.url}/`);
    await account(root, "root", true);
    await root.getByTestId("admin-link").click();
    await section(root, "slack");
    const card = root.locator("section.slack");
    await expect
      .poll(() => card.getByTestId("slack-links").textContent(), WAIT)
      .toContain("No Slack channel is linked.");

    await card.getByLabel("Channel id", { exact: true }).fill(CHANNEL);
    await card.getByLabel("Room", { exact: true }).fill(general);
    await card.getByTestId("slack-link").click();
    const linked = card.locator(`tr[data-channel=${CHANNEL}]`);
    await linked.waitFor();
    expect(await linked.getByRole("link").textContent()).toBe(`#${general}`);
    expect(await linked.getByTestId("slack-last-error").textContent()).toBe("none");

    // The room's message reaches the channel, under its author's name.
    await olgaApi.postMessage(general, { text: "hello Slack", clientId: crypto.randomUUID() });
    await expect.poll(() => slack.messages(CHANNEL).map((m) => m.username), WAIT).toEqual(["olga"]);

    // The same channel for another room: refused, in the server's words.
    await card.getByLabel("Channel id", { exact: true }).fill(CHANNEL);
    await card.getByLabel("Room", { exact: true }).fill(ops);
    await card.getByTestId("slack-link").click();
    await expect
      .poll(() => card.getByTestId("slack-error").textContent(), WAIT)
      .toContain(`channel ${CHANNEL} is linked to room ${general}`);

    // A channel the bot is not in: Slack's not_in_channel on the link, with the remedy.
    await card.getByLabel("Channel id", { exact: true }).fill(NO_BOT);
    await card.getByTestId("slack-link").click();
    const failing = card.locator(`tr[data-channel=${NO_BOT}]`);
    await failing.waitFor();
    await olgaApi.postMessage(ops, { text: "anyone?", clientId: crypto.randomUUID() });
    await expect
      .poll(async () => {
        await card.getByTestId("slack-refresh").click();
        return failing.getByTestId("slack-last-error").textContent();
      }, WAIT)
      .toMatch(/not_in_channel \(invite the bot: \/invite @edgechat in the channel\)/);
    expect(await failing.getAttribute("class")).toBe("bad");
    mkdirSync("test-results", { recursive: true });
    await root.screenshot({ path: "test-results/slack-links.png", fullPage: true });

    await linked.getByTestId("slack-unlink").click();
    await expect.poll(() => linked.count(), WAIT).toBe(0);
    expect(await failing.count()).toBe(1);
    await slack.settled();
    expect(slack.violations).toEqual([]);
    await context.close();
    expect(problems).toEqual([]);
  });
});
