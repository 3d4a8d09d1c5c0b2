import { mkdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useChromiumApp } from "./app.ts";
import { executablePath, requireChromium, WAIT, watchPage } from "./chromium.ts";

/**
 * GraphiQL at /graphql, self-hosted (the page built into public/graphiql/ and served from the
 * ASSETS binding), in Debian's Chromium against the real worker, with no network beyond
 * 127.0.0.1: the page must load its editor, run a query, and break none of its own
 * Content-Security-Policy, whose script hash comes from the build. Skips loudly without a Chromium.
 */
requireChromium();

describe.skipIf(!executablePath)("GraphiQL in Chromium", () => {
  const app = useChromiumApp();
  const { problems } = app;

  it("opens offline, runs { __typename } and a live subscription, and breaks none of its policy", async () => {
    const context = await app.browser.newContext({ viewport: { width: 1200, height: 800 } });
    context.setDefaultTimeout(20_000);
    // Only this origin (and the page's own blob: and data: URLs): anything else is refused,
    // and recorded.
    const origin = new URL(app.server.url).origin;
    await context.route(
      (url) => url.origin !== origin && !/^(blob|data):/.test(url.href),
      (route) => {
        problems.push(`a request left 127.0.0.1: ${route.request().url()}`);
        return route.abort();
      },
    );
    const page = await context.newPage();
    watchPage(page, "graphiql", problems, []);
    page.on("requestfailed", (request) =>
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
    );
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });
    // Violations reach the console as errors too; the event also names the directive.
    await page.addInitScript({
      content: `document.addEventListener("securitypolicyviolation", (event) =>
        console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));`,
    });

    const answer = await page.goto(`${app.server.url}/graphql`);
    expect(answer?.status()).toBe(200);
    const policy = answer?.headers()["content-security-policy"] ?? "";
    expect(policy).not.toMatch(/https?:|'unsafe-eval'/);
    expect(policy).toMatch(/script-src 'sha256-[A-Za-z0-9+/]{43}=';/);
    expect(await page.title()).toBe("edgechat GraphQL");

    const editor = page.locator(".graphiql-query-editor .monaco-editor").first();
    await editor.waitFor({ state: "visible" });
    await editor.click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("Delete");
    // Pasted, not typed: typing opens Monaco's suggestions, whose answer from the editor's
    // worker can arrive after an Escape and cover the run button.
    await page.keyboard.insertText("{ __typename }");
    await expect
      .poll(() => page.locator(".graphiql-query-editor .view-lines").first().innerText(), WAIT)
      .toMatch(/\{\s__typename\s\}/);
    await expect.poll(() => page.locator(".suggest-widget.visible").count(), WAIT).toBe(0);
    await page.locator(".graphiql-execute-button").click();

    const result = () =>
      page
        .locator(".result-window")
        .innerText()
        .then((text) => text.replaceAll("\u00a0", " "));
    await expect.poll(result, WAIT).toContain('"__typename": "Query"');

    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/graphiql.png", fullPage: true });

    // A subscription with a bearer token in the headers tab streams the room's events over SSE.
    const session = (await (
      await fetch(`${app.server.url}/api/auth/guest`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "iris" }),
      })
    ).json()) as { token: string };
    const room = `giql-${Date.now().toString(36)}`;
    const rest = (path: string, body: unknown) =>
      fetch(`${app.server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
        body: JSON.stringify(body),
      });
    expect((await rest("/api/rooms", { name: room })).status).toBe(201);
    await page.getByText("Headers", { exact: true }).click();
    const headers = page.locator(".graphiql-editor-tool .monaco-editor").last();
    await headers.waitFor({ state: "visible" });
    await headers.click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${session.token}` }));
    await editor.click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(
      `subscription { roomEvents(room: "${room}", since: 0) { seq type } }`,
    );
    await expect.poll(() => page.locator(".suggest-widget.visible").count(), WAIT).toBe(0);
    await page.locator(".graphiql-execute-button").click();
    await expect.poll(result, WAIT).toContain('"type": "member.joined"');
    const posted = await rest(`/api/rooms/${room}/messages`, { clientId: "giql-1", text: "hello" });
    const { seq } = (await posted.json()) as { seq: number };
    await expect.poll(result, WAIT).toContain(`"seq": ${seq}`);
    await page.screenshot({ path: "test-results/graphiql-subscription.png", fullPage: true });
    await context.close();
    expect(problems).toEqual([]);
  });
});
