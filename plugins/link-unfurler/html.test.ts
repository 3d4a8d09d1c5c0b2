import { describe, expect, it } from "vitest";
import { decodeEntities, previewOf } from "./html.ts";
import { cut, plainLine } from "./text.ts";
import { listedLinks } from "./urls.ts";

describe("a page's preview", () => {
  it("reads meta tags with any quoting and attribute order, the first of each winning", () => {
    const html = `<meta content=Bare property=og:title><meta property="og:title" content="Second">
      <meta name='DESCRIPTION' content='Described'><title>T</title>`;
    expect(previewOf(html)).toEqual({ title: "Bare", description: "Described" });
  });

  it("takes og:description over the description tag, and nothing when there is neither", () => {
    const html = `<meta name="description" content="plain"><meta property="og:description" content="og">`;
    expect(previewOf(html).description).toBe("og");
    expect(previewOf("<p>nothing</p>")).toEqual({ title: "", description: "" });
    expect(previewOf("<title>never closed")).toEqual({ title: "", description: "" });
  });

  it("decodes character references, leaving unknown names and impossible numbers safe", () => {
    expect(
      decodeEntities("a &amp; b &lt;i&gt; &#39;q&#x27; &eacute; &#xD800; &#0; &#1114112;"),
    ).toBe("a & b <i> 'q' &eacute; \uFFFD \uFFFD \uFFFD");
  });
});

describe("text made safe to post", () => {
  it("drops control and bidirectional characters, keeps emoji joiners, and defuses links", () => {
    expect(plainLine("a\u0000b\u202Ec\u2066d\n\te 👩\u200D💻 http://x.test", 100)).toBe(
      "a bcd e 👩\u200D💻 http:\u2060//x.test",
    );
  });

  it("cuts to code points without splitting a character", () => {
    expect(cut("abcdef", 6)).toBe("abcdef");
    expect(cut("abcdef", 4)).toBe("abc…");
    // An "e" with 50 combining marks is one character of 51 code points: cut whole, or kept whole.
    const zalgo = `e${"\u0301".repeat(50)}`;
    expect(cut(`ab${zalgo}cd`, 40)).toBe("ab…");
    expect([...cut(zalgo.repeat(100), 4000)].length).toBeLessThanOrEqual(4000);
  });
});

describe("the links worth a preview", () => {
  const hosts = ["example.com"];
  it("takes listed http(s) hosts only, trailing punctuation off, each once", () => {
    const links = listedLinks(
      "(see https://example.com/a), https://EXAMPLE.com/a. http://example.com/b! " +
        "https://sub.example.com/ https://example.com.evil.test/ https://user@evil.test/?example.com",
      hosts,
      3,
    );
    expect(links.map((url) => url.href)).toEqual(["https://example.com/a", "http://example.com/b"]);
  });

  it("stops at the limit", () => {
    const text = Array.from({ length: 5 }, (_, i) => `https://example.com/${i}`).join(" ");
    expect(listedLinks(text, hosts, 3)).toHaveLength(3);
  });
});
