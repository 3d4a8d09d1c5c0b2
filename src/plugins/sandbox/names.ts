/**
 * The names the worker and the sandbox share: the modules of a plugin's Dynamic Worker and the
 * guard's reserved identifiers. Plugin code may not mention anything that starts with
 * `RESERVED_PREFIX` (instrument.ts refuses it), so it cannot shadow or reach the guard.
 */
export const RESERVED_PREFIX = "__edgechat";

/** The fuel guard the instrumented code calls at the top of every loop and function body. */
export const FUEL_NAME = `${RESERVED_PREFIX}_fuel`;

/** The compatibility date of the sandboxes: wrangler.toml's (a unit test holds them together). */
export const COMPATIBILITY_DATE = "2026-11-01";

/** The modules of a plugin's Dynamic Worker. */
export const MAIN_MODULE = "main.js";
export const RUNTIME_MODULE = "runtime.js";
export const PLUGIN_MODULE = "plugin.js";

/** The header the sandbox's fetch sets on each request: which hook call it belongs to. */
export const CALL_HEADER = "x-edgechat-plugin-call";

/**
 * On a response PluginOutbound made up to refuse a request (its body says why): the sandbox's
 * fetch turns it into the error the plugin's `fetch` rejects with. Taken off real responses.
 */
export const REFUSED_HEADER = "x-edgechat-plugin-refused";

/** The name of the error a plugin gets when it runs past one of its budgets. */
export const LIMIT_ERROR_NAME = "PluginLimit";
