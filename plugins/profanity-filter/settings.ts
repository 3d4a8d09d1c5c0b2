import type { Store } from "../../src/plugins/api.ts";
import { normalizeWord, WORD_LIMITS } from "./filter.ts";

export type Mode = "rewrite" | "refuse";
export type Settings = { mode: Mode; words: string[] };

/**
 * Mild placeholders, so that the repository stays polite: a room adds the words it really
 * minds with `/profanity add` (README.md).
 */
export const DEFAULT_WORDS = ["crud", "dang", "darn", "frick", "heck"];
export const DEFAULT_SETTINGS: Settings = { mode: "rewrite", words: DEFAULT_WORDS };

/** The one key of the room's settings in the plugin's store; absent until someone changes them. */
const KEY = "settings";

export async function readSettings(store: Store): Promise<Settings> {
  return (await store.get<Settings>(KEY)) ?? DEFAULT_SETTINGS;
}

const writeSettings = (store: Store, settings: Settings) => store.put(KEY, settings);

export async function setMode(store: Store, mode: Mode): Promise<Settings> {
  const settings = { ...(await readSettings(store)), mode };
  await writeSettings(store, settings);
  return settings;
}

export type Change = { settings: Settings; changed: string[]; problems: string[] };

/** The words of a comma-separated list, each normalized, or why one cannot be. */
function parseWords(list: string): { words: string[]; problems: string[] } {
  const words: string[] = [];
  const problems: string[] = [];
  for (const raw of list.split(",")) {
    if (raw.trim() === "") continue;
    const result = normalizeWord(raw);
    if ("word" in result) words.push(result.word);
    else problems.push(result.problem);
  }
  return { words, problems };
}

export async function addWords(store: Store, list: string): Promise<Change> {
  const { words, problems } = parseWords(list);
  const settings = await readSettings(store);
  const known = new Set(settings.words);
  const changed = [...new Set(words)].filter((word) => !known.has(word));
  const room = WORD_LIMITS.words - settings.words.length;
  if (changed.length > room)
    return {
      settings,
      changed: [],
      problems: [...problems, `the list holds at most ${WORD_LIMITS.words} words`],
    };
  const next = { ...settings, words: [...settings.words, ...changed].sort() };
  if (changed.length > 0) await writeSettings(store, next);
  return { settings: next, changed, problems };
}

export async function removeWords(store: Store, list: string): Promise<Change> {
  const { words, problems } = parseWords(list);
  const settings = await readSettings(store);
  const gone = new Set(words);
  const changed = settings.words.filter((word) => gone.has(word));
  const next = { ...settings, words: settings.words.filter((word) => !gone.has(word)) };
  if (changed.length > 0) await writeSettings(store, next);
  return { settings: next, changed, problems };
}
