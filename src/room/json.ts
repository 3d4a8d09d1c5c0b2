/** A header's JSON, or undefined when it is missing or not JSON: parsed with a schema after. */
export function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
