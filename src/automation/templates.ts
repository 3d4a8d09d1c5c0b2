/**
 * The text templates of actions (docs/automation.md, "Templates"): `{user}`, `{text}` and `{room}`
 * are filled in once, left to right, so that a value holding `{user}` stays as it is; any other
 * brace is kept. The result is cut to the limit of where it goes.
 */

export type TemplateValues = {
  /** The triggering person's name; empty when nobody triggered the rule (a schedule). */
  user: string;
  /** The triggering message's text; empty when there is none. */
  text: string;
  room: string;
};

const PLACEHOLDER = /\{(user|text|room)\}/g;

/** The template with its placeholders filled in, at most `maxCodePoints` long. */
export function fillTemplate(
  template: string,
  values: TemplateValues,
  maxCodePoints: number,
): string {
  const filled = template.replace(PLACEHOLDER, (_, field: keyof TemplateValues) => values[field]);
  return cutText(filled, maxCodePoints);
}

/** The placeholders a template uses. */
export const placeholdersIn = (template: string): Set<string> =>
  new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]!));

const ELLIPSIS = "…";

/**
 * `text` cut to `max` code points, an ellipsis at the end when it was cut. Cut by code points,
 * so that the result is still valid Unicode (never half a surrogate pair).
 */
export function cutText(text: string, max: number): string {
  const points = [...text];
  if (points.length <= max) return text;
  return points.slice(0, Math.max(0, max - 1)).join("") + ELLIPSIS;
}
