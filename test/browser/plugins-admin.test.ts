import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundlePlugin } from "../../scripts/plugin-bundle.ts";
import { account, sideways, useChromiumApp } from "./app.ts";
import { executablePath, PHONE, requireChromium, section, SHOTS, WAIT } from "./chromium.ts";

/**
 * Plugins in the UI (docs/plugins.md, "In the UI") in Debian's Chromium against the real worker
 * and its Worker Loader: an admin uploads a plugin's bundle (a tiny plugin of its own, bundled
 * here as `npm run plugin:bundle` bundles one), sees a broken bundle refused with the server's
 * words, installs a second version and rolls back to the first, enables the plugin for the
 * instance; a room's owner turns it on for the room in the room's Automation view, where its
 * command is offered to the rule builder, and runs it in the room; disabled for the instance,
 * it leaves the room's list; the admin deletes it after a confirmation. Screenshots at a
 * desktop's size and a phone's.
 */
requireChromium();

const API = new URL("../../src/plugins/api.ts", import.meta.url).pathname;

/**
 * A plugin's bundle, made as `npm run plugin:bundle` makes one (scripts/plugin-bundle.ts): one ES
 * module, its definition the default export, nothing imported. A tiny plugin of the test's own,
 * so that it can have two versions.
 */
async function bundle(dir: string, version: string): Promise<string> {
  const folder = join(dir, `echo-${version}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, "index.ts"),
    `import { definePlugin } from ${JSON.stringify(API)};
export default definePlugin({
  id: "echo",
  version: ${JSON.stringify(version)},
  description: "Says back what it is given",
  commands: {
    echo: {
      usage: "<text>",
      description: "Says it back, to you alone",
      run: (call) => ({ text: call.args || "nothing to say" }),
    },
  },
});
`,
  );
  const { code, manifest } = await bundlePlugin(folder);
  expect(manifest).toMatchObject({ id: "echo", version });
  return code;
}

describe.skipIf(!executablePath)("plugins in Chromium", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edgechat-plugin-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const app = useChromiumApp({ vars: { ADMIN_USERNAMES: "root" } });
  const { open, problems, expectedErrors } = app;

  /** Chooses `code` as the install form's file, named `name`. */
  const choose = (page: Page, name: string, code: string) =>
    page.getByTestId("plugin-file").setInputFiles({
      name,
      mimeType: "text/javascript",
      buffer: Buffer.from(code),
    });

  it("an admin installs a plugin, rolls it back and enables it; an owner turns it on for a room", async () => {
    const root = await open("root");
    await account(root, "root", true);
    await root.getByTestId("admin-link").click();
    await section(root, "plugins");
    const cards = root.getByTestId("admin-plugin");
    await expect.poll(() => cards.count(), WAIT).toBe(0);

    // A bundle that imports something is refused, in the server's words, and nothing installed.
    await choose(root, "echo.js", 'import x from "y";\nexport default x;\n');
    expect(await root.getByTestId("plugin-id").inputValue()).toBe("echo");
    // The browser logs the server's 400 as a failed load.
    expectedErrors.push(["root", /status of 400 \(Bad Request\)/]);
    await root.getByTestId("plugin-install").click();
    await expect
      .poll(() => root.getByTestId("plugins-error").textContent(), WAIT)
      .toMatch(/import/i);
    expect(await cards.count()).toBe(0);

    // A file that is no bundle is refused before it is sent.
    await choose(root, "echo.ts", "export {}");
    await root.getByTestId("plugin-install").click();
    expect(await root.getByTestId("plugins-error").textContent()).toMatch(/one \.js or \.mjs file/);

    // 1.0.0 installed, with no hosts (no network).
    await choose(root, "echo.js", await bundle(dir, "1.0.0"));
    await root.getByTestId("plugin-install").click();
    await expect
      .poll(() => root.getByTestId("plugins-status").textContent(), WAIT)
      .toBe("Plugin echo installed.");
    await expect.poll(() => cards.count(), WAIT).toBe(1);
    expect(await cards.textContent()).toContain("Says back what it is given");
    expect(await cards.textContent()).toContain("adds /echo");
    expect(await cards.textContent()).toContain("It has no network.");
    expect(await root.getByTestId("plugin-id").inputValue()).toBe("");

    // 1.1.0 through the card's New version, then back to 1.0.0.
    await cards.getByTestId("admin-plugin-upgrade").click();
    expect(await root.getByTestId("plugin-id").inputValue()).toBe("echo");
    await choose(root, "echo-next.js", await bundle(dir, "1.1.0"));
    await root.getByTestId("plugin-install").click();
    const versions = cards.getByTestId("admin-plugin-version");
    await expect
      .poll(
        () => versions.evaluateAll((els) => els.map((el) => el.getAttribute("data-version"))),
        WAIT,
      )
      .toEqual(["1.1.0", "1.0.0"]);
    expect(await cards.locator("h3").textContent()).toBe("echo 1.1.0");
    await cards.getByTestId("admin-plugin-use").click();
    await expect.poll(() => cards.locator("h3").textContent(), WAIT).toBe("echo 1.0.0");
    expect(await root.getByTestId("plugins-status").textContent()).toBe("echo now runs 1.0.0.");

    // Enabled for the instance (whatever the install left it as).
    if ((await cards.getAttribute("data-enabled")) === "false")
      await cards.getByTestId("admin-plugin-enable").click();
    await expect.poll(() => cards.getAttribute("data-enabled"), WAIT).toBe("true");
    await root.screenshot({ path: `${SHOTS}/plugins-admin-desktop.png`, fullPage: true });

    // A room's owner turns it on in the room's Automation view.
    const room = `plug-${Date.now()}`;
    const ada = await open("ada");
    await account(ada, "ada", true);
    await ada.getByTestId("room-name").fill(room);
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();
    await ada.getByTestId("automation-open").click();
    const mine = ada.getByTestId("room-plugin");
    await expect.poll(() => mine.count(), WAIT).toBe(1);
    expect(await mine.getAttribute("data-plugin")).toBe("echo");
    expect(await mine.textContent()).toContain("/echo <text>");
    const toggle = mine.getByTestId("room-plugin-toggle");
    expect(await toggle.isChecked()).toBe(false);
    await toggle.focus();
    await ada.keyboard.press("Space");
    await expect
      .poll(() => ada.getByTestId("room-plugins-status").textContent(), WAIT)
      .toBe(`echo is on in #${room}.`);
    expect(await mine.getByTestId("room-plugin-toggle").isChecked()).toBe(true);
    // The focus stayed on the switch through the redraw.
    expect(await ada.evaluate(() => document.activeElement?.getAttribute("data-plugin"))).toBe(
      "echo",
    );

    // Its command is offered to a rule's plugin action.
    await ada.getByTestId("rule-new").click();
    const row = ada.locator("form.rule-builder [data-testid=rule-action]");
    await row.getByTestId("action-kind").selectOption("plugin");
    await expect
      .poll(() => row.getByTestId("action-command").locator("option").allTextContents(), WAIT)
      .toEqual(["Choose…", "/echo <text> (echo)"]);
    await ada.getByTestId("rule-cancel").click();

    // On in the room: its command answers there, to its caller alone.
    await ada.getByTestId("automation-close").click();
    await ada.getByTestId("compose").fill("/echo hello from the sandbox");
    await ada.getByTestId("compose").press("Enter");
    await expect
      .poll(
        () => ada.locator("[data-testid=ephemeral] [data-testid=ephemeral-text]").allTextContents(),
        WAIT,
      )
      .toEqual(["hello from the sandbox"]);
    await ada.getByTestId("automation-open").click();

    // On a phone the room's plugins fit.
    const phone = await open("ada", PHONE);
    await account(phone, "ada", false);
    await phone.goto(`${app.server.url}/#/room/${room}/automation`);
    await phone.getByTestId("room-plugin").waitFor();
    expect(await sideways(phone)).toBe(0);
    await phone.getByTestId("plugins").scrollIntoViewIfNeeded();
    await phone.screenshot({ path: `${SHOTS}/plugins-room-phone.png` });

    // Disabled for the instance: rooms no longer list it.
    await cards.getByTestId("admin-plugin-disable").click();
    await expect.poll(() => cards.getAttribute("data-enabled"), WAIT).toBe("false");
    await ada.reload();
    await ada.getByTestId("automation").waitFor();
    await expect.poll(() => ada.getByTestId("room-plugins-empty").isVisible(), WAIT).toBe(true);
    expect(await mine.count()).toBe(0);

    // Deleted, after a confirmation.
    await cards.getByTestId("delete").click();
    await cards.getByTestId("delete-confirm").click();
    await expect.poll(() => cards.count(), WAIT).toBe(0);
    expect(await root.getByTestId("plugins-status").textContent()).toBe("echo deleted.");

    const admin = await open("root", PHONE);
    await account(admin, "root", false);
    await admin.goto(`${app.server.url}/#/admin/plugins`);
    await admin.getByTestId("plugin-install").waitFor();
    expect(await sideways(admin)).toBe(0);
    await admin.screenshot({ path: `${SHOTS}/plugins-admin-phone.png`, fullPage: true });
    expect(problems).toEqual([]);
  });
});
