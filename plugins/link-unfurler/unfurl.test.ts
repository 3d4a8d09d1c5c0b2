import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PluginAction } from "../../src/plugins/api.ts";
import { contextFor, eventOf, person } from "../testing.ts";
import plugin from "./index.ts";
import { unfurl } from "./unfurl.ts";

/**
 * Real pages from a real HTTP server on 127.0.0.1, fetched by the real global fetch. A second
 * server answers as `localhost`, a host the tests never list: it must never see a request.
 */
const PAGES: Record<string, { type?: string; status?: number; location?: string; body?: string }> =
  {
    "/og": {
      body: `<!doctype html><html><head>
      <meta charset="utf-8"><title>Not this one</title>
      <META content='The &quot;real&quot; description &amp; more&#x2026;' property='og:description'>
      <meta property="og:title" content="Release 2.0 &mdash; now with\u202Eevil\u202C https://127.0.0.1/x">
      </head><body>…</body></html>`,
    },
    "/title": {
      type: "text/html; charset=utf-8",
      body: `<html><head><title data-x="1">
      Plain   title &#128640;</title><meta name="description" content="From the description tag"></head></html>`,
    },
    "/bare": { body: "<html><body>No title here</body></html>" },
    "/late": {
      body: `<html><head>${"<!-- filler -->".repeat(5000)}<title>Too far</title></head></html>`,
    },
    "/json": { type: "application/json", body: '{"title": "not html"}' },
    "/missing": { status: 404, body: "<title>Not found</title>" },
    "/hop": { status: 302, location: "/title" },
    "/away": { status: 302, location: "" /* set to the localhost server in beforeAll */ },
    "/long": {
      body: `<title>${"word ".repeat(100)}</title><meta property="og:description" content="${"ä".repeat(500)}">`,
    },
  };

let listed: Server;
let unlisted: Server;
let base: string;
let otherBase: string;
const requests: string[] = [];
const unlistedRequests: string[] = [];
let endlessBytesSent = 0;
let endlessClosed: Promise<void>;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

beforeAll(async () => {
  let closeEndless = () => {};
  endlessClosed = new Promise((resolve) => (closeEndless = resolve));
  listed = createServer((request, response) => {
    const path = request.url ?? "/";
    requests.push(path);
    if (path === "/slow") return; // never answers: the deadline must end it
    if (path === "/endless") {
      // A title, then data for ever: the plugin must stop reading at 64 KiB and hang up.
      response.writeHead(200, { "content-type": "text/html" });
      response.write("<html><head><title>Endless page</title></head><body>");
      const timer = setInterval(() => {
        response.write("x".repeat(16 * 1024));
        endlessBytesSent += 16 * 1024;
      }, 5);
      response.on("close", () => {
        clearInterval(timer);
        closeEndless();
      });
      return;
    }
    const page = PAGES[path];
    if (!page) return response.writeHead(404).end();
    const headers: Record<string, string> = { "content-type": page.type ?? "text/html" };
    if (page.location !== undefined) headers.location = page.location;
    response.writeHead(page.status ?? 200, headers).end(page.body ?? "");
  });
  unlisted = createServer((request, response) => {
    unlistedRequests.push(request.url ?? "/");
    response.writeHead(200, { "content-type": "text/html" }).end("<title>Secret</title>");
  });
  base = `http://127.0.0.1:${await listen(listed)}`;
  otherBase = `http://localhost:${await listen(unlisted)}`;
  PAGES["/away"]!.location = `${otherBase}/title`;
});

afterAll(async () => {
  listed.closeAllConnections();
  await new Promise((resolve) => listed.close(resolve));
  await new Promise((resolve) => unlisted.close(resolve));
});

beforeEach(() => {
  requests.length = 0;
  unlistedRequests.length = 0;
});

const ada = person("ada");
const HOSTS = ["127.0.0.1"];
const posted = (text: string) => eventOf("message.posted", ada, { text });
const unfurlText = (text: string) => unfurl(posted(text), contextFor(), HOSTS);
const replyText = (actions: PluginAction[]) => {
  expect(actions).toHaveLength(1);
  return (actions[0] as { post: string }).post;
};

describe("link-unfurler", () => {
  it("replies in the message's thread with og:title and og:description, decoded and made safe", async () => {
    const event = posted(`Look: ${base}/og.`);
    const actions = await unfurl(event, contextFor(), HOSTS);
    expect(actions).toEqual([
      {
        post:
          "🔗 Release 2.0 — now withevil https:\u2060//127.0.0.1/x (127.0.0.1)\n" +
          'The "real" description & more…',
        replyTo: event.seq,
      },
    ]);
    expect(requests).toEqual(["/og"]);
  });

  it("falls back to <title> and the description tag, whitespace collapsed", async () => {
    expect(replyText(await unfurlText(`${base}/title`))).toBe(
      "🔗 Plain title 🚀 (127.0.0.1)\nFrom the description tag",
    );
  });

  it("follows a redirect on a listed host, and never one to another host", async () => {
    expect(replyText(await unfurlText(`${base}/hop`))).toContain("Plain title");
    expect(await unfurlText(`${base}/away`)).toEqual([]);
    expect(requests).toEqual(["/hop", "/title", "/away"]);
    expect(unlistedRequests).toEqual([]);
  });

  it("makes no request for links to hosts it does not list", async () => {
    expect(await unfurlText(`${otherBase}/title and ftp://127.0.0.1/og`)).toEqual([]);
    expect(unlistedRequests).toEqual([]);
    expect(requests).toEqual([]);
    // The plugin as installed lists public hosts only: a link to this machine is not among them.
    const asInstalled = await plugin.afterEvent!(posted(`${base}/og`), contextFor());
    expect(asInstalled).toEqual([]);
    expect(requests).toEqual([]);
  });

  it("fetches at most 3 links per message, each once, and answers with one reply", async () => {
    const text = `${base}/og ${base}/title ${base}/og ${base}/hop ${base}/bare`;
    const reply = replyText(await unfurlText(text));
    expect(requests.sort()).toEqual(["/hop", "/og", "/title", "/title"]);
    expect(reply.split("\n\n")).toHaveLength(3);
  });

  it("reads at most 64 KiB of a page and hangs up on the rest", async () => {
    expect(await unfurlText(`${base}/late`)).toEqual([]);
    expect(replyText(await unfurlText(`${base}/endless`))).toBe("🔗 Endless page (127.0.0.1)");
    await endlessClosed;
    // The server kept writing until it saw the connection close; far less than a second's worth.
    expect(endlessBytesSent).toBeLessThan(1024 * 1024);
  });

  it("gives up on a page after 2 s, and still answers for the others", async () => {
    const reply = replyText(await unfurlText(`${base}/slow ${base}/title`));
    expect(reply).toBe("🔗 Plain title 🚀 (127.0.0.1)\nFrom the description tag");
    expect(requests.sort()).toEqual(["/slow", "/title"]);
  });

  it("skips what is not an HTML page with something to show", async () => {
    expect(await unfurlText(`${base}/json ${base}/missing ${base}/bare`)).toEqual([]);
    expect(await unfurlText(`http://127.0.0.1:1/refused`)).toEqual([]);
  });

  it("cuts long titles and descriptions", async () => {
    const [title, description] = replyText(await unfurlText(`${base}/long`)).split("\n");
    expect([...title!].length).toBeLessThanOrEqual(2 + 120 + " (127.0.0.1)".length);
    expect(title).toMatch(/^🔗 (word ){20,}word…/u);
    expect(description).toBe(`${"ä".repeat(239)}…`);
  });

  it("reacts to posted messages only", async () => {
    const ctx = contextFor();
    const edited = eventOf("message.edited", ada, { messageId: 1, text: `${base}/og` });
    expect(await unfurl(edited, ctx, HOSTS)).toEqual([]);
    expect(await unfurl(posted(""), ctx, HOSTS)).toEqual([]);
    expect(requests).toEqual([]);
  });
});
