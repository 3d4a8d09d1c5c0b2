/**
 * The plugins of bench:hooks and what it reads of them: the profanity filter (plugins/) bundled
 * as `npm run plugin:bundle` bundles it, installed under several ids through the admin API,
 * turned on in a room by its owner (each one shown to rewrite a post there before the load), the
 * runner's own time per call through `POST /api/admin/plugins/{id}/try`, and the failed calls the
 * room logged (`plugin hook failed`).
 */
import { EdgechatApi } from "../../src/client/index.ts";
import { bundlePlugin } from "../../scripts/plugin-bundle.ts";
import { call, readLog } from "../http.ts";
import { percentiles, type Percentiles } from "../util.ts";

export const ADMIN = { username: "root", password: "correct horse battery staple" };
export const FILTER_ID = "profanity-filter";

/** The filter's ids: itself, then `profanity-filter-2`, … up to `count`. */
export const filterIds = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => (i === 0 ? FILTER_ID : `${FILTER_ID}-${i + 1}`));

/**
 * The bundled filter under another id: the registry installs a module under the id its
 * definition names, so the copy names `id`. Exactly one `id: "profanity-filter"` must be there.
 */
export function copyUnder(code: string, id: string): string {
  const declared = `id: ${JSON.stringify(FILTER_ID)},`;
  const at = code.indexOf(declared);
  if (at < 0 || code.indexOf(declared, at + 1) >= 0)
    throw new Error(`the filter's bundle should declare ${declared} once`);
  return code.slice(0, at) + `id: ${JSON.stringify(id)},` + code.slice(at + declared.length);
}

/** The filter's bundle, made once per run. */
export async function filterBundle(): Promise<string> {
  return (await bundlePlugin("plugins/profanity-filter")).code;
}

/** Registers the admin (ADMIN_USERNAMES names it) and installs the filter under every id. */
export async function installFilters(
  baseUrl: string,
  code: string,
  ids: readonly string[],
): Promise<EdgechatApi> {
  const session = await new EdgechatApi(baseUrl).register(ADMIN.username, ADMIN.password);
  const admin = new EdgechatApi(baseUrl, session.token);
  for (const id of ids) await admin.admin.plugins.install(id, { code: copyUnder(code, id) });
  return admin;
}

const CHECK_TEXT = "hook check: well, darn.";
const CHECKED_TEXT = "hook check: well, ****.";

/**
 * Turns `ids` on in `room` as its owner, first each alone with a post that it must rewrite (so
 * each is known to screen this room's posts: a failed hook lets a post through unchanged), then
 * all of them together.
 */
export async function turnOnAndCheck(
  baseUrl: string,
  owner: string,
  room: string,
  ids: readonly string[],
): Promise<void> {
  const path = (id: string) =>
    `/api/rooms/${encodeURIComponent(room)}/plugins/${encodeURIComponent(id)}`;
  const set = (id: string, enabled: boolean) => call(baseUrl, "PUT", path(id), owner, { enabled });
  for (const id of ids) {
    await set(id, true);
    const { seq } = await call<{ seq: number }>(
      baseUrl,
      "POST",
      `/api/rooms/${encodeURIComponent(room)}/messages`,
      owner,
      { clientId: crypto.randomUUID(), text: CHECK_TEXT },
    );
    const stored = (await readLog(baseUrl, owner, room)).find((e) => e.seq === seq)?.data?.text;
    if (stored !== CHECKED_TEXT)
      throw new Error(`${id} did not screen ${room}: "${CHECK_TEXT}" was stored as "${stored}"`);
    await set(id, false);
  }
  for (const id of ids) await set(id, true);
}

/** The runner's time for one before-commit call (its `ms`), idle, `calls` times per plugin. */
export type CallTimes = { ms: Percentiles; failed: number };

/**
 * `calls` before-commit calls of each plugin in `room`'s sandbox through the admin's `try`, one
 * after another: what the runner measures for a call (the RPC to the plugin's isolate, its
 * store read, its answer checked), whole milliseconds, with nothing else running.
 */
export async function callTimes(
  admin: EdgechatApi,
  room: string,
  ids: readonly string[],
  calls: number,
): Promise<CallTimes> {
  const ms: number[] = [];
  let failed = 0;
  for (const id of ids)
    for (let i = 0; i < calls; i++) {
      const outcome = await admin.admin.plugins.try(id, {
        hook: "beforeCommit",
        room,
        text: `${Date.now()} ${i} `.padEnd(100, "x"),
      });
      if (outcome.outcome === "ok") ms.push(outcome.ms);
      else failed += 1;
    }
  return { ms: percentiles(ms), failed };
}

// wrangler colours its output even into a file (a warning is `▲ [WARNING] {…}` in colours).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The before-commit calls that failed, by outcome, with the runner's time for each. */
export type HookFailures = { byOutcome: Record<string, number>; ms: Percentiles };

/**
 * The room's `plugin hook failed` lines (log.warn, one JSON object a line, src/room/plugins.ts)
 * in `wrangler dev`'s output, for `beforeCommit`: none means every post was screened, since a
 * failed hook lets its post through unscreened (fail open) and is logged.
 */
export function hookFailures(log: string): HookFailures {
  const byOutcome: Record<string, number> = {};
  const ms: number[] = [];
  for (const coloured of log.split("\n")) {
    const line = coloured.replace(ANSI, "");
    const start = line.indexOf('{"level"');
    if (start < 0 || !line.includes("plugin hook failed")) continue;
    let entry: { msg?: string; hook?: string; outcome?: string; ms?: number };
    try {
      entry = JSON.parse(line.slice(start, line.lastIndexOf("}") + 1)) as typeof entry;
    } catch {
      continue; // a line cut by the console
    }
    if (entry.msg !== "plugin hook failed" || entry.hook !== "beforeCommit") continue;
    const outcome = entry.outcome ?? "unknown";
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    if (typeof entry.ms === "number") ms.push(entry.ms);
  }
  return { byOutcome, ms: percentiles(ms) };
}
