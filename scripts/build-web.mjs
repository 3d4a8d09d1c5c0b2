// Builds the browser UI from src/web into public/ (served by Workers static assets), and
// GraphiQL's page into public/graphiql/ (scripts/graphiql-page.ts: an asset, not in the worker).
// Run by `npm run dev`, `npm test` and `npm run deploy`; public/ is build output and not committed.
import { build } from "esbuild";
import { cp, mkdir, rm } from "node:fs/promises";
import { writeGraphiQLPage } from "./graphiql-page.ts";

const out = new URL("../public/", import.meta.url);
const web = new URL("../src/web/", import.meta.url);
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await cp(new URL("static/", web), out, { recursive: true });
await build({
  entryPoints: [new URL("app.ts", web).pathname],
  outfile: new URL("app.js", out).pathname,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
const graphiql = await writeGraphiQLPage(out);
console.log(
  `built the web UI into public/, GraphiQL into public/graphiql/ (script sha256-${graphiql.scriptSha256})`,
);
