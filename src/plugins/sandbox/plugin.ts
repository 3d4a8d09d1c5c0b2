import type { PluginDefinition } from "../api.ts";

/**
 * Stands for the installed plugin's module in the sandbox: entry.ts imports it by this path,
 * and the bundle (scripts/sandbox-modules.ts) turns the import into `./plugin.js`, which is the
 * plugin's instrumented code in each Dynamic Worker. Never bundled itself: it only gives the
 * import its type.
 */
declare const definition: PluginDefinition | undefined;
export default definition;
