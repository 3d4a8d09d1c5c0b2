// The plugin command line (docs/plugins.md, "Writing and installing a plugin"):
//
//   npm run plugin:bundle -- plugins/poll [--stdout]
//     bundles the folder into .wrangler/plugins/<id>.js (or prints it) and says what it holds;
//   npm run plugin:install -- plugins/poll --url http://127.0.0.1:8787 --token <admin token> [--host example.com]…
//     bundles it and installs it: PUT /api/admin/plugins/<id> {code, hosts}. The hosts granted are
//     exactly the --host values (none: no network). The token may come from EDGECHAT_TOKEN instead,
//     out of the shell's history. Prints the server's answer; exits 1 with its error.
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { bundlePlugin } from "./plugin-bundle.ts";

const USAGE = `usage:
  node scripts/plugin.mjs bundle <plugin folder> [--stdout]
  node scripts/plugin.mjs install <plugin folder> --url <server> [--token <admin token>] [--host <host>]…`;

function fail(message) {
  console.error(`plugin: ${message}`);
  process.exit(1);
}

function describe({ manifest, code }) {
  const parts = [
    `${manifest.id}@${manifest.version}`,
    `${(Buffer.byteLength(code) / 1024).toFixed(1)} KiB`,
    manifest.hooks.beforeCommit && "beforeCommit",
    manifest.hooks.afterEvent && "afterEvent",
    ...manifest.commands.map((command) => `/${command.name}`),
    ...manifest.jobs.map((job) => `job ${job.name} (${job.cron})`),
    manifest.hosts.length > 0 && `asks for ${manifest.hosts.join(", ")}`,
  ];
  return parts.filter(Boolean).join(" · ");
}

async function bundleCommand(folder, { stdout }) {
  const bundle = await bundlePlugin(folder);
  if (stdout) {
    process.stdout.write(bundle.code);
    return;
  }
  const out = new URL(`../.wrangler/plugins/${bundle.manifest.id}.js`, import.meta.url);
  await mkdir(new URL(".", out), { recursive: true });
  await writeFile(out, bundle.code);
  console.log(`${describe(bundle)}\n→ ${out.pathname}`);
}

/** The server's answer as the contract shapes errors ({error: {code, message}}), or its text. */
function errorOf(status, text) {
  try {
    const { error } = JSON.parse(text);
    if (error?.code) return `${status} ${error.code}: ${error.message}`;
  } catch {
    // not JSON: say what came
  }
  return `${status} ${text.slice(0, 500)}`;
}

async function installCommand(folder, { url, token, host }) {
  if (!url) fail(`--url is needed\n${USAGE}`);
  const bearer = token ?? process.env.EDGECHAT_TOKEN;
  if (!bearer) fail("an admin access token is needed: --token <token> or EDGECHAT_TOKEN");
  const bundle = await bundlePlugin(folder);
  const { manifest } = bundle;
  const hosts = host ?? [];
  const ungranted = manifest.hosts.filter((asked) => !hosts.includes(asked));
  if (ungranted.length > 0)
    console.warn(`note: ${manifest.id} asks for ${ungranted.join(", ")}, not granted (--host)`);
  const unasked = hosts.filter((granted) => !manifest.hosts.includes(granted));
  if (unasked.length > 0)
    console.warn(`note: ${manifest.id} does not ask for ${unasked.join(", ")}`);

  const target = new URL(`/api/admin/plugins/${encodeURIComponent(manifest.id)}`, url);
  let response;
  try {
    response = await fetch(target, {
      method: "PUT",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ code: bundle.code, hosts }),
    });
  } catch (error) {
    fail(`cannot reach ${target.origin}: ${error.cause?.message ?? error.message}`);
  }
  const text = await response.text();
  if (!response.ok) fail(`${target.pathname} answered ${errorOf(response.status, text)}`);
  console.log(`installed ${describe(bundle)}`);
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        stdout: { type: "boolean" },
        url: { type: "string" },
        token: { type: "string" },
        host: { type: "string", multiple: true },
      },
    });
  } catch (error) {
    return fail(`${error.message}\n${USAGE}`);
  }
})();
const [command, folder, ...extra] = positionals;
if (!folder || extra.length > 0 || (command !== "bundle" && command !== "install")) fail(USAGE);
try {
  if (command === "bundle") await bundleCommand(folder, values);
  else await installCommand(folder, values);
} catch (error) {
  fail(error.message);
}
