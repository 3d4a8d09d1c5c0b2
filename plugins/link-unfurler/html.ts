/**
 * A page's title and description from the start of its HTML: `og:title` or `<title>`, and
 * `og:description` or `<meta name="description">`. A few bounded regular expressions rather than
 * a parser: a plugin bundles no packages, and these four values need no tree. Every repetition is
 * bounded, so that hostile HTML costs linear time.
 */

export type Preview = { title: string; description: string };

const META = /<meta\b[^>]{0,2000}>/giu;
const ATTRIBUTE = /([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))/gu;
const TITLE_OPEN = /<title\b[^>]{0,200}>/iu;
const TITLE_CLOSE = /<\/title\s{0,20}>/giu;

function attributesOf(tag: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const [, name, double, single, bare] of tag.matchAll(ATTRIBUTE)) {
    const key = name!.toLowerCase();
    if (!attributes.has(key)) attributes.set(key, double ?? single ?? bare ?? "");
  }
  return attributes;
}

/** `<meta property|name="…" content="…">` by its lower-cased name; the first of each wins. */
function metasOf(html: string): Map<string, string> {
  const metas = new Map<string, string>();
  for (const [tag] of html.matchAll(META)) {
    const attributes = attributesOf(tag);
    const name = (attributes.get("property") ?? attributes.get("name"))?.toLowerCase();
    const content = attributes.get("content");
    if (name !== undefined && content !== undefined && !metas.has(name)) metas.set(name, content);
  }
  return metas;
}

function titleElement(html: string): string | undefined {
  const open = TITLE_OPEN.exec(html);
  if (open === null) return undefined;
  TITLE_CLOSE.lastIndex = open.index + open[0].length;
  const close = TITLE_CLOSE.exec(html);
  return close === null ? undefined : html.slice(open.index + open[0].length, close.index);
}

export function previewOf(html: string): Preview {
  const metas = metasOf(html);
  const title = metas.get("og:title") ?? titleElement(html) ?? "";
  const description = metas.get("og:description") ?? metas.get("description") ?? "";
  return { title: decodeEntities(title), description: decodeEntities(description) };
}

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00A0",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  middot: "·",
  bull: "•",
  copy: "©",
  reg: "®",
  trade: "™",
};

const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/gu;

function character(codePoint: number): string {
  const valid =
    codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
  return valid ? String.fromCodePoint(codePoint) : "\uFFFD";
}

/** The HTML character references pages use in titles; an unknown name is left as written. */
export function decodeEntities(text: string): string {
  return text.replace(ENTITY, (whole, decimal?: string, hex?: string, name?: string) => {
    if (decimal !== undefined) return character(Number.parseInt(decimal, 10));
    if (hex !== undefined) return character(Number.parseInt(hex, 16));
    return NAMED[name!] ?? whole;
  });
}
