/**
 * The limits of a plugin's key-value store (docs/plugins.md, "Store"): one store per plugin per
 * room, values as JSON text. Pure: the PluginStorage object asks these before it writes.
 */
export const STORE_LIMITS = {
  keyChars: 256,
  valueBytes: 64 * 1024,
  keys: 1000,
  totalBytes: 4 * 1024 * 1024,
  /** Rows one `list` answers with, at most (the store holds at most `keys`). */
  listRows: 1000,
} as const;

const utf8Bytes = (text: string) => new TextEncoder().encode(text).byteLength;

/** Why a key is refused, or undefined. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== "string" || key.length === 0) return "a key is a non-empty string";
  if (key.length > STORE_LIMITS.keyChars) {
    return `a key is at most ${STORE_LIMITS.keyChars} characters`;
  }
  return undefined;
}

/** What the store holds now, and what one `put` would change. */
export type StoreUsage = { keys: number; bytes: number };
export type PutPlan = { key: string; value: string; replacing: StoreUsage };

/** Why a `put` is refused, or undefined: the value's size, then the store's keys and bytes after it. */
export function putProblem(usage: StoreUsage, plan: PutPlan): string | undefined {
  const keyProblemFound = keyProblem(plan.key);
  if (keyProblemFound) return keyProblemFound;
  if (typeof plan.value !== "string") return "a value is JSON text";
  const bytes = utf8Bytes(plan.key) + utf8Bytes(plan.value);
  if (utf8Bytes(plan.value) > STORE_LIMITS.valueBytes) {
    return `a value is at most ${STORE_LIMITS.valueBytes} bytes of JSON`;
  }
  const keys = usage.keys - plan.replacing.keys + 1;
  if (keys > STORE_LIMITS.keys) return `a store holds at most ${STORE_LIMITS.keys} keys`;
  if (usage.bytes - plan.replacing.bytes + bytes > STORE_LIMITS.totalBytes) {
    return `a store holds at most ${STORE_LIMITS.totalBytes} bytes`;
  }
  return undefined;
}

/** The store's object name: one per plugin per room (plugin ids hold no `/`). */
export const storageName = (plugin: string, room: string) => `${plugin}/${room}`;
