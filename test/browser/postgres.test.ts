import { mkdirSync } from "node:fs";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import {
  ensureWebBuild,
  executablePath,
  launchChromium,
  requireChromium,
  section,
  WAIT,
  watchPage,
} from "./chromium.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgechatApi } from "../../src/client/index.ts";
import { databaseVars, startMigratedCluster, type TestCluster } from "../support/cluster.ts";
import { startServer, type TestServer } from "../support/server.ts";

/**
 * The Postgres half of the UI in Chromium against the real worker on a real primary and two
 * streaming replicas: search with highlights, paging and read-your-writes, the admin's
 * dashboard and moderation in a room they do not belong to, and search's 503 without Postgres.
 * Skips loudly without a Chromium; REQUIRE_BROWSER=1 makes that a failure.
 */
requireChromium();

const PASSWORD = "correct horse battery";

describe.skipIf(!executablePath)("search and the admin dashboard in Chromium", () => {
  let cluster: TestCluster | undefined;
  let server: TestServer | undefined;
  let plain: TestServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const expectedErrors: [string, RegExp][] = [];

  beforeAll(async () => {
    ensureWebBuild();
    cluster = await startMigratedCluster();
    server = await startServer({ vars: databaseVars(cluster, { ADMIN_USERNAMES: "root" }) });
    plain = await startServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.dispose();
    await plain?.dispose();
    await cluster?.stop();
  }, 120_000);

  async function tab(
    name: string,
    baseUrl: string,
    viewport = { width: 1000, height: 720 },
  ): Promise<Page> {
    const context = await browser!.newContext({ viewport, colorScheme: "light" });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    watchPage(page, name, problems, expectedErrors);
    await page.goto(`${baseUrl}/`);
    return page;
  }

  async function asGuest(
    name: string,
    baseUrl: string,
    viewport?: { width: number; height: number },
  ) {
    const page = await tab(name, baseUrl, viewport);
    await page.getByTestId("name").fill(name);
    await page.getByTestId("sign-in").click();
    await page.getByTestId("me").waitFor();
    return page;
  }

  async function search(page: Page, q: string): Promise<void> {
    await page.getByTestId("search-input").fill(q);
    await page.getByTestId("search-input").press("Enter");
  }

  const hits = (page: Page) =>
    page.locator("[data-testid=search-results] [data-testid=search-hit]");
  const person = (page: Page, name: string) =>
    page.locator(`[data-testid=members] li[data-name="${name}"]`);

  it("a guest finds their messages, highlighted, pages through them and opens the room", async () => {
    const gina = await asGuest("gina", server!.url);
    expect(await gina.getByTestId("admin-link").isVisible()).toBe(false);
    await gina.getByTestId("room-name").fill("wildlife");
    await gina.getByTestId("room-topic").fill("animals of the edge");
    await gina.getByTestId("create").click();
    await gina.getByTestId("compose").waitFor();
    // The slow-mode selector shows the room's setting from the start (off for a new room).
    await expect.poll(() => gina.getByTestId("slow-mode").inputValue(), WAIT).toBe("0");
    await gina.getByTestId("compose").fill("a quokka smiled at me today");
    await gina.getByTestId("compose").press("Enter");
    await gina
      .locator("[data-testid=messages] [data-testid=message]", { hasText: "quokka smiled" })
      .waitFor();

    // bob posts 21 more over HTTP (joining the room by posting): more than a page of results.
    const bob = await new EdgechatApi(server!.url).signInGuest("bob");
    const bobApi = new EdgechatApi(server!.url, bob.token);
    for (let i = 1; i <= 21; i += 1)
      await bobApi.postMessage("wildlife", { text: `quokka sighting ${i}`, clientId: `q${i}` });
    await bobApi.postMessage("wildlife", { text: "nothing to see", clientId: "q0" });

    // The room's log reaches Postgres ~200 ms after each ack: search until every post is there.
    const started = Date.now();
    await search(gina, "quokka");
    await expect
      .poll(async () => {
        if ((await hits(gina).count()) >= 20) return true;
        await gina.getByTestId("search-submit").click();
        return false;
      }, WAIT)
      .toBe(true);
    const firstResults = Date.now() - started;
    expect(new URL(gina.url()).hash).toBe("#/search/quokka");
    expect(await hits(gina).count()).toBe(20);
    // The matched word is a <mark>; the rest is plain text.
    const first = hits(gina).first();
    expect(await first.locator("mark").first().textContent()).toMatch(/^quokka$/i);
    expect(await first.getAttribute("data-room")).toBe("wildlife");
    expect(await first.locator(".author").textContent()).toMatch(/^(gina|bob)$/);
    expect(await first.locator("time").count()).toBe(1);
    expect(
      await hits(gina)
        .locator("mark")
        .evaluateAll((els) => els.every((el) => el.children.length === 0)),
    ).toBe(true);
    expect(await gina.getByText("nothing to see").count()).toBe(0);

    // "More results" brings the rest; then there is no more.
    await gina.getByTestId("search-more").click();
    await expect.poll(() => hits(gina).count(), WAIT).toBe(22);
    await expect.poll(() => gina.getByTestId("search-more").isVisible(), WAIT).toBe(false);
    const texts = await hits(gina).locator("[data-testid=search-text]").allTextContents();
    expect(texts).toContain("a quokka smiled at me today");
    expect(new Set(texts).size).toBe(22);

    mkdirSync("test-results", { recursive: true });
    await gina.locator("main.search").evaluate((el) => el.scrollTo(0, 0));
    await gina.screenshot({ path: "test-results/search.png" });

    // The result opens its room.
    await hits(gina).filter({ hasText: "quokka smiled" }).getByTestId("search-room").click();
    await gina.getByTestId("compose").waitFor();
    expect(new URL(gina.url()).hash).toBe("#/room/wildlife");

    // Read-your-writes: after her post the search carries its room and seq, so once the room's
    // flush has run (~200 ms after the ack) the first search finds it, replica lag or not.
    await gina.getByTestId("compose").fill("platypus spotted by the river");
    await gina.getByTestId("compose").press("Enter");
    await gina
      .locator("[data-testid=messages] [data-testid=message]", { hasText: "platypus" })
      .waitFor();
    await expect.poll(() => gina.locator("[data-testid=pending]").count(), WAIT).toBe(0);
    const seq = Number(
      await gina
        .locator("[data-testid=messages] [data-testid=message]", { hasText: "platypus" })
        .getAttribute("data-id"),
    );
    const asked: URL[] = [];
    gina.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname === "/api/search") asked.push(url);
    });
    // The flush has run once a search carrying the same room and seq finds the post: only the
    // primary can answer it before the replicas have replayed it, and only after the flush.
    await expect
      .poll(
        async () =>
          (await bobApi.search("platypus", { room: "wildlife", seq })).results.map((hit) => hit.id),
        WAIT,
      )
      .toContain(seq);
    await search(gina, "platypus");
    await expect.poll(() => hits(gina).count(), WAIT).toBe(1);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.searchParams.get("room")).toBe("wildlife");
    expect(asked[0]!.searchParams.get("seq")).toBe(String(seq));
    expect(await hits(gina).first().locator("mark").textContent()).toBe("platypus");

    console.log(`search: first full page after ${firstResults} ms`);
    expect(problems).toEqual([]);
  });

  it("an admin watches the replicas and the backlog, and moderates a room they are not in", async () => {
    const root = await tab("root", server!.url);
    await root.getByTestId("mode-register").click();
    await root.getByTestId("account-username").fill("root");
    await root.getByTestId("account-password").fill(PASSWORD);
    await root.getByTestId("account-submit").click();
    await expect.poll(() => root.getByTestId("me").textContent(), WAIT).toBe("root");
    await root.getByTestId("admin-link").waitFor();
    await root.getByTestId("admin-link").click();
    expect(new URL(root.url()).hash).toBe("#/admin");
    await section(root, "database");

    const nodes = root.getByTestId("node");
    await expect.poll(() => nodes.count(), WAIT).toBe(3);
    await expect
      .poll(
        () =>
          nodes.evaluateAll((rows) =>
            rows.map(
              (row) => `${row.getAttribute("data-role")}:${row.getAttribute("data-healthy")}`,
            ),
          ),
        WAIT,
      )
      .toEqual(["primary:true", "replica:true", "replica:true"]);
    const replicaLag = await root
      .locator("[data-testid=node][data-role=replica] [data-testid=node-lag]")
      .allTextContents();
    expect(replicaLag).toHaveLength(2);
    for (const lag of replicaLag) expect(lag).toMatch(/^\d+ ms$/);
    // No passwords on the page: nodes are shown as host:port/database.
    expect(await root.locator("table").first().textContent()).not.toMatch(/postgres(ql)?:\/\//);
    expect(await root.locator("[data-testid=node] th").allTextContents()).toEqual(
      [cluster!.primaryUrl, ...cluster!.replicaUrls].map((url) => {
        const { hostname, port, pathname } = new URL(url);
        return `${hostname}:${port}${pathname}`;
      }),
    );
    await expect
      .poll(() => root.getByTestId("backlog-total").textContent(), WAIT)
      .toMatch(/^Total: \d+ event/);
    await root.locator("[data-testid=backlog-rooms] tr[data-room=wildlife]").waitFor();

    // It refreshes by itself every 2 s.
    const before = await root.getByTestId("admin-updated").textContent();
    await expect.poll(() => root.getByTestId("admin-updated").textContent(), WAIT).not.toBe(before);
    mkdirSync("test-results", { recursive: true });
    await root.screenshot({ path: "test-results/admin.png", fullPage: true });
    // On a phone the page does not scroll sideways: wide tables scroll inside their own box.
    await root.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(
        () =>
          root.evaluate<number>(
            "Math.max(document.documentElement.scrollWidth, document.querySelector('main.admin').scrollWidth)",
          ),
        WAIT,
      )
      .toBeLessThanOrEqual(390);
    await root.screenshot({ path: "test-results/admin-phone.png", fullPage: true });
    await root.setViewportSize({ width: 1000, height: 720 });

    // In gina's room root has the owner's controls without being a member: slow mode, and
    // actions on bob, but none on the owner.
    await root.goto(`${server!.url}/#/room/wildlife`);
    await root.getByTestId("compose").waitFor();
    await root.getByTestId("slow-mode").waitFor();
    expect(await root.getByTestId("leave").isVisible()).toBe(false);
    await person(root, "bob").getByTestId("member-actions").click();
    await person(root, "bob").getByTestId("act-promote").waitFor();
    await person(root, "bob").getByTestId("act-ban").waitFor();
    expect(await person(root, "gina").getByTestId("member-actions").count()).toBe(0);
    await root.getByTestId("slow-mode").selectOption("30");
    await expect
      .poll(() => root.getByTestId("slow-mode-status").textContent(), WAIT)
      .toBe("slow mode on: 30 s");
    // A fresh page starts with the room's setting.
    await root.reload();
    await root.getByTestId("compose").waitFor();
    await expect.poll(() => root.getByTestId("slow-mode").inputValue(), WAIT).toBe("30");

    // The dashboard's timer stops when the page is left.
    await root.goto(`${server!.url}/#/admin/database`);
    await root.getByTestId("node").first().waitFor();
    const calls: string[] = [];
    root.on("request", (request) => {
      if (request.url().includes("/api/admin/")) calls.push(request.url());
    });
    await root.getByRole("link", { name: "← Rooms" }).click();
    await root.getByTestId("rooms").waitFor();
    calls.length = 0;
    await root.waitForTimeout(2_500);
    expect(calls).toEqual([]);

    expect(problems).toEqual([]);
  });

  it("without Postgres, search says so once and everything else works", async () => {
    const sam = await asGuest("sam", plain!.url, { width: 390, height: 844 });
    const searches: string[] = [];
    sam.on("request", (request) => {
      if (new URL(request.url()).pathname === "/api/search") searches.push(request.url());
    });
    expectedErrors.push(["sam", /status of 503/]);
    await search(sam, "anything");
    await sam.getByTestId("search-unavailable").waitFor();
    const text = await sam.getByTestId("search-unavailable").textContent();
    expect(text).toMatch(/without Postgres/);
    expect(text).toContain("npm run dev:pg");
    expect(await hits(sam).count()).toBe(0);
    // A second search does not ask the server again, and shows the one message.
    await search(sam, "something else");
    await expect.poll(() => new URL(sam.url()).hash, WAIT).toBe("#/search/something%20else");
    await sam.getByTestId("search-unavailable").waitFor();
    expect(await sam.getByTestId("search-unavailable").count()).toBe(1);
    expect(searches).toHaveLength(1);

    // The chat itself carries on.
    await sam.getByRole("link", { name: "← Rooms" }).click();
    await sam.getByTestId("room-name").fill("plain");
    await sam.getByTestId("create").click();
    await sam.getByTestId("compose").waitFor();
    await sam.getByTestId("compose").fill("no database, no problem");
    await sam.getByTestId("compose").press("Enter");
    await sam
      .locator("[data-testid=messages] [data-testid=message]", { hasText: "no problem" })
      .waitFor();
    expect(await sam.getByTestId("admin-link").isVisible()).toBe(false);

    expect(problems).toEqual([]);
  });
});
