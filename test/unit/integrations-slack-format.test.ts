import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_USERNAME_CODE_POINTS,
  readIncomingBody,
  slackMarkupToText,
  toMessageText,
  toSlackText,
} from "../../src/integrations/slack-format.ts";
import { LIMITS, MessageText } from "../../src/protocol/names.ts";

const textOf = (body: unknown) => {
  const result = toMessageText(body);
  if (!result.ok) throw new Error(`expected text, got ${result.code}: ${result.reason}`);
  return result.text;
};

describe("readIncomingBody", () => {
  it.each([
    ["application/json", '{"text":"hi"}', { text: "hi" }],
    ["application/json; charset=utf-8", '{"text":"hi"}', { text: "hi" }],
    ["Application/JSON;charset=latin1", '{"text":"hi"}', { text: "hi" }],
    ["application/x-www-form-urlencoded", "payload=%7B%22text%22%3A%22hi%22%7D", { text: "hi" }],
    ["application/x-www-form-urlencoded", 'payload={"text":"a+b%26c"}', { text: "a b&c" }],
    ["application/x-www-form-urlencoded; charset=utf-8", "channel=x&payload=%7B%7D", {}],
    // curl -d '{"text":"hi"}' sends JSON under the form's type
    ["application/x-www-form-urlencoded", '{"text":"hi"}', { text: "hi" }],
    ["application/json", "[1,2]", [1, 2]],
  ])("%s %s", (contentType, raw, body) => {
    expect(readIncomingBody(contentType, raw)).toEqual({ ok: true, body });
  });

  it.each([
    ["application/json", "{text:hi}", "the body is not valid JSON"],
    ["application/json", "", "the body is not valid JSON"],
    ["application/x-www-form-urlencoded", "payload=%7Bnope", "the payload field is not valid JSON"],
    [
      "application/x-www-form-urlencoded",
      "text=hi",
      "a form body needs a payload field holding the message's JSON",
    ],
    ["text/plain", '{"text":"hi"}', /content type must be application\/json/],
    [null, '{"text":"hi"}', /content type must be application\/json/],
    ["multipart/form-data; boundary=x", "--x--", /content type must be/],
  ])("%s %j: refused", (contentType, raw, reason) => {
    const result = readIncomingBody(contentType, raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe("Slack's markup as plain text", () => {
  it.each([
    ["see <https://example.com|the docs>", "see the docs (https://example.com)"],
    ["see <https://example.com>", "see https://example.com"],
    ["<https://example.com|https://example.com>", "https://example.com"],
    ["mail <mailto:ops@example.com|ops>", "mail ops (mailto:ops@example.com)"],
    ["hi <@U123>", "hi @U123"],
    ["hi <@U123|ada>", "hi @ada"],
    ["in <#C1|general>", "in #general"],
    ["in <#C1>", "in #C1"],
    ["<!here> deploy", "@here deploy"],
    ["<!channel>", "@channel"],
    ["<!everyone|everyone>", "@everyone"],
    ["<!subteam^S1|@oncall> look", "@oncall look"],
    ["<!subteam^S1>", "@S1"],
    [
      "at <!date^1392734382^Posted {date_num} {time_secs}|Posted 2014-02-18 6:39:42 AM PST>",
      "at Posted 2014-02-18 6:39:42 AM PST",
    ],
    ["&lt;b&gt; &amp; &amp;lt;", "<b> & &lt;"],
    ["&lt;https://x.example|no link&gt;", "<https://x.example|no link>"],
    ["<https://q.example/?a=1&amp;b=2|A &amp; B>", "A & B (https://q.example/?a=1&b=2)"],
    ["if a < b and c > d", "if a < b and c > d"],
    ["unclosed <https://example.com", "unclosed <https://example.com"],
    ["*bold* _it_ ~s~ `code`", "*bold* _it_ ~s~ `code`"],
  ])("%j → %j", (markup, text) => {
    expect(slackMarkupToText(markup)).toBe(text);
  });
});

describe("toMessageText on realistic bodies", () => {
  it("a GitHub Actions notification (attachments with fields)", () => {
    const body = {
      username: "GitHub Actions",
      icon_url: "https://github.githubassets.com/favicon.ico",
      attachments: [
        {
          color: "danger",
          fallback: "[octo/app] CI failed on main",
          author_name: "octocat",
          title: "CI #1234 failed",
          title_link: "https://github.com/octo/app/actions/runs/1234",
          text: "Commit <https://github.com/octo/app/commit/abc123|abc123>: fix &lt;Login&gt; flow",
          fields: [
            { title: "Repository", value: "<https://github.com/octo/app|octo/app>", short: true },
            { title: "Branch", value: "main", short: true },
            { title: "Duration", value: 93, short: true },
          ],
          footer: "GitHub Actions",
          ts: 1700000000,
        },
      ],
    };
    expect(toMessageText(body)).toEqual({
      ok: true,
      username: "GitHub Actions",
      truncated: false,
      text: [
        "CI #1234 failed (https://github.com/octo/app/actions/runs/1234)",
        "Commit abc123 (https://github.com/octo/app/commit/abc123): fix <Login> flow",
        "Repository: octo/app (https://github.com/octo/app)",
        "Branch: main",
        "Duration: 93",
        "GitHub Actions",
      ].join("\n"),
    });
  });

  it("a Jenkins build message (text and an attachment)", () => {
    const body = {
      text: "Build <https://ci.example.com/job/app/42/|app #42> finished: *SUCCESS* after 3 min",
      attachments: [
        { pretext: "Changes:", text: "• bump deps (ada)\n• fix flaky test (bob)", color: "good" },
      ],
    };
    expect(textOf(body)).toBe(
      "Build app #42 (https://ci.example.com/job/app/42/) finished: *SUCCESS* after 3 min\n\nChanges:\n• bump deps (ada)\n• fix flaky test (bob)",
    );
  });

  it("an Alertmanager alert (its default Slack template)", () => {
    const body = {
      channel: "#alerts",
      username: "Alertmanager",
      icon_emoji: ":fire:",
      attachments: [
        {
          color: "danger",
          title: "[FIRING:2] HighRequestLatency api (prod)",
          title_link: "https://alertmanager.example.com/#/alerts?receiver=slack",
          pretext: "",
          text: "*Alert:* p99 latency above 500ms - `critical`\n*Description:* api p99 is 730ms\n*Details:*\n  • *instance:* `api-1:9090`",
          fallback: "[FIRING:2] HighRequestLatency api (prod) | https://alertmanager.example.com",
          callback_id: "",
          footer: "",
          mrkdwn_in: ["fallback", "pretext", "text"],
          actions: [
            {
              type: "button",
              text: "Runbook :green_book:",
              url: "https://runbooks.example.com/latency",
            },
          ],
        },
      ],
    };
    expect(toMessageText(body)).toEqual({
      ok: true,
      username: "Alertmanager",
      truncated: false,
      text:
        "[FIRING:2] HighRequestLatency api (prod) (https://alertmanager.example.com/#/alerts?receiver=slack)\n" +
        "*Alert:* p99 latency above 500ms - `critical`\n*Description:* api p99 is 730ms\n*Details:*\n  • *instance:* `api-1:9090`",
    });
  });

  it("Block Kit: header, sections with fields, context, divider, image; actions skipped; text ignored", () => {
    const body = {
      text: "Deploy finished (fallback for notifications)",
      blocks: [
        {
          type: "header",
          text: { type: "plain_text", text: "Deploy finished :rocket:", emoji: true },
        },
        {
          type: "section",
          text: { type: "mrkdwn", text: "*api* v2.3.1 is live on <https://api.example.com|prod>" },
          accessory: {
            type: "button",
            text: { type: "plain_text", text: "Logs" },
            url: "https://x",
          },
        },
        {
          type: "section",
          fields: [
            { type: "mrkdwn", text: "*By:*\n<@U024BE7LH|ada>" },
            { type: "mrkdwn", text: "*When:*\n<!date^1700000000^{date_short}|Nov 14>" },
          ],
        },
        { type: "divider" },
        {
          type: "actions",
          elements: [{ type: "button", text: { type: "plain_text", text: "Roll back" } }],
        },
        { type: "image", image_url: "https://example.com/graph.png", alt_text: "latency graph" },
        { type: "image", image_url: "https://example.com/no-alt.png" },
        {
          type: "context",
          elements: [
            { type: "image", image_url: "https://x/i.png", alt_text: "icon" },
            { type: "mrkdwn", text: "took 4m12s" },
            { type: "plain_text", text: "pipeline 88" },
          ],
        },
        { type: "video", title: { type: "plain_text", text: "skipped" } },
      ],
    };
    expect(textOf(body)).toBe(
      [
        "Deploy finished :rocket:",
        "*api* v2.3.1 is live on prod (https://api.example.com)",
        "*By:*\n@ada\n*When:*\nNov 14",
        "---",
        "latency graph",
        "https://example.com/no-alt.png",
        "took 4m12s pipeline 88",
      ].join("\n"),
    );
  });

  it("rich_text: sections, lists, code, quotes, links, mentions, emoji", () => {
    const body = {
      blocks: [
        {
          type: "rich_text",
          elements: [
            {
              type: "rich_text_section",
              elements: [
                { type: "broadcast", range: "here" },
                { type: "text", text: " release " },
                { type: "text", text: "v2", style: { bold: true } },
                { type: "text", text: " by " },
                { type: "user", user_id: "U123" },
                { type: "text", text: " in " },
                { type: "channel", channel_id: "C9" },
                { type: "text", text: " " },
                { type: "emoji", name: "thumbsup", unicode: "1f44d-1f3fb" },
                { type: "emoji", name: "partyparrot" },
                { type: "text", text: ": " },
                { type: "link", url: "https://example.com/notes", text: "notes" },
                { type: "text", text: " " },
                { type: "link", url: "https://example.com/raw" },
                { type: "usergroup", usergroup_id: "S1" },
                { type: "text", text: "\n" },
              ],
            },
            {
              type: "rich_text_list",
              style: "ordered",
              elements: [
                { type: "rich_text_section", elements: [{ type: "text", text: "migrate" }] },
                { type: "rich_text_section", elements: [{ type: "text", text: "deploy" }] },
              ],
            },
            {
              type: "rich_text_list",
              style: "bullet",
              indent: 1,
              elements: [
                { type: "rich_text_section", elements: [{ type: "text", text: "nested" }] },
              ],
            },
            {
              type: "rich_text_preformatted",
              elements: [{ type: "text", text: "npm run deploy\nexit 0" }],
            },
            { type: "rich_text_quote", elements: [{ type: "text", text: "ship it\nnow" }] },
          ],
        },
      ],
    };
    expect(textOf(body)).toBe(
      "@here release v2 by @U123 in #C9 👍🏻:partyparrot:: notes (https://example.com/notes) https://example.com/raw\n" +
        "1. migrate\n2. deploy\n  - nested\nnpm run deploy\nexit 0\n> ship it\n> now",
    );
  });

  it("a payload= form body, as Slack's incoming webhooks take it", () => {
    const raw = `payload=${encodeURIComponent(JSON.stringify({ text: "Backup <https://s3.example/b|done> &amp; verified", username: "cron" }))}`;
    const read = readIncomingBody("application/x-www-form-urlencoded", raw);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(toMessageText(read.body)).toEqual({
      ok: true,
      text: "Backup done (https://s3.example/b) & verified",
      username: "cron",
      truncated: false,
    });
  });
});

describe("toMessageText's rules", () => {
  it("prefers blocks with text; text when blocks have none", () => {
    const section = { type: "section", text: { type: "mrkdwn", text: "from blocks" } };
    expect(textOf({ text: "from text", blocks: [section] })).toBe("from blocks");
    expect(
      textOf({
        text: "from text",
        blocks: [{ type: "divider" }, { type: "actions", elements: [] }],
      }),
    ).toBe("from text");
    expect(textOf({ text: "from text", blocks: [] })).toBe("from text");
    expect(
      textOf({
        text: "from text",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: "  " } }],
      }),
    ).toBe("from text");
  });

  it("skips blocks and attachments it cannot read, and keeps the rest", () => {
    const body = {
      blocks: [
        { type: "section", text: 5 },
        "junk",
        null,
        { type: "header", text: { type: "plain_text", text: "kept" } },
      ],
      attachments: [7, { text: { nested: true } }, { text: "also kept" }],
    };
    expect(textOf(body)).toBe("kept\n\nalso kept");
  });

  it("uses an attachment's fallback only when it shows nothing else", () => {
    expect(textOf({ attachments: [{ fallback: "summary", color: "good" }] })).toBe("summary");
    expect(textOf({ attachments: [{ fallback: "summary", text: "details" }] })).toBe("details");
    expect(
      textOf({ attachments: [{ fields: [{ title: "only title" }, { value: "only value" }] }] }),
    ).toBe("only title\nonly value");
    expect(textOf({ attachments: [{ title_link: "https://x.example" }] })).toBe(
      "https://x.example",
    );
    expect(
      textOf({
        attachments: [
          { blocks: [{ type: "header", text: { type: "plain_text", text: "in attachment" } }] },
        ],
      }),
    ).toBe("in attachment");
  });

  it("plain_text is shown as written, mrkdwn is converted", () => {
    const block = (type: string) => ({
      type: "section",
      text: { type, text: "<https://x.example|x> &amp;" },
    });
    expect(textOf({ blocks: [block("plain_text")] })).toBe("<https://x.example|x> &amp;");
    expect(textOf({ blocks: [block("mrkdwn")] })).toBe("x (https://x.example) &");
  });

  it("cleans: valid Unicode, no controls but \\n and \\t, CRLF as \\n, trimmed", () => {
    expect(textOf({ text: "  a\u0000b\u0007c\u001bd\u007fe\r\nf\rg\th\n  " })).toBe(
      "abcde\nf\ng\th",
    );
    expect(textOf({ text: "bad \ud800 surrogate" })).toBe("bad \ufffd surrogate");
    expect(textOf({ text: "\ufeff\u0085 x \u2028" })).toBe("x");
  });

  it("cuts at the message limit with an ellipsis, in code points", () => {
    const emoji = "😀".repeat(LIMITS.messageCodePoints + 10);
    const result = toMessageText({ text: emoji });
    expect(result).toMatchObject({ ok: true, truncated: true });
    if (!result.ok) return;
    expect([...result.text]).toHaveLength(LIMITS.messageCodePoints);
    expect(result.text.endsWith("😀…")).toBe(true);
    expect(MessageText.safeParse(result.text).success).toBe(true);
    expect(toMessageText({ text: "a".repeat(LIMITS.messageCodePoints) })).toMatchObject({
      ok: true,
      truncated: false,
    });
  });

  it("a username only when it has text: trimmed, one line, at most 80 code points", () => {
    const nameOf = (username: unknown) => {
      const result = toMessageText({ text: "x", username });
      return result.ok ? result.username : result.code;
    };
    expect(nameOf("  deploy-bot ")).toBe("deploy-bot");
    expect(nameOf("two\nlines\u0000")).toBe("two lines");
    expect(nameOf("")).toBeUndefined();
    expect(nameOf("   ")).toBeUndefined();
    expect(nameOf(null)).toBeUndefined();
    expect(nameOf(undefined)).toBeUndefined();
    expect(nameOf("é".repeat(100))).toBe("é".repeat(MAX_USERNAME_CODE_POINTS));
    expect(nameOf(42)).toBe("invalid_body");
  });

  it("no_text when nothing readable is left", () => {
    const noText = {
      ok: false,
      code: "no_text",
      reason: "the body has no text, blocks or attachments with text",
    };
    for (const body of [
      {},
      { text: "" },
      { text: " \n\t " },
      { text: "\u0000" },
      { blocks: [{ type: "divider" }] },
      { attachments: [{ color: "good" }] },
      { icon_emoji: ":x:" },
      { text: null },
    ]) {
      expect(toMessageText(body)).toEqual(noText);
    }
  });

  it("invalid_body when the body is not an object or a known field has the wrong type", () => {
    expect(toMessageText([{ text: "x" }])).toEqual({
      ok: false,
      code: "invalid_body",
      reason: "the body is not a JSON object",
    });
    expect(toMessageText("text")).toMatchObject({ ok: false, code: "invalid_body" });
    expect(toMessageText(null)).toMatchObject({ ok: false, code: "invalid_body" });
    expect(toMessageText({ text: 5 })).toMatchObject({
      ok: false,
      code: "invalid_body",
      reason: expect.stringMatching(/^text: /),
    });
    expect(toMessageText({ text: "x", attachments: {} })).toMatchObject({
      ok: false,
      code: "invalid_body",
      reason: expect.stringMatching(/^attachments: /),
    });
    expect(toMessageText({ text: "x", mrkdwn: "yes" })).toMatchObject({
      ok: false,
      code: "invalid_body",
    });
  });

  it("ignores keys it does not know", () => {
    expect(
      textOf({
        text: "hi",
        channel: "#x",
        unfurl_links: false,
        response_type: "in_channel",
        metadata: { a: 1 },
      }),
    ).toBe("hi");
  });
});

describe("toSlackText", () => {
  it.each([
    ["plain", "plain"],
    ["a & b", "a &amp; b"],
    ["<script>", "&lt;script&gt;"],
    ["&amp;", "&amp;amp;"],
    ["<@U123> <!here> <https://x|y>", "&lt;@U123&gt; &lt;!here&gt; &lt;https://x|y&gt;"],
    ["*bold* _it_ \"quotes\" 'single' é 😀", "*bold* _it_ \"quotes\" 'single' é 😀"],
  ])("%j → %j", (text, slack) => {
    expect(toSlackText(text)).toBe(slack);
  });

  it("round-trips through Slack's unescaping (fuzzed)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const escaped = toSlackText(text);
        expect(escaped).not.toMatch(/[<>]/);
        expect(
          escaped.replace(/&(amp|lt|gt);/g, (_, n: string) => ({ amp: "&", lt: "<", gt: ">" })[n]!),
        ).toBe(text);
      }),
    );
  });
});

describe("fuzzing: never a throw, always valid text or a reason", () => {
  function expectValid(result: ReturnType<typeof toMessageText>) {
    if (result.ok) {
      expect(MessageText.safeParse(result.text).success).toBe(true);
      expect(result.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      if (result.username !== undefined) {
        expect([...result.username].length).toBeGreaterThan(0);
        expect([...result.username].length).toBeLessThanOrEqual(MAX_USERNAME_CODE_POINTS);
      }
    } else {
      expect(["no_text", "invalid_body"]).toContain(result.code);
      expect(result.reason.length).toBeGreaterThan(0);
    }
  }

  it("any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        expectValid(toMessageText(body));
      }),
      { numRuns: 2000 },
    );
  });

  // Shaped like Slack's bodies, so that the fuzzer reaches the blocks and attachments.
  const anyText = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.constantFrom(
      "<@U1|a>",
      "&amp;",
      "<!here>",
      "<https://x|y>",
      "\u0000",
      "\ud800",
      "<!subteam^S>",
      "<|>",
      "<>",
      "<!>",
    ),
  );
  const textObject = fc.record({
    type: fc.constantFrom("mrkdwn", "plain_text", "other"),
    text: anyText,
  });
  const inline = fc.oneof(
    fc.record({ type: fc.constant("text"), text: anyText }),
    fc.record({
      type: fc.constant("link"),
      url: anyText,
      text: fc.option(anyText, { nil: undefined }),
    }),
    fc.record({
      type: fc.constant("emoji"),
      name: anyText,
      unicode: fc.oneof(
        fc.stringMatching(/^[0-9a-fA-F-]{0,20}$/),
        fc.constantFrom("d800", "110000", "1f600-1f3fb", "-", ""),
      ),
    }),
    fc.record({
      type: fc.constantFrom("user", "channel", "broadcast"),
      user_id: anyText,
      channel_id: anyText,
      range: anyText,
    }),
    fc.jsonValue(),
  );
  const richElement = fc.record({
    type: fc.constantFrom(
      "rich_text_section",
      "rich_text_list",
      "rich_text_preformatted",
      "rich_text_quote",
    ),
    style: fc.constantFrom("bullet", "ordered"),
    indent: fc.integer({ min: -1, max: 10 }),
    elements: fc.array(
      fc.oneof(
        inline,
        fc.record({ type: fc.constant("rich_text_section"), elements: fc.array(inline) }),
      ),
    ),
  });
  const block = fc.oneof(
    fc.record({
      type: fc.constantFrom("section", "header"),
      text: textObject,
      fields: fc.array(textObject),
    }),
    fc.record({
      type: fc.constant("context"),
      elements: fc.array(fc.oneof(textObject, fc.jsonValue())),
    }),
    fc.record({ type: fc.constantFrom("divider", "actions", "video") }),
    fc.record({ type: fc.constant("image"), image_url: anyText, alt_text: anyText }),
    fc.record({ type: fc.constant("rich_text"), elements: fc.array(richElement) }),
    fc.jsonValue(),
  );
  const attachment = fc.record(
    {
      fallback: anyText,
      pretext: anyText,
      title: anyText,
      title_link: anyText,
      text: anyText,
      footer: anyText,
      fields: fc.array(
        fc.record({ title: anyText, value: fc.oneof(anyText, fc.double()) }, { requiredKeys: [] }),
      ),
      blocks: fc.array(block),
    },
    { requiredKeys: [] },
  );
  const slackBody = fc.record(
    {
      text: fc.oneof(anyText, fc.string({ unit: "binary", minLength: 3000, maxLength: 5000 })),
      username: anyText,
      blocks: fc.array(block, { maxLength: 6 }),
      attachments: fc.array(attachment, { maxLength: 3 }),
    },
    { requiredKeys: [] },
  );

  it("Slack-shaped bodies", () => {
    fc.assert(
      fc.property(slackBody, (body) => {
        expectValid(toMessageText(body));
      }),
      { numRuns: 2000 },
    );
  });

  it("any raw body under any content type", () => {
    const contentType = fc.option(
      fc.constantFrom(
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/json; charset=utf-8",
        "",
      ),
      { nil: null },
    );
    const raw = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.json(),
      slackBody.map((body) => `payload=${encodeURIComponent(JSON.stringify(body))}`),
      fc.string({ unit: "binary" }).map((s) => `payload=${s}`),
    );
    fc.assert(
      fc.property(contentType, raw, (type, text) => {
        const read = readIncomingBody(type, text);
        if (read.ok) expectValid(toMessageText(read.body));
        else expect(read.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});
