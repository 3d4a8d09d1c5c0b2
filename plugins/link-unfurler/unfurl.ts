import type { PluginAction, PluginContext, PluginEvent } from "../../src/plugins/api.ts";
import { FETCH_LIMITS, fetchHtml, type FetchLimits } from "./fetch-page.ts";
import { previewOf } from "./html.ts";
import { plainLine } from "./text.ts";
import { listedLinks } from "./urls.ts";

export const UNFURL_LIMITS = { linksPerMessage: 3, titleChars: 120, descriptionChars: 240 };

type Card = { host: string; title: string; description: string };

/** A link's card, or null when its page has nothing to show or cannot be read in time. */
async function cardOf(
  link: URL,
  hosts: readonly string[],
  fetchPage: typeof fetch,
  limits: FetchLimits,
): Promise<Card | null> {
  try {
    const html = await fetchHtml(link, hosts, fetchPage, limits);
    if (html === null) return null;
    const preview = previewOf(html);
    const title = plainLine(preview.title, UNFURL_LIMITS.titleChars);
    const description = plainLine(preview.description, UNFURL_LIMITS.descriptionChars);
    return title === "" && description === "" ? null : { host: link.hostname, title, description };
  } catch {
    // A refused host, a network error, the deadline: no card for this link, the others go on.
    return null;
  }
}

const cardText = (card: Card) =>
  [card.title === "" ? `🔗 ${card.host}` : `🔗 ${card.title} (${card.host})`, card.description]
    .filter((line) => line !== "")
    .join("\n");

/**
 * The reply to a posted message with a card for each listed link: one reply, in the message's
 * thread, or nothing when no link gave a card. The links are fetched together, so a message takes
 * one deadline, not three.
 */
export async function unfurl(
  event: PluginEvent,
  ctx: PluginContext,
  hosts: readonly string[],
  limits: FetchLimits = FETCH_LIMITS,
): Promise<PluginAction[]> {
  if (event.type !== "message.posted" || typeof event.data.text !== "string") return [];
  const links = listedLinks(event.data.text, hosts, UNFURL_LIMITS.linksPerMessage);
  if (links.length === 0) return [];
  // Called unbound: the runtime's fetch refuses a `this` that is not the global scope.
  const fetchPage = ctx.fetch;
  const cards = await Promise.all(links.map((link) => cardOf(link, hosts, fetchPage, limits)));
  const found = cards.filter((card) => card !== null);
  if (found.length === 0) return [];
  return [{ post: found.map(cardText).join("\n\n"), replyTo: event.seq }];
}
