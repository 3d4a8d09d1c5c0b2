import type * as z from "zod";

/**
 * localStorage is shared with every tab, with older versions of this app and with anything that
 * runs on the origin: what it holds is parsed with a schema, never trusted as typed.
 */
export type Stored<T> =
  | { found: "nothing" }
  /** Something this app would not have written: not JSON, or not of the schema. */
  | { found: "bad" }
  | { found: "value"; value: T };

/** The value stored under `key`, parsed with `schema`. Unreadable storage holds nothing. */
export function readStored<T>(key: string, schema: z.ZodType<T>): Stored<T> {
  let raw: string | null;
  try {
    raw = localStorage.getItem(key);
  } catch {
    return { found: "nothing" };
  }
  if (raw === null) return { found: "nothing" };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { found: "bad" };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { found: "value", value: parsed.data } : { found: "bad" };
}
