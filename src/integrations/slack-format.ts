/**
 * Slack-compatible incoming webhook bodies → our messages' plain text, and room text → Slack.
 * What Slack shows of a message (`blocks`, else `text`, then `attachments`) is what we keep,
 * with Slack's markup (`<url|label>`, `<@U123>`, `&amp;`) written out as plain text.
 * The mapping table is in docs/integrations.md, "Signatures, URLs and formats".
 */
import * as z from "zod";
import { LIMITS } from "../protocol/names.ts";

// ---- reading the body ------------------------------------------------------------------------

export type IncomingBody = { ok: true; body: unknown } | { ok: false; reason: string };

/**
 * The JSON of an incoming webhook's body: `application/json` (charset ignored), or a form
 * (`application/x-www-form-urlencoded`) whose `payload` field holds the JSON, as Slack accepts.
 * A form without `payload` whose whole body is a JSON object is read as JSON too: that is what
 * `curl -d '{"text":"hi"}'` sends, and Slack takes it.
 */
export function readIncomingBody(contentType: string | null, raw: string): IncomingBody {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === "application/json") return parseJson(raw, "the body");
  if (mediaType === "application/x-www-form-urlencoded") {
    const payload = new URLSearchParams(raw).get("payload");
    if (payload !== null) return parseJson(payload, "the payload field");
    if (raw.trimStart().startsWith("{")) return parseJson(raw, "the body");
    return { ok: false, reason: "a form body needs a payload field holding the message's JSON" };
  }
  return {
    ok: false,
    reason:
      "the content type must be application/json, or application/x-www-form-urlencoded with a payload field",
  };
}

function parseJson(text: string, what: string): IncomingBody {
  try {
    return { ok: true, body: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: `${what} is not valid JSON` };
  }
}

// ---- the body's schema -----------------------------------------------------------------------

/**
 * An array whose items that do not parse are skipped rather than refused: Slack's block and
 * attachment formats are wide and grow, and a part we cannot read should not lose the rest.
 */
function lenientArray<T extends z.ZodType>(item: T) {
  return z.array(z.unknown()).transform((items) =>
    items.flatMap((value): z.output<T>[] => {
      const parsed = item.safeParse(value);
      return parsed.success ? [parsed.data] : [];
    }),
  );
}

const optionalText = z.string().nullish();

/** A Block Kit text object: `plain_text` is shown as it is, `mrkdwn` has Slack's markup. */
const TextObject = z.looseObject({ type: z.string().optional(), text: z.string() });
type TextObject = z.output<typeof TextObject>;

const RichInline = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text"), text: z.string() }),
  z.looseObject({ type: z.literal("link"), url: z.string(), text: z.string().optional() }),
  z.looseObject({ type: z.literal("user"), user_id: z.string() }),
  z.looseObject({ type: z.literal("channel"), channel_id: z.string() }),
  z.looseObject({ type: z.literal("emoji"), name: z.string(), unicode: z.string().optional() }),
  z.looseObject({ type: z.literal("broadcast"), range: z.string() }),
]);
type RichInline = z.output<typeof RichInline>;

const RichSection = z.looseObject({
  type: z.literal("rich_text_section"),
  elements: lenientArray(RichInline),
});

const RichElement = z.discriminatedUnion("type", [
  RichSection,
  z.looseObject({
    type: z.literal("rich_text_list"),
    style: z.string().optional(),
    indent: z.number().int().min(0).max(8).optional(),
    offset: z.number().int().min(0).max(1_000_000).optional(),
    elements: lenientArray(RichSection),
  }),
  z.looseObject({ type: z.literal("rich_text_preformatted"), elements: lenientArray(RichInline) }),
  z.looseObject({ type: z.literal("rich_text_quote"), elements: lenientArray(RichInline) }),
]);
type RichElement = z.output<typeof RichElement>;

export const SlackBlock = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("section"),
    text: TextObject.optional(),
    fields: lenientArray(TextObject).optional(),
  }),
  z.looseObject({ type: z.literal("header"), text: TextObject }),
  // Image elements of a context block have no text and are skipped with the unreadable.
  z.looseObject({ type: z.literal("context"), elements: lenientArray(TextObject) }),
  z.looseObject({ type: z.literal("divider") }),
  z.looseObject({
    type: z.literal("image"),
    image_url: z.string().optional(),
    alt_text: z.string().optional(),
  }),
  z.looseObject({ type: z.literal("rich_text"), elements: lenientArray(RichElement) }),
]);
export type SlackBlock = z.output<typeof SlackBlock>;

const AttachmentField = z.looseObject({
  title: optionalText,
  // Some senders write numbers here; Slack shows them.
  value: z.union([z.string(), z.number()]).nullish(),
});

const Attachment = z.looseObject({
  fallback: optionalText,
  pretext: optionalText,
  title: optionalText,
  title_link: optionalText,
  text: optionalText,
  fields: lenientArray(AttachmentField).nullish(),
  footer: optionalText,
  blocks: lenientArray(SlackBlock).nullish(),
});
type Attachment = z.output<typeof Attachment>;

/**
 * The fields of a Slack-compatible message body that we read; other keys are allowed and
 * ignored. A known field of the wrong type is refused; a block, attachment or element we
 * cannot read is skipped.
 */
export const SlackMessageBody = z.looseObject({
  text: optionalText,
  username: optionalText,
  icon_url: optionalText,
  icon_emoji: optionalText,
  mrkdwn: z.boolean().nullish(),
  thread_ts: optionalText,
  attachments: lenientArray(Attachment).nullish(),
  blocks: lenientArray(SlackBlock).nullish(),
});
export type SlackMessageBody = z.output<typeof SlackMessageBody>;

// ---- Slack's markup → plain text -------------------------------------------------------------

/**
 * `<target>` or `<target|label>`. A target has no space (so `a < b > c` is left alone) unless it
 * is a command like `<!date^1392734382^Posted {date_short}|Feb 18>`.
 */
const CONTROL = /<(![^<>|]*|[^\s<>|]+)(?:\|([^<>]*))?>/g;
const BROADCASTS = new Set(["here", "channel", "everyone"]);

/**
 * Slack's `mrkdwn` text as plain text: links as `label (url)`, mentions as `@name`, `#channel`,
 * `@here`, dates as their fallback, then `&amp; &lt; &gt;` unescaped (after, so that an escaped
 * `&lt;` never opens a link).
 */
export function slackMarkupToText(text: string): string {
  return text
    .replace(CONTROL, (_, target: string, label?: string) => control(target, label))
    .replace(/&(amp|lt|gt);/g, (_, name: string) => ({ amp: "&", lt: "<", gt: ">" })[name]!);
}

function control(target: string, label: string | undefined): string {
  const named = label !== undefined && label !== "" ? label : undefined;
  if (target.startsWith("@")) return named ? `@${named.replace(/^@/, "")}` : target;
  if (target.startsWith("#")) return named ? `#${named.replace(/^#/, "")}` : target;
  if (target.startsWith("!")) return special(target.slice(1), named);
  return named && named !== target ? `${named} (${target})` : target;
}

/** `<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>` and the like. */
function special(command: string, label: string | undefined): string {
  if (BROADCASTS.has(command)) return `@${command}`;
  const [kind, id] = command.split("^");
  if (kind === "subteam") return label ?? `@${id ?? "team"}`;
  return label ?? "";
}

// ---- blocks and attachments → text -----------------------------------------------------------

const DIVIDER = "---";

function textObject(object: TextObject): string {
  return object.type === "mrkdwn" ? slackMarkupToText(object.text) : object.text;
}

/** The blocks' text, one block a line, or "" when no block has text (dividers alone do not count). */
function blocksText(blocks: readonly SlackBlock[]): string {
  const lines = blocks.map(blockText).filter((line) => line.trim() !== "");
  return lines.some((line) => line !== DIVIDER) ? lines.join("\n") : "";
}

function blockText(block: SlackBlock): string {
  switch (block.type) {
    case "section":
      return [block.text, ...(block.fields ?? [])]
        .filter((object) => object !== undefined)
        .map(textObject)
        .join("\n");
    case "header":
      return textObject(block.text);
    case "context":
      return block.elements.map(textObject).join(" ");
    case "divider":
      return DIVIDER;
    case "image":
      return block.alt_text || block.image_url || "";
    case "rich_text":
      return block.elements.map(richElementText).join("\n");
  }
}

function richElementText(element: RichElement): string {
  switch (element.type) {
    case "rich_text_section":
    case "rich_text_preformatted":
      return inlineText(element.elements);
    case "rich_text_quote":
      return inlineText(element.elements)
        .split("\n")
        .map((line) => `> ${line}`)
        .join("\n");
    case "rich_text_list": {
      const indent = "  ".repeat(element.indent ?? 0);
      const start = (element.offset ?? 0) + 1;
      return element.elements
        .map((item, i) => {
          const marker = element.style === "ordered" ? `${start + i}.` : "-";
          return `${indent}${marker} ${inlineText(item.elements)}`;
        })
        .join("\n");
    }
  }
}

/** A rich text run's text; Slack ends a section with its own "\n", which the join supplies. */
function inlineText(elements: readonly RichInline[]): string {
  return elements.map(inlineElementText).join("").replace(/\n$/, "");
}

function inlineElementText(element: RichInline): string {
  switch (element.type) {
    case "text":
      return element.text;
    case "link":
      return element.text && element.text !== element.url
        ? `${element.text} (${element.url})`
        : element.url;
    case "user":
      return `@${element.user_id}`;
    case "channel":
      return `#${element.channel_id}`;
    case "emoji":
      return emojiText(element.name, element.unicode);
    case "broadcast":
      return `@${element.range}`;
  }
}

/** An emoji from its code points in hex (`1f44d-1f3fb`), else its `:name:`. */
function emojiText(name: string, unicode: string | undefined): string {
  const points = unicode
    ?.split("-")
    .map((hex) => (/^[0-9a-f]{1,6}$/i.test(hex) ? parseInt(hex, 16) : NaN));
  if (points && points.length <= 16 && points.every((point) => point <= 0x10ffff)) {
    return String.fromCodePoint(...points);
  }
  return `:${name}:`;
}

function attachmentText(attachment: Attachment): string {
  const markup = (text: string | null | undefined) => slackMarkupToText(text ?? "");
  const title = markup(attachment.title);
  const link = attachment.title_link ?? "";
  const fields = (attachment.fields ?? []).map((field) => {
    const [name, value] = [markup(field.title), markup(field.value?.toString())];
    return name && value ? `${name}: ${value}` : name || value;
  });
  const parts = [
    markup(attachment.pretext),
    title && link ? `${title} (${link})` : title || link,
    markup(attachment.text),
    ...fields,
    blocksText(attachment.blocks ?? []),
    markup(attachment.footer),
  ].filter((part) => part.trim() !== "");
  return parts.length > 0 ? parts.join("\n") : markup(attachment.fallback);
}

// ---- cleaning up -----------------------------------------------------------------------------

/** C0 controls but \t and \n (\r is made \n first), and DEL. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
/** Unicode's White_Space (U+0085 included, which String.trim keeps) and the BOM, as MessageText. */
const WHITE_SPACE = /[\p{White_Space}\uFEFF]/u;

function clean(text: string): string {
  const cleaned = text.toWellFormed().replace(/\r\n?/g, "\n").replace(CONTROLS, "");
  return trimWhiteSpace(cleaned);
}

/** A loop, not a regex: `[\s]+$` retries from every space of a long run (quadratic). */
function trimWhiteSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && WHITE_SPACE.test(text[start]!)) start++;
  while (end > start && WHITE_SPACE.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** At most `limit` code points; a cut text ends with `…` within the limit. */
function truncate(text: string, limit: number): { text: string; truncated: boolean } {
  const points = [...text];
  if (points.length <= limit) return { text, truncated: false };
  return { text: `${points.slice(0, limit - 1).join("")}…`, truncated: true };
}

export const MAX_USERNAME_CODE_POINTS = 80;

function displayName(username: string | null | undefined): string | undefined {
  if (!username) return undefined;
  const name = clean(username.replace(/[\n\t]/g, " "));
  return name === "" ? undefined : [...name].slice(0, MAX_USERNAME_CODE_POINTS).join("");
}

// ---- the message ---------------------------------------------------------------------------

export type MessageFromSlack =
  | { ok: true; text: string; username?: string; truncated: boolean }
  | { ok: false; code: "no_text" | "invalid_body"; reason: string };

/**
 * Our message from a Slack-compatible body: the blocks' text when they have any, else `text`
 * (Slack's own fallback), then each attachment, separated by blank lines; cleaned (valid
 * Unicode, no control characters but \n and \t, trimmed) and cut to LIMITS.messageCodePoints.
 * `invalid_body` when the body is not an object or a known field has the wrong type;
 * `no_text` when nothing readable is left.
 */
export function toMessageText(body: unknown): MessageFromSlack {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, code: "invalid_body", reason: "the body is not a JSON object" };
  }
  const parsed = SlackMessageBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, code: "invalid_body", reason: `${issue.path.join(".")}: ${issue.message}` };
  }
  const message = parsed.data;
  const main = blocksText(message.blocks ?? []) || slackMarkupToText(message.text ?? "");
  const sections = [main, ...(message.attachments ?? []).map(attachmentText)];
  const text = clean(sections.filter((section) => section.trim() !== "").join("\n\n"));
  if (text === "") {
    return {
      ok: false,
      code: "no_text",
      reason: "the body has no text, blocks or attachments with text",
    };
  }
  const username = displayName(message.username);
  return {
    ok: true,
    ...truncate(text, LIMITS.messageCodePoints),
    ...(username === undefined ? {} : { username }),
  };
}

/** Room text for Slack: `&`, `<` and `>` escaped, as Slack's "Escaping text" asks, no more. */
export function toSlackText(text: string): string {
  return text.replace(/[&<>]/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[char]!);
}
