import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IncomingHook } from "../../src/protocol/index.ts";
import {
  activeCount,
  createdText,
  curlExample,
  hookStatusText,
  lastUsedText,
  shellQuote,
} from "../../src/web/webhooks/incoming-rules.ts";

/** What a POSIX shell makes of `words`: each argument as a command receives it. */
const shellWords = (words: string): string[] =>
  execFileSync("sh", ["-c", `printf '%s\\0' ${words}`], { encoding: "utf8" })
    .split("\0")
    .slice(0, -1);

const NOW = 1_700_000_000_000;
const hook = (more: Partial<IncomingHook> = {}): IncomingHook => ({
  id: `ih_${"a".repeat(24)}`,
  room: "ops",
  name: "CI",
  botId: `svc_${"b".repeat(32)}`,
  createdBy: { id: "u_ada", name: "ada" },
  createdAt: NOW - 5 * 60_000,
  revokedAt: null,
  lastUsedAt: null,
  ...more,
});

describe("the curl command shown under a new incoming webhook's URL", () => {
  it("quotes any text as one shell word, quotes, $(…), backticks and newlines included", () => {
    const hostile = ["it's", "$(touch /tmp/x)", "`id`", "a\nb", "'", "''", "\\'", "!$HOME"];
    expect(shellWords(hostile.map(shellQuote).join(" "))).toEqual(hostile);
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: "binary" }).filter((s) => !s.includes("\0")),
          { minLength: 1, maxLength: 4 },
        ),
        (words) => {
          expect(shellWords(words.map(shellQuote).join(" "))).toEqual(words);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("posts JSON naming the hook to its URL, ready to paste into a shell", () => {
    const url = "https://chat.example/api/hooks/ops/ih_0123456789abcdef01234567/" + "A".repeat(43);
    const command = curlExample(url, `Nightly "build" it's`);
    expect(command).toBe(
      [
        `curl -X POST '${url}' \\`,
        "  -H 'content-type: application/json' \\",
        `  -d '{"text":"Hello from Nightly \\"build\\" it'\\''s"}'`,
      ].join("\n"),
    );
    // What curl would receive, as the shell hands it over.
    const args = shellWords(command.replace(/^curl /, ""));
    expect(args).toEqual([
      "-X",
      "POST",
      url,
      "-H",
      "content-type: application/json",
      "-d",
      JSON.stringify({ text: `Hello from Nightly "build" it's` }),
    ]);
  });
});

describe("an incoming webhook's card", () => {
  it("says whether it works, who made it and when, and its last use", () => {
    expect(hookStatusText(hook(), NOW)).toBe("active");
    expect(hookStatusText(hook({ revokedAt: NOW - 2_000 }), NOW)).toBe("revoked just now");
    expect(hookStatusText(hook({ revokedAt: NOW - 3 * 3_600_000 }), NOW)).toBe("revoked 3 h ago");
    expect(createdText(hook(), NOW)).toBe("by ada, 5 min ago");
    expect(lastUsedText(hook(), NOW)).toBe("never");
    expect(lastUsedText(hook({ lastUsedAt: NOW - 30_000 }), NOW)).toBe("30 s ago");
  });

  it("counts the hooks that still post (the room's limit counts only those)", () => {
    expect(activeCount([])).toBe(0);
    expect(activeCount([hook(), hook({ revokedAt: NOW }), hook()])).toBe(2);
  });
});
