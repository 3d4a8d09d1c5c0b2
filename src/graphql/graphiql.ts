import { z } from "zod";
import { ApiError } from "../http/api-error.ts";
import { errorFields, log } from "../telemetry/log.ts";

/**
 * GraphiQL, self-hosted and served as a static asset. The page (about 9 MB: React, GraphiQL and
 * Monaco inline) is rendered by @graphql-yoga/render-graphiql at UI build time
 * (scripts/graphiql-page.ts) into public/graphiql/, next to a page.json that holds the SHA-256 of
 * its one inline script. The worker reads those 64 bytes once per isolate to build the page's
 * policy, and streams the page from the ASSETS binding: the page never enters the worker's
 * bundle, and no request hashes 9 MB (the free plan allows 10 ms of CPU per request). The assets
 * and the worker are deployed together as one version, so the hash read from the assets always
 * belongs to the page beside it.
 */
export const GRAPHIQL_PAGE = "/graphiql/"; // index.html, at its canonical URL (html_handling)
export const GRAPHIQL_HASH = "/graphiql/page.json";

/**
 * Whether a path would reach GraphiQL's files in the assets. The app's catch-all refuses them:
 * the page is served only at /graphql, with its policy, and only while introspection is on.
 * (Elsewhere, under the app's policy, its inline script would not even run.)
 */
export function isGraphiQLFile(path: string): boolean {
  return path === "/graphiql" || path.startsWith("/graphiql/");
}

/** Yoga's own test for a browser asking for GraphiQL (its shouldRenderGraphiQL). */
export function wantsGraphiQL(request: Request): boolean {
  return request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html");
}

/** The page's policy, directive by directive (docs/graphql.md, "GraphiQL"). */
export function graphiqlPagePolicy(scriptSha256: string): string {
  return [
    "default-src 'none'",
    // The page's one inline script, by its hash: no other inline or remote script runs.
    `script-src 'sha256-${scriptSha256}'`,
    // Monaco writes style="…" attributes (innerHTML of its view lines) and a <style> of its
    // theme's colours and icons at run time, with no nonce support; a hash of the page's static
    // <style> would switch 'unsafe-inline' off for them. CSS cannot run script.
    "style-src 'unsafe-inline'",
    // The editor's workers: blob: URLs the page's own script makes from its own strings.
    "worker-src blob:",
    // The favicon, the codicon font and a few icons are data: URLs inside the page.
    "img-src data:",
    "font-src data:",
    // Queries go to /graphql.
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The ASSETS binding, as much of it as is used here (the unit tests' Node types lack Fetcher). */
type Assets = { fetch(input: URL | Request): Promise<Response> };

const PageHash = z.object({ scriptSha256: z.string().regex(/^[A-Za-z0-9+/]{43}=$/) });

const notBuilt = (what: string) => {
  log.error("GraphiQL is missing from the assets: run npm run build:web", { missing: what });
  return new ApiError("unavailable", "GraphiQL is not available on this server");
};

async function readPolicy(assets: Assets, origin: string): Promise<string> {
  const answer = await assets.fetch(new URL(GRAPHIQL_HASH, origin));
  if (!answer.ok) await answer.body?.cancel();
  const json: unknown = answer.ok ? await answer.json().catch(() => undefined) : undefined;
  const parsed = PageHash.safeParse(json);
  if (!parsed.success) throw notBuilt(GRAPHIQL_HASH);
  return graphiqlPagePolicy(parsed.data.scriptSha256);
}

let policy: Promise<string> | undefined;

/** The policy, read once per isolate; a failed read is tried again on the next request. */
function policyOnce(assets: Assets, origin: string): Promise<string> {
  if (!policy) {
    policy = readPolicy(assets, origin);
    policy.catch(() => (policy = undefined));
  }
  return policy;
}

/**
 * The page from ASSETS and its policy. The browser's If-None-Match goes along, so a reload is a
 * 304 from the asset's ETag rather than 9 MB again.
 */
export async function graphiqlAnswer(
  assets: Assets,
  request: Request,
): Promise<{ response: Response; policy: string }> {
  const conditional = new Headers();
  const etag = request.headers.get("if-none-match");
  if (etag) conditional.set("if-none-match", etag);
  const [pagePolicy, page] = await Promise.all([
    policyOnce(assets, request.url),
    assets.fetch(new Request(new URL(GRAPHIQL_PAGE, request.url), { headers: conditional })),
  ]);
  if (page.status !== 200 && page.status !== 304) {
    await page.body?.cancel();
    throw notBuilt(GRAPHIQL_PAGE);
  }
  return { response: new Response(page.body, page), policy: pagePolicy };
}
