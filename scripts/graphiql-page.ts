/**
 * GraphiQL's page, written by scripts/build-web.mjs into the static assets (public/graphiql/) so
 * that the worker serves it from the ASSETS binding instead of carrying it in its own bundle
 * (docs/graphql.md, "GraphiQL"). @graphql-yoga/render-graphiql (pinned to graphql-yoga's
 * version) renders one self-contained HTML page: one inline <style> and one inline <script>
 * (React, GraphiQL, Monaco and its workers as strings), about 9 MB, nothing from another origin.
 * The script's SHA-256 goes into page.json beside it: the worker reads those few bytes to allow
 * the script by hash, and never the page itself.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";

/** What the page is rendered with: the worker answers GraphQL at /graphql. */
export const GRAPHIQL_OPTIONS = { title: "edgechat GraphQL", endpoint: "/graphql" };

/** The folder under the assets directory, and its two files (src/graphql/graphiql.ts reads them). */
export const GRAPHIQL_DIR = "graphiql";
export const PAGE_FILE = "index.html";
export const HASH_FILE = "page.json";

/**
 * The text of the page's one inline `<script>` as the browser hashes it: from after the first
 * `<script>` tag to `</script`, where HTML ends a script. The script itself contains "<script"
 * in strings (React's `innerHTML = "<script><\/script>"`), so tags are not counted; instead the
 * page must contain `</script` exactly once, which leaves room for one script element only, and
 * its first `<script` must be a plain `<script>` (no src, no attributes). Fails loudly otherwise,
 * so that a new version of the package cannot add a script the hash does not cover.
 */
export function inlineScript(html: string): string {
  const lower = html.toLowerCase();
  const start = lower.indexOf("<script");
  const ends = lower.split("</script").length - 1;
  if (start < 0 || !lower.startsWith("<script>", start) || ends !== 1) {
    throw new Error(
      "GraphiQL's page must have exactly one script, inline and without attributes " +
        `(found ${ends} closing tags)`,
    );
  }
  return html.slice(start + "<script>".length, lower.indexOf("</script"));
}

/** The base64 SHA-256 of a script's UTF-8 bytes: CSP's `'sha256-…'` source. */
export function sha256Base64(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64");
}

export type GraphiQLPage = { html: string; scriptSha256: string };

export function renderGraphiQLPage(): GraphiQLPage {
  const html = renderGraphiQL(GRAPHIQL_OPTIONS);
  return { html, scriptSha256: sha256Base64(inlineScript(html)) };
}

/** Writes public/graphiql/index.html and page.json (`{"scriptSha256": "…"}`). */
export async function writeGraphiQLPage(assets: URL): Promise<GraphiQLPage> {
  const page = renderGraphiQLPage();
  const dir = new URL(`${GRAPHIQL_DIR}/`, assets);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL(PAGE_FILE, dir), page.html);
  await writeFile(
    new URL(HASH_FILE, dir),
    JSON.stringify({ scriptSha256: page.scriptSha256 }) + "\n",
  );
  return page;
}
