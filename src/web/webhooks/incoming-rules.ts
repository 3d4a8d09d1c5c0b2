import type { IncomingHook } from "../../client/index.ts";
import { agoText } from "../admin/overview-data.ts";

/**
 * The incoming webhooks' words and rules (incoming-panel.ts), pure so that unit tests read them
 * without a browser.
 */

/** `text` as one POSIX shell word: single quotes, each `'` inside closed, escaped, reopened. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A `curl` command that posts a message through the hook at `url`, ready to paste into a POSIX
 * shell: a Slack-style JSON body whose text names the hook. One option a line, so that it reads
 * on a phone too.
 */
export function curlExample(url: string, name: string): string {
  const body = JSON.stringify({ text: `Hello from ${name}` });
  return [
    `curl -X POST ${shellQuote(url)} \\`,
    `  -H 'content-type: application/json' \\`,
    `  -d ${shellQuote(body)}`,
  ].join("\n");
}

/** How long ago, as in a sentence: "just now", "5 min ago", "never". */
function ago(at: number | null, now: number): string {
  const text = agoText(at, now);
  return text === "now" ? "just now" : text;
}

/** A hook's state as its owner reads it: working, or since when it is not. */
export function hookStatusText(hook: Pick<IncomingHook, "revokedAt">, now: number): string {
  return hook.revokedAt === null ? "active" : `revoked ${ago(hook.revokedAt, now)}`;
}

/** Who made it and when: "by ada, 5 min ago". */
export function createdText(hook: Pick<IncomingHook, "createdBy" | "createdAt">, now: number) {
  return `by ${hook.createdBy.name}, ${ago(hook.createdAt, now)}`;
}

/** Its last post, roughly (the server notes it at most once a minute), or "never". */
export const lastUsedText = (hook: Pick<IncomingHook, "lastUsedAt">, now: number) =>
  ago(hook.lastUsedAt, now);

/** Hooks that still post: the room's limit counts these only. */
export const activeCount = (hooks: readonly Pick<IncomingHook, "revokedAt">[]) =>
  hooks.filter((hook) => hook.revokedAt === null).length;
