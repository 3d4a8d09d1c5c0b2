import { type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlashServer, type SlashServer } from "../support/slash-server.ts";
import { useChromiumApp } from "./app.ts";
import { executablePath, requireChromium, WAIT } from "./chromium.ts";

/**
 * Slash commands in Debian's Chromium against the real worker (docs/integrations.md): typing
 * `/to` offers `/topic`, Tab completes it, Enter runs it and the topic changes; the owner adds a
 * custom /deploy in the room's Integrations panel (its secrets shown once), and `/deploy
 * status` shows an answer only its caller sees, as does a later follow-up through its
 * response_url. Skips loudly without a Chromium.
 */
requireChromium();

describe.skipIf(!executablePath)("slash commands in Chromium", () => {
  let commands: SlashServer;
  beforeAll(async () => {
    commands = await startSlashServer();
  });
  afterAll(async () => commands?.close());
  const app = useChromiumApp({ vars: { WEBHOOK_ALLOW_LOOPBACK: "true" } });
  const { problems } = app;

  const signedIn = (name: string) => app.openAsGuest(name, { width: 1100, height: 760 });

  const compose = (page: Page) => page.getByTestId("compose");
  const ephemerals = (page: Page) =>
    page.locator("[data-testid=ephemeral] [data-testid=ephemeral-text]").allTextContents();

  it("typing /to offers /topic, Tab completes it, Enter runs it; /deploy status answers for its caller alone", async () => {
    const ada = await signedIn("ada");
    await ada.getByTestId("room-name").fill("launch");
    await ada.getByTestId("create").click();
    // The box takes text once the room is found, as a person waits to see.
    await expect.poll(() => compose(ada).isEnabled(), WAIT).toBe(true);

    // Completion: the list while the name is typed, the usage hint, Tab to take it.
    await compose(ada).pressSequentially("/to", { delay: 20 });
    const options = ada.getByTestId("slash-option");
    await expect
      .poll(() => options.allTextContents(), WAIT)
      .toEqual([expect.stringMatching(/^\/topic Change the room's topic/)]);
    expect(await ada.getByTestId("slash-hint").textContent()).toMatch(/^\/topic <text>/);
    await compose(ada).press("Tab");
    expect(await compose(ada).inputValue()).toBe("/topic ");
    await expect.poll(() => ada.getByTestId("slash-menu").isHidden(), WAIT).toBe(true);
    await compose(ada).pressSequentially("Launch day", { delay: 10 });
    await compose(ada).press("Enter");
    await expect.poll(() => ada.getByTestId("topic").textContent(), WAIT).toBe("Launch day");
    expect(await compose(ada).inputValue()).toBe("");

    // Arrow keys move through the list; Enter takes the chosen one.
    await compose(ada).pressSequentially("/", { delay: 20 });
    await expect.poll(() => options.count(), WAIT).toBeGreaterThan(5);
    await compose(ada).press("ArrowDown");
    await compose(ada).press("ArrowDown");
    const chosen = await ada
      .locator("[data-testid=slash-option][aria-selected=true] .name")
      .textContent();
    await compose(ada).press("Enter");
    expect(await compose(ada).inputValue()).toBe(`${chosen} `);
    await compose(ada).fill("");

    // A usage mistake is an ephemeral answer, not a message.
    await compose(ada).fill("/mute nobody forever");
    await compose(ada).press("Enter");
    await expect
      .poll(() => ephemerals(ada), WAIT)
      .toEqual([expect.stringMatching(/a mute lasts.*Usage: \/mute/)]);
    await ada.getByTestId("ephemeral-dismiss").click();
    await expect.poll(() => ephemerals(ada), WAIT).toEqual([]);

    // The owner adds /deploy in the room's Integrations panel; its secrets are shown once.
    await ada.getByTestId("integrations-open").click();
    await ada.getByTestId("slash-name").fill("deploy");
    await ada.getByTestId("slash-url").fill(commands.url("/deploy"));
    await ada.getByTestId("slash-description").fill("Deploys, and tells how it went");
    await ada.getByTestId("slash-usage").fill("status | <branch>");
    await ada.getByTestId("slash-bot").fill("deploybot");
    await ada.getByTestId("slash-save").click();
    await ada.getByTestId("slash-secret").waitFor();
    const signingSecret = await ada.getByTestId("slash-secret").inputValue();
    const verificationToken = await ada.getByTestId("slash-token").inputValue();
    commands.expect("/deploy", { signingSecret, verificationToken });
    await expect
      .poll(() => ada.locator("[data-testid=slash-command]").getAttribute("data-name"), WAIT)
      .toBe("deploy");
    await ada.getByTestId("integrations-close").click();
    await expect.poll(() => compose(ada).isVisible(), WAIT).toBe(true);

    commands.on("/deploy", ({ fields }) =>
      fields.text === "status"
        ? { body: { response_type: "ephemeral", text: "production is on v42, healthy" } }
        : {},
    );
    await compose(ada).pressSequentially("/dep", { delay: 20 });
    await expect
      .poll(() => options.allTextContents(), WAIT)
      .toEqual([expect.stringMatching(/^\/deploy Deploys/)]);
    await compose(ada).press("Tab");
    await expect
      .poll(() => ada.getByTestId("slash-hint").textContent(), WAIT)
      .toMatch(/^\/deploy status \| <branch>/);
    await compose(ada).pressSequentially("status", { delay: 10 });
    await compose(ada).press("Enter");
    await expect.poll(() => ephemerals(ada), WAIT).toEqual(["production is on v42, healthy"]);
    expect(await ada.locator("[data-testid=ephemeral]").textContent()).toContain(
      "Only you can see this",
    );
    // Nothing went into the room's log.
    expect(await ada.locator("[data-testid=messages] [data-testid=message]").count()).toBe(0);

    // An empty answer, then a follow-up through the response_url: over the socket, to ada alone.
    await compose(ada).fill("/deploy main");
    await compose(ada).press("Enter");
    await expect.poll(() => commands.at("/deploy").length, WAIT).toBe(2);
    const responseUrl = commands.at("/deploy")[1]!.fields.response_url;
    const followUp = await fetch(responseUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "main is deployed" }),
    });
    expect(followUp.status).toBe(200);
    await expect
      .poll(() => ephemerals(ada), WAIT)
      .toEqual(["production is on v42, healthy", "main is deployed"]);
    expect(await ada.locator("[data-testid=ephemeral] .author").last().textContent()).toBe(
      "deploybot",
    );
    expect(commands.violations).toEqual([]);
    expect(problems).toEqual([]);
  });
});
