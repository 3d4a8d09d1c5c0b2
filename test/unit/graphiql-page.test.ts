import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import {
  GRAPHIQL_OPTIONS,
  inlineScript,
  renderGraphiQLPage,
  writeGraphiQLPage,
} from "../../scripts/graphiql-page.ts";
import { graphiqlAnswer, graphiqlPagePolicy, isGraphiQLFile } from "../../src/graphql/graphiql.ts";
import { ApiError } from "../../src/protocol/index.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("base64");

describe("GraphiQL's page, built with the UI (scripts/graphiql-page.ts)", () => {
  it("writes the page and the SHA-256 of its one inline script beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "graphiql-"));
    try {
      const written = await writeGraphiQLPage(pathToFileURL(`${dir}/`));
      const html = await readFile(join(dir, "graphiql", "index.html"), "utf8");
      const json = JSON.parse(await readFile(join(dir, "graphiql", "page.json"), "utf8"));
      expect(json).toEqual({ scriptSha256: written.scriptSha256 });
      // The hash is the browser's: of the exact text between <script> and </script>.
      const script = html.slice(html.indexOf("<script>") + 8, html.lastIndexOf("</script>"));
      expect(script.length).toBeGreaterThan(5_000_000); // React, GraphiQL, Monaco: all inline
      expect(json.scriptSha256).toBe(sha256(script));
      expect(html).toContain(`<title>${GRAPHIQL_OPTIONS.title}</title>`);
      expect(html).toContain(JSON.stringify(GRAPHIQL_OPTIONS));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("loads nothing from another origin: no script src, no stylesheet link, a data: favicon", () => {
    const { html } = renderGraphiQLPage();
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*stylesheet/i);
    expect(html).toMatch(/<link rel="icon" href="data:/);
  });

  it("refuses a page whose scripts the one hash would not cover", () => {
    const page = (body: string) => `<!doctype html><html><body>${body}</body></html>`;
    expect(inlineScript(page("<script>run()</script>"))).toBe("run()");
    // Strings inside the script may say "<script"; only the one closing tag ends it.
    expect(inlineScript(page('<script>x.innerHTML = "<script><\\/script>"</script>'))).toBe(
      'x.innerHTML = "<script><\\/script>"',
    );
    for (const bad of [
      page("<p>no script</p>"),
      page("<script>a()</script><script>b()</script>"),
      page('<script src="https://cdn.example/x.js"></script>'),
      page('<script type="module">a()</script>'),
      page("<script>a()"),
    ]) {
      expect(() => inlineScript(bad), bad).toThrow(/exactly one script/);
    }
  });
});

describe("GraphiQL's answer and policy (src/graphql/graphiql.ts)", () => {
  const hash = sha256("run()");

  it("allows its script by hash only, and no other origin", () => {
    const policy = graphiqlPagePolicy(hash);
    const directives = new Map(
      policy.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]),
    );
    expect(directives.get("script-src")).toBe(`'sha256-${hash}'`);
    expect(directives.get("default-src")).toBe("'none'");
    expect(directives.get("connect-src")).toBe("'self'");
    expect(directives.get("worker-src")).toBe("blob:");
    expect(directives.get("frame-ancestors")).toBe("'none'");
    expect(policy).not.toMatch(/https?:|\*|'unsafe-eval'/);
  });

  it("keeps GraphiQL's files away from the app's catch-all", () => {
    for (const path of ["/graphiql", "/graphiql/", "/graphiql/index.html", "/graphiql/page.json"])
      expect(isGraphiQLFile(path), path).toBe(true);
    for (const path of ["/", "/app.js", "/graphql", "/graphiqlx", "/rooms/graphiql"])
      expect(isGraphiQLFile(path), path).toBe(false);
  });

  it("is unavailable, not internal, when the assets lack the page (deployed without the build)", async () => {
    // What the ASSETS binding answers for a file it does not have.
    const emptyAssets = { fetch: async () => new Response(null, { status: 404 }) };
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const refusal = await graphiqlAnswer(emptyAssets, new Request("http://edgechat.test/graphql"))
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ code: "unavailable" });
    // The operator's log says what to do; the client's answer says nothing of the deployment.
    expect(String(log.mock.calls[0]?.[0])).toContain("npm run build:web");
    expect((refusal as ApiError).message).not.toMatch(/build|assets/);
    log.mockRestore();
  });
});
