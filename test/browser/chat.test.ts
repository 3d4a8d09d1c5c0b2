import { mkdirSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
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
import { EdgechatApi } from "../../src/client/index.ts";
import { freePort, startServer, type TestServer } from "../support/server.ts";

/**
 * The browser UI end to end: two guests in Debian's Chromium (driven by playwright-core)
 * against the real worker. Skips loudly without a Chromium; REQUIRE_BROWSER=1 makes that a failure.
 */
requireChromium();

/**
 * A TCP proxy in front of the server whose network can be cut: cutting destroys every open
 * connection (the page sees its WebSocket fail like a real network drop) and refuses new ones.
 */
type Cable = { url: string; cut(): void; mend(): void; close(): Promise<void> };

async function cable(targetPort: number): Promise<Cable> {
  let cut = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (cut) return client.destroy();
    const upstream = connect(targetPort, "127.0.0.1");
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("error", drop).on("close", drop);
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    mend() {
      cut = false;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!executablePath)("chat in Chromium", () => {
  let server: TestServer;
  let adaCable: Cable;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const expectedErrors: [string, RegExp][] = [];

  beforeAll(async () => {
    ensureWebBuild();
    server = await startServer();
    adaCable = await cable(server.port);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await adaCable?.close();
    await server?.dispose();
  });

  async function open(
    name: string,
    baseUrl: string,
    {
      viewport = { width: 1000, height: 720 },
      hash = "",
      colorScheme = "light" as "light" | "dark",
    } = {},
  ): Promise<Page> {
    const context = await browser.newContext({ viewport, colorScheme });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    watchPage(page, name, problems, expectedErrors);
    await page.goto(`${baseUrl}/${hash}`);
    await page.getByTestId("name").fill(name);
    await page.getByTestId("sign-in").click();
    await page.getByTestId("me").waitFor();
    return page;
  }

  const texts = (page: Page) =>
    page
      .locator("[data-testid=messages] [data-testid=message] [data-testid=text]")
      .allTextContents();
  const message = (page: Page, text: string) =>
    page.locator("[data-testid=messages] [data-testid=message]", { hasText: text });
  /** The people shown online, "(you)" marked; the list also holds offline members. */
  const online = (page: Page) =>
    page
      .locator("[data-testid=members] li[data-online=true]")
      .evaluateAll((els) =>
        els.map(
          (el) =>
            (el.querySelector("[data-testid=member-name]")?.textContent ?? "") +
            (el.querySelector(".you") ? " (you)" : ""),
        ),
      );
  const banner = (page: Page) => page.getByTestId("reconnecting");

  async function send(page: Page, text: string): Promise<void> {
    await page.getByTestId("compose").fill(text);
    await page.getByTestId("compose").press("Enter");
  }

  it("two guests chat, edit, delete, react, see typing and presence, and survive a dropped connection", async () => {
    const ada = await open("ada", adaCable.url);
    const bob = await open("bob", server.url);

    // ada creates the room and lands in it.
    await ada.getByTestId("room-name").fill("lobby");
    await ada.getByTestId("room-topic").fill("Say hi");
    await ada.getByTestId("create").click();
    await ada.getByTestId("compose").waitFor();
    expect(new URL(ada.url()).hash).toBe("#/room/lobby");
    await expect.poll(() => ada.getByTestId("topic").textContent(), WAIT).toBe("Say hi");

    // A bad name is refused before the server is asked; a taken one with the server's message.
    await bob.getByTestId("room-name").fill("Not Valid");
    await bob.getByTestId("create").click();
    await bob.getByTestId("create-error").waitFor();
    await bob.getByTestId("room-name").fill("lobby");
    expectedErrors.push(["bob", /status of 409/]);
    await bob.getByTestId("create").click();
    await expect
      .poll(() => bob.getByTestId("create-error").textContent(), WAIT)
      .toMatch(/exist|taken|already/i);

    // bob finds it in the list (with its counts) and opens it.
    await expect
      .poll(async () => {
        await bob.getByTestId("refresh").click();
        return bob.locator("[data-room=lobby]").count();
      }, WAIT)
      .toBe(1);
    expect(await bob.locator("[data-room=lobby]").textContent()).toMatch(/1 member · 1 online/);
    await bob.locator("[data-room=lobby] a").click();
    await bob.getByTestId("compose").waitFor();

    // Presence: both are online for both.
    await expect
      .poll(async () => (await online(ada)).join("|"), WAIT)
      .toMatch(/^ada \(you\)\|bob$/);
    await expect
      .poll(async () => (await online(bob)).join("|"), WAIT)
      .toMatch(/^ada\|bob \(you\)$/);

    // Each sends; the other sees both in the same order.
    await send(ada, "hello from ada");
    await expect.poll(() => texts(bob), WAIT).toEqual(["hello from ada"]);
    await bob.getByTestId("compose").pressSequentially("hi ada", { delay: 20 });
    await expect.poll(() => ada.getByTestId("typing").textContent(), WAIT).toBe("bob is typing…");
    await bob.getByTestId("compose").press("Enter");
    await expect.poll(() => texts(ada), WAIT).toEqual(["hello from ada", "hi ada"]);
    await expect.poll(() => texts(bob), WAIT).toEqual(["hello from ada", "hi ada"]);
    await expect.poll(() => ada.getByTestId("typing").textContent(), WAIT).toBe("");

    // Only the author can edit or delete.
    expect(await message(ada, "hi ada").getByTestId("edit").count()).toBe(0);
    expect(await message(ada, "hello from ada").getByTestId("edit").count()).toBe(1);

    // bob edits his message and deletes another.
    await message(bob, "hi ada").getByTestId("edit").click();
    await bob.getByTestId("edit-text").fill("hi ada, edited");
    await bob.getByTestId("edit-text").press("Enter");
    await expect.poll(() => texts(ada), WAIT).toEqual(["hello from ada", "hi ada, edited"]);
    expect(await message(ada, "hi ada, edited").textContent()).toContain("(edited)");
    await send(bob, "oops, wrong room");
    await expect
      .poll(() => texts(ada), WAIT)
      .toEqual(["hello from ada", "hi ada, edited", "oops, wrong room"]);
    await message(bob, "oops, wrong room").getByTestId("delete").click();
    await expect
      .poll(() => texts(ada), WAIT)
      .toEqual(["hello from ada", "hi ada, edited", "message deleted"]);

    // ada reacts, bob sees the count; a second click takes it back; then on again.
    const bobsLine = (page: Page) => message(page, "hi ada, edited");
    await bobsLine(ada).getByTestId("react").click();
    await bobsLine(ada).locator("[data-testid=react-choice][data-emoji='👍']").click();
    await expect
      .poll(() => bobsLine(bob).getByTestId("reaction").allTextContents(), WAIT)
      .toEqual(["👍 1"]);
    await expect
      .poll(() => bobsLine(ada).getByTestId("reaction").getAttribute("aria-pressed"), WAIT)
      .toBe("true");
    await bobsLine(ada).getByTestId("reaction").click();
    await expect.poll(() => bobsLine(bob).getByTestId("reaction").count(), WAIT).toBe(0);
    await expect.poll(() => bobsLine(ada).getByTestId("reaction").count(), WAIT).toBe(0);
    await bobsLine(ada).getByTestId("react").click();
    await bobsLine(ada).locator("[data-testid=react-choice][data-emoji='🎉']").click();
    await expect
      .poll(() => bobsLine(bob).getByTestId("reaction").allTextContents(), WAIT)
      .toEqual(["🎉 1"]);

    // Markup in a message is text, never HTML.
    const xss = "<img src=x onerror=alert(1)>";
    await send(ada, xss);
    await expect.poll(async () => (await texts(bob)).at(-1), WAIT).toBe(xss);
    expect(await bob.locator("[data-testid=messages] img").count()).toBe(0);
    expect(await ada.locator("[data-testid=messages] img").count()).toBe(0);

    // ada's network drops: the banner shows; bob posts meanwhile; ada comes back and sees it once.
    await expect.poll(() => texts(ada), WAIT).toEqual(await texts(bob));
    const offline: [string, RegExp] = ["ada", /net::ERR_/];
    expectedErrors.push(offline);
    adaCable.cut();
    await banner(ada).waitFor({ state: "visible", timeout: 20_000 });
    expect(await banner(ada).getAttribute("role")).toBe("status");
    await send(bob, "while you were away");
    await expect.poll(async () => (await texts(bob)).at(-1), WAIT).toBe("while you were away");
    expect(await texts(ada)).not.toContain("while you were away");
    adaCable.mend();
    await banner(ada).waitFor({ state: "hidden", timeout: 30_000 });
    expectedErrors.splice(expectedErrors.indexOf(offline), 1);
    await expect.poll(() => texts(ada), WAIT).toEqual(await texts(bob));
    expect((await texts(ada)).filter((t) => t === "while you were away")).toHaveLength(1);
    const ids = await ada
      .locator("[data-testid=messages] [data-testid=message]")
      .evaluateAll((els) => els.map((el) => el.getAttribute("data-id")));
    expect(new Set(ids).size).toBe(ids.length);

    // A reload keeps the session and the room (hash routing), with the same history.
    await ada.reload();
    await expect.poll(() => texts(ada), WAIT).toEqual(await texts(bob));
    expect(await ada.getByTestId("me").textContent()).toBe("ada");
    expect(await ada.getByTestId("unread-divider").count()).toBe(0); // she had read everything

    mkdirSync("test-results", { recursive: true });
    await ada.screenshot({ path: "test-results/chat.png" });

    // On a phone: one column, the compose box in view, and a newcomer's unread divider.
    const carol = await open("carol", server.url, {
      viewport: { width: 390, height: 844 },
      hash: "#/room/lobby",
      colorScheme: "dark",
    });
    await carol.getByTestId("compose").waitFor();
    await expect.poll(() => texts(carol), WAIT).toEqual(await texts(bob));
    const box = await carol.getByTestId("compose").boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y + box!.height).toBeLessThanOrEqual(844);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    await carol.getByTestId("unread-divider").waitFor();
    await carol.screenshot({ path: "test-results/chat-phone.png" });

    // A room that does not exist: the reason, and a way back to the list.
    expectedErrors.push(["carol", /status of 404/]);
    await carol.goto(`${server.url}/#/room/nope`);
    await carol.getByTestId("fatal").waitFor();
    expect(await carol.getByTestId("fatal").textContent()).toMatch(/room/i);
    await carol.getByTestId("fatal-back").click();
    await carol.locator("[data-room=lobby]").waitFor();

    // A token the server refuses (401) sends you back to the name screen.
    await carol.evaluate(() => {
      const session = JSON.parse(localStorage.getItem("edgechat.session") ?? "{}") as {
        token: string;
      };
      localStorage.setItem(
        "edgechat.session",
        JSON.stringify({ ...session, token: "not.a.token" }),
      );
    });
    expectedErrors.push(["carol", /status of 401/]);
    await carol.reload();
    await carol.getByTestId("name").waitFor();
    expect(await carol.evaluate(() => localStorage.getItem("edgechat.session"))).toBeNull();

    expect(problems).toEqual([]);
  });

  it("undoes and redoes an edit and a delete, and redacts a message for everyone", async () => {
    const cy = await open("cyra", server.url);
    const di = await open("dina", server.url);
    await cy.getByTestId("room-name").fill("undo-room");
    await cy.getByTestId("create").click();
    await cy.getByTestId("compose").waitFor();
    await di.goto(`${server.url}/#/room/undo-room`);
    await di.getByTestId("compose").waitFor();

    await send(cy, "first words");
    await expect.poll(() => texts(di), WAIT).toEqual(["first words"]);
    await message(cy, "first words").getByTestId("edit").click();
    await cy.getByTestId("edit-text").fill("second thoughts");
    await cy.getByTestId("edit-text").press("Enter");
    await expect.poll(() => texts(di), WAIT).toEqual(["second thoughts"]);

    await cy.getByTestId("undo").click(); // the edit
    await expect.poll(() => texts(di), WAIT).toEqual(["first words"]);
    await cy.getByTestId("redo").click();
    await expect.poll(() => texts(di), WAIT).toEqual(["second thoughts"]);
    await message(cy, "second thoughts").getByTestId("delete").click();
    await expect.poll(() => texts(di), WAIT).toEqual(["message deleted"]);
    await cy.getByTestId("undo").click(); // the delete: back with its text
    await expect.poll(() => texts(di), WAIT).toEqual(["second thoughts"]);
    await cy.getByTestId("redo").click();
    await expect.poll(() => texts(cy), WAIT).toEqual(["message deleted"]);
    await cy.getByTestId("undo").click();
    await expect.poll(() => texts(cy), WAIT).toEqual(["second thoughts"]);
    await cy.getByTestId("redo").click();
    await cy.getByTestId("redo").click(); // nothing left to redo: said beside the controls
    await expect
      .poll(() => cy.getByTestId("controls-error").textContent(), WAIT)
      .toMatch(/nothing of yours to redo/);
    await cy.getByTestId("undo").click();
    await expect.poll(() => texts(di), WAIT).toEqual(["second thoughts"]);

    // di may not redact cy's message; cy may, with a second click to confirm.
    expect(await message(di, "second thoughts").getByTestId("redact").count()).toBe(0);
    await message(cy, "second thoughts").getByTestId("redact").click();
    await expect
      .poll(() => message(cy, "second thoughts").getByTestId("redact").textContent(), WAIT)
      .toBe("Redact for good?");
    await message(cy, "second thoughts").getByTestId("redact").click();
    await expect.poll(() => texts(di), WAIT).toEqual(["message redacted"]);
    await expect.poll(() => texts(cy), WAIT).toEqual(["message redacted"]);
    // The redaction holds after a reload: the text is gone from the server, not only the page.
    await di.reload();
    await expect.poll(() => texts(di), WAIT).toEqual(["message redacted"]);
    expect(await di.locator("[data-testid=messages]").textContent()).not.toContain("second");

    // The owner verifies the room's hash chain, redaction and all; a member has no such button.
    expect(await di.getByTestId("verify-log").isVisible()).toBe(false);
    await cy.getByTestId("verify-log").click();
    await expect
      .poll(() => cy.getByTestId("verify-result").textContent(), WAIT)
      .toMatch(/^Intact: \d+ events, head [0-9a-f]{12}…/);
  });

  it("lists the rooms a page at a time as the list scrolls, filtered by name", async () => {
    const api = new EdgechatApi(server.url);
    const { token } = await api.signInGuest("builder");
    const builder = api.withToken(token);
    const names = Array.from({ length: 35 }, (_, i) => `hall-${i + 1}`);
    for (const name of names) await builder.createRoom({ name });
    const eve = await open("eve", server.url);
    const listed = () =>
      eve
        .locator("[data-testid=rooms] [data-testid=room]")
        .evaluateAll((els) => els.map((el) => el.getAttribute("data-room")));
    await eve.getByTestId("room-filter").fill("hall-");
    // The first page, then the rest as the end of the list comes into view.
    await expect.poll(async () => (await listed()).length, WAIT).toBeGreaterThanOrEqual(30);
    await eve.getByTestId("more-rooms").scrollIntoViewIfNeeded();
    await expect.poll(async () => (await listed()).toSorted(), WAIT).toEqual(names.toSorted());
    await eve.getByTestId("more-rooms").waitFor({ state: "hidden" });
    await eve.getByTestId("room-filter").fill("hall-1");
    const ones = names.filter((n) => n.startsWith("hall-1"));
    await expect.poll(async () => (await listed()).toSorted(), WAIT).toEqual(ones.toSorted());
    await eve.getByTestId("room-sort").selectOption("newest");
    await expect.poll(listed, WAIT).toEqual(ones.toReversed());
    expect(problems).toEqual([]);
  });

  it("pages older history in when scrolled to the top, each message once and in order", async () => {
    const api = new EdgechatApi(server.url);
    const { token } = await api.signInGuest("poster");
    const poster = api.withToken(token);
    await poster.createRoom({ name: "history" });
    for (let i = 1; i <= 60; i += 1)
      await poster.postMessage("history", { text: `m${i}`, clientId: `c${i}` });

    const dan = await open("dan", server.url, { hash: "#/room/history" });
    const all = Array.from({ length: 60 }, (_, i) => `m${i + 1}`);
    await expect.poll(() => texts(dan), WAIT).toEqual(all.slice(10));
    await dan.getByTestId("load-older").waitFor();
    await dan.getByTestId("scroller").evaluate((el) => el.scrollTo(0, 0));
    await expect.poll(() => texts(dan), WAIT).toEqual(all);
    await dan.getByTestId("load-older").waitFor({ state: "hidden" });
    // A live message after paging lands at the end.
    await poster.postMessage("history", { text: "m61", clientId: "c61" });
    await expect.poll(async () => (await texts(dan)).at(-1), WAIT).toBe("m61");
    expect(await texts(dan)).toHaveLength(61);
    expect(problems).toEqual([]);
  });

  it("shows the room as it was: the slider brings back an old topic and a message's earlier text, then back to live", async () => {
    const api = new EdgechatApi(server.url);
    const { token } = await api.signInGuest("keeper");
    const keeper = api.withToken(token);
    await keeper.createRoom({ name: "past", topic: "the old topic" });
    const first = await keeper.postMessage("past", { text: "what was said", clientId: "k1" });
    const gone = await keeper.postMessage("past", { text: "soon deleted", clientId: "k2" });
    await keeper.command("past", {
      type: "edit",
      clientId: "k3",
      messageId: first.seq,
      text: "what is said now",
    });
    await keeper.command("past", { type: "delete", clientId: "k4", messageId: gone.seq });
    await keeper.command("past", { type: "topic", clientId: "k5", topic: "the new topic" });

    const eva = await open("eva", server.url, { hash: "#/room/past" });
    await expect.poll(() => eva.getByTestId("topic").textContent(), WAIT).toBe("the new topic");
    await eva.getByTestId("history-open").click();
    await eva.getByTestId("history").waitFor();
    await eva.getByTestId("compose").waitFor({ state: "hidden" });
    const historyTexts = () =>
      eva.locator("[data-testid=history-messages] [data-testid=history-text]").allTextContents();
    // At the end of the log: as it is now, the deleted message shown as such.
    await expect.poll(historyTexts, WAIT).toEqual(["what is said now", "message deleted"]);
    // Back to the event of the second post: the old topic, the first text, both messages there.
    await eva.getByTestId("history-slider").fill(String(gone.seq));
    await expect
      .poll(() => eva.getByTestId("history-topic").textContent(), WAIT)
      .toBe("the old topic");
    await expect.poll(historyTexts, WAIT).toEqual(["what was said", "soon deleted"]);
    expect(await eva.getByTestId("history-banner").textContent()).toMatch(
      new RegExp(`Viewing the room as it was at .* \\(event ${gone.seq} of \\d+\\)`),
    );
    expect(
      await eva
        .locator("[data-testid=history-members] [data-testid=history-member]")
        .allTextContents(),
    ).toEqual(["keeper owner"]);
    // The date and time picker: the moment of the slider's event is where it stands.
    // Seconds and all, though a value drops ":00" when they are 0 (HTML's normalized form).
    expect(await eva.getByTestId("history-time").inputValue()).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/,
    );
    // Back to live: the live room again, as it is.
    await eva.getByTestId("history-live").click();
    await eva.getByTestId("history").waitFor({ state: "hidden" });
    await eva.getByTestId("compose").waitFor();
    expect(await eva.getByTestId("topic").textContent()).toBe("the new topic");
    expect(await texts(eva)).toEqual(["what is said now", "message deleted"]);
    expect(problems).toEqual([]);
  });
});
