// Builds the browser UI from src/web into public/ (served by Workers static assets), and
// GraphiQL's page into public/graphiql/ (scripts/graphiql-page.ts: an asset, not in the worker).
// Run by `npm run dev`, `npm test` and `npm run deploy`; public/ is build output and not committed.
import { build } from "esbuild";
import { cp, mkdir, rm } from "node:fs/promises";
import { writeGraphiQLPage } from "./graphiql-page.ts";

const out = new URL("../public/", import.meta.url);
const web = new URL("../src/web/", import.meta.url);
const root = new URL("../", import.meta.url);
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await cp(new URL("static/", web), out, { recursive: true });
await build({
  // The app, and the admin dashboard's stylesheet with uPlot's (public/admin.css).
  entryPoints: {
    app: new URL("app.ts", web).pathname,
    admin: new URL("admin/admin.css", web).pathname,
  },
  outdir: out.pathname,
  entryNames: "[name]",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
// uPlot on its own (public/uplot.js), imported by the dashboard when it first draws a chart
// (src/web/admin/charts.ts): people who only chat never download it. It imports nothing, so
// nothing is bundled twice; esbuild's code splitting would have kept zod whole in app.js.
await build({
  stdin: { contents: 'export { default } from "uplot";', resolveDir: root.pathname },
  outfile: new URL("uplot.js", out).pathname,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  logLevel: "warning",
});
const graphiql = await writeGraphiQLPage(out);
console.log(
  `built the web UI into public/, GraphiQL into public/graphiql/ (script sha256-${graphiql.scriptSha256})`,
);
