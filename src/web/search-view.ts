import { ApiError, type EdgechatApi } from "../client/index.ts";
import { errorText, handleUnauthorized, type AppContext, type View } from "./context.ts";
import { h, replace, time } from "./dom.ts";
import { roomHref } from "./route.ts";
import { serviceBadge } from "./service-badge.ts";

type Results = Awaited<ReturnType<EdgechatApi["search"]>>;
type Hit = Results["results"][number];

const PAGE = 20;
const NEEDS_POSTGRES = "Search needs Postgres: run npm run dev:pg";

/** The user's last acked message, so that a search right after it can ask to include it. */
let lastWrite: { room: string; seq: number } | undefined;
/** The server said it runs without Postgres: say so again without asking it again. */
let unavailable: string | undefined;

/** Called by the chat view when a post is acked: the next searches ask for read-your-writes. */
export function noteWrite(room: string, seq: number): void {
  lastWrite = { room, seq };
}

/**
 * Results of a full-text search over every room the user may read, best first, with the
 * matched words marked, and a button for the next page. Without Postgres the server answers
 * 503 `unavailable`: its message shows once, in place of the results.
 */
export function searchView(ctx: AppContext, q: string): View {
  const status = h("p", {
    class: "hint",
    role: "status",
    "aria-live": "polite",
    "data-testid": "search-status",
  });
  const notice = h("div", {
    class: "flash",
    role: "alert",
    "data-testid": "search-unavailable",
    hidden: true,
  });
  const list = h("ol", { class: "hits", "data-testid": "search-results" });
  const more = h(
    "button",
    {
      type: "button",
      "data-testid": "search-more",
      hidden: true,
      on: { click: () => void load() },
    },
    "More results",
  );
  let nextOffset: number | null = 0;
  let count = 0;
  let disposed = false;

  function showUnavailable(message: string): void {
    replace(notice, h("p", {}, message), h("p", { class: "hint" }, `${NEEDS_POSTGRES}.`));
    notice.hidden = false;
    status.textContent = "";
    more.hidden = true;
  }

  async function load(): Promise<void> {
    if (nextOffset === null) return;
    if (unavailable !== undefined) return showUnavailable(unavailable);
    const offset = nextOffset;
    more.disabled = true;
    status.textContent = offset === 0 ? "Searching…" : "Loading more…";
    try {
      const page = await ctx.call((api) =>
        api.search(q, { limit: PAGE, offset, ...(lastWrite ?? {}) }),
      );
      if (disposed) return;
      const lines = page.results.map(hitLine);
      list.append(...lines);
      // The button may go away under the keyboard's focus: hand it to the first new result.
      if (offset > 0 && document.activeElement === more)
        lines[0]?.querySelector<HTMLAnchorElement>("a")?.focus();
      count += page.results.length;
      nextOffset = page.nextOffset;
      more.hidden = nextOffset === null;
      status.textContent =
        count === 0
          ? "No messages match."
          : `${count} ${count === 1 ? "message" : "messages"}${nextOffset === null ? "" : " so far"}`;
    } catch (error) {
      if (handleUnauthorized(ctx, error) || disposed) return;
      if (error instanceof ApiError && error.status === 503) {
        // "runs without Postgres" will not change until the server restarts; an outage may.
        if (/without Postgres/i.test(error.message)) unavailable = error.message;
        return showUnavailable(error.message);
      }
      status.textContent = "";
      notice.hidden = false;
      replace(notice, h("p", {}, `Search failed: ${errorText(error)}`));
    } finally {
      more.disabled = false;
    }
  }

  const el = h(
    "main",
    { class: "screen search" },
    h(
      "section",
      { class: "card", "aria-labelledby": "search-title" },
      h(
        "div",
        { class: "row spread" },
        h("h2", { id: "search-title" }, "Search: ", h("q", {}, q)),
        h("a", { href: "#/" }, "← Rooms"),
      ),
      status,
      notice,
      list,
      more,
    ),
  );
  void load();
  return {
    el,
    dispose() {
      disposed = true;
    },
  };
}

/** Messages up to this long are shown whole; longer ones as the server's excerpt. */
const WHOLE = 400;

function hitLine(hit: Hit): HTMLLIElement {
  const text = h("p", { class: "text", "data-testid": "search-text" });
  for (const piece of pieces(hit)) {
    if (piece.match) {
      const mark = document.createElement("mark");
      mark.textContent = piece.text;
      text.append(mark);
    } else {
      text.append(document.createTextNode(piece.text));
    }
  }
  return h(
    "li",
    { class: "hit", "data-testid": "search-hit", "data-room": hit.room, "data-seq": hit.id },
    h(
      "div",
      { class: "meta" },
      h("a", { href: roomHref(hit.room), "data-testid": "search-room" }, `#${hit.room}`),
      " ",
      h("span", { class: "author" }, hit.author.name),
      serviceBadge(hit.author.id),
      " ",
      time(hit.at),
    ),
    text,
  );
}

/**
 * What to show of a hit. The server's highlight is an excerpt around the matches (it may leave
 * out words of even a short message): a short message is shown whole, with the words the
 * server marked marked again in it; a long one as the excerpt. A voice message posted without
 * text shows what was said, the transcript's excerpt (docs/attachments.md, "Search").
 */
export function pieces(
  hit: Pick<Hit, "text" | "highlight" | "transcript">,
): { text: string; match: boolean }[] {
  if (!hit.text && hit.transcript) return hit.transcript;
  const words = [...new Set(hit.highlight.filter((p) => p.match).map((p) => p.text.trim()))].filter(
    Boolean,
  );
  if (hit.text.length > WHOLE && hit.highlight.length) return hit.highlight;
  if (!words.length) return [{ text: hit.text, match: false }];
  const escaped = words
    .sort((a, b) => b.length - a.length)
    .map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${escaped.join("|")})(?![\\p{L}\\p{N}])`,
    "giu",
  );
  const out: { text: string; match: boolean }[] = [];
  let at = 0;
  for (const found of hit.text.matchAll(pattern)) {
    if (found.index > at) out.push({ text: hit.text.slice(at, found.index), match: false });
    out.push({ text: found[0], match: true });
    at = found.index + found[0].length;
  }
  if (at < hit.text.length) out.push({ text: hit.text.slice(at), match: false });
  // Should the words not be found again (another normalisation), the excerpt is still right.
  return out.some((p) => p.match) || !hit.highlight.length ? out : hit.highlight;
}
