// Bundles a plugin folder (plugins/<name>/index.ts) into the one ES module the registry installs:
// esbuild, es2022, every import inlined, nothing minified so that an admin can read what they
// install. Used by scripts/plugin.mjs (npm run plugin:bundle / plugin:install) and its unit test.
import { build, type Metafile, type Plugin } from "esbuild";
import { resolve } from "node:path";
import type { PluginDefinition } from "../src/plugins/api.ts";
import { PluginManifest } from "../src/protocol/automation.ts";

/** `inputs`: the files bundled, relative to the repository. */
export type Bundle = { code: string; manifest: PluginManifest; inputs: string[] };

/** Every import left in a module: static, dynamic or `require`, as esbuild reads them. */
export function importsLeft(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) =>
    output.imports.map((found) => `${found.kind} ${found.path}`),
  );
}

/** What the registry will read from the plugin, checked here first against the contract. */
export function manifestOf(definition: PluginDefinition): PluginManifest {
  const result = PluginManifest.safeParse({
    id: definition.id,
    version: definition.version,
    description: definition.description ?? "",
    hooks: {
      beforeCommit: typeof definition.beforeCommit === "function",
      afterEvent: typeof definition.afterEvent === "function",
    },
    commands: Object.entries(definition.commands ?? {}).map(([name, command]) => ({
      name,
      usage: command.usage,
      description: command.description,
    })),
    jobs: Object.entries(definition.jobs ?? {}).map(([name, job]) => ({
      name,
      cron: job.cron,
      timeZone: job.timeZone ?? "UTC",
    })),
    hosts: definition.hosts ?? [],
  });
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".")}: ${issue.message}`,
    );
    throw new Error(
      `the plugin's definition does not fit the contract:\n  ${problems.join("\n  ")}`,
    );
  }
  return result.data;
}

/**
 * The module's default export, evaluated in this process: the bundle imports nothing, so it runs
 * as it is. A plugin's top-level code runs here too; keep it to definitions.
 */
export async function definitionOf(code: string): Promise<PluginDefinition> {
  const url = `data:text/javascript;base64,${Buffer.from(code).toString("base64")}`;
  const module = (await import(url)) as { default?: PluginDefinition };
  if (typeof module.default !== "object" || module.default === null)
    throw new Error("the bundle has no default export: export default definePlugin({ … })");
  return module.default;
}

/**
 * `replace`: files of the folder (paths relative to it) bundled with other contents instead, for
 * a test's variant of a plugin (the link unfurler with a loopback host in its list, say).
 */
export type BundleOptions = { replace?: Record<string, string> };

export async function bundlePlugin(folder: string, options: BundleOptions = {}): Promise<Bundle> {
  const result = await build({
    entryPoints: [resolve(folder, "index.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    // No Node built-ins: a plugin runs in a bare Dynamic Worker. Packages resolve as wrangler
    // resolves them for a worker.
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    charset: "utf8",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: replacing(folder, options.replace ?? {}),
  });
  const left = importsLeft(result.metafile);
  if (left.length > 0) throw new Error(`the bundle still imports: ${left.join(", ")}`);
  const code = result.outputFiles[0]!.text;
  const inputs = Object.keys(result.metafile.inputs).sort();
  const unused = Object.keys(options.replace ?? {}).filter(
    (file) => !inputs.some((input) => resolve(input) === resolve(folder, file)),
  );
  if (unused.length > 0) throw new Error(`the bundle does not use ${unused.join(", ")}`);
  return { code, manifest: manifestOf(await definitionOf(code)), inputs };
}

/** An esbuild plugin that loads the given files' replacement contents rather than the files. */
function replacing(folder: string, files: Record<string, string>): Plugin[] {
  const contents = new Map(
    Object.entries(files).map(([file, text]) => [resolve(folder, file), text] as const),
  );
  if (contents.size === 0) return [];
  return [
    {
      name: "replace",
      setup(build) {
        build.onLoad({ filter: /.*/ }, (args) => {
          const text = contents.get(args.path);
          return text === undefined ? undefined : { contents: text, loader: "ts" };
        });
      },
    },
  ];
}
