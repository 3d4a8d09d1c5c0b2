import { MAX_PLUGIN_CODE_BYTES, type PluginManifest } from "../../client/index.ts";
import { cronText, orList } from "./automation-rules.ts";

/**
 * The plugin screens' words and rules (the room's Plugins panel, the dashboard's Plugins
 * section), pure so that unit tests read them without a browser.
 */

/** What a plugin hooks into, in words ("checks posts before they are committed"). */
export function hooksText(manifest: Pick<PluginManifest, "hooks" | "commands" | "jobs">): string {
  const parts: string[] = [];
  if (manifest.hooks.beforeCommit) parts.push("checks posts and edits before they are committed");
  if (manifest.hooks.afterEvent) parts.push("reacts to what happens in the room");
  if (manifest.commands.length)
    parts.push(
      `adds ${orList(
        manifest.commands.map((c) => `/${c.name}`),
        "and",
      )}`,
    );
  if (manifest.jobs.length)
    parts.push(`runs ${manifest.jobs.length === 1 ? "a job" : `${manifest.jobs.length} jobs`}`);
  return parts.length ? `${parts.join("; ")}.` : "Does nothing yet.";
}

/**
 * Where its fetch may go, after "It": "has no network", or the hosts, granted ("may fetch from")
 * or, where only the manifest is known, asked for ("asks to fetch from").
 */
export const hostsText = (hosts: readonly string[], verb = "may fetch from") =>
  hosts.length ? `${verb} ${orList(hosts, "and")}` : "has no network";

/** A version's grant, short: "no hosts", or "hosts a.example, b.example". */
export const grantText = (hosts: readonly string[]) =>
  hosts.length ? `hosts ${hosts.join(", ")}` : "no hosts";

/** A job as a line: its name and when it runs. */
export const jobText = (job: PluginManifest["jobs"][number]) =>
  `${job.name}: ${cronText(job.cron)} (${job.timeZone})`;

/** A rule's plugin action's choices: each command of the plugins this room runs. */
export function commandChoices(
  manifests: readonly PluginManifest[],
  enabled: ReadonlySet<string>,
): { value: string; label: string }[] {
  return manifests
    .filter((manifest) => enabled.has(manifest.id))
    .flatMap((manifest) =>
      manifest.commands.map((command) => ({
        value: `${manifest.id}/${command.name}`,
        label: `/${command.name} ${command.usage}`.trim() + ` (${manifest.id})`,
      })),
    );
}

/**
 * A plugin id guessed from a bundle's file name (`poll.js`, `link-unfurler.bundle.mjs` →
 * `link-unfurler`): the id field's first value; the server checks it against the plugin's own.
 */
export function idFromFileName(name: string): string {
  const base = name.replace(/^.*[\\/]/, "").replace(/(\.bundle)?\.(m?js|ts)$/i, "");
  const id = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 40);
  return id.length >= 2 ? id : "";
}

/** The hosts field: names separated by commas or spaces, lower-cased, each once. */
export function hostsOf(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}

/** Versions newest first (by number: 1.10.0 after 1.9.0). */
export function newestFirst<T extends { version: string }>(versions: readonly T[]): T[] {
  const parts = (v: string) => v.split(".").map(Number);
  return [...versions].sort((a, b) => {
    const [x, y] = [parts(a.version), parts(b.version)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
  });
}

/** Why a chosen file cannot be a plugin bundle, or undefined. */
export function bundleProblem(file: { name: string; size: number }): string | undefined {
  if (!/\.(m?js)$/i.test(file.name))
    return "Choose the plugin's bundle: one .js or .mjs file (npm run plugin:bundle makes it).";
  if (file.size === 0) return "That file is empty.";
  if (file.size > MAX_PLUGIN_CODE_BYTES)
    return (
      `That file is ${Math.ceil(file.size / 1024)} KiB; a bundle is at most ` +
      `${MAX_PLUGIN_CODE_BYTES / 1024} KiB.`
    );
  return undefined;
}
