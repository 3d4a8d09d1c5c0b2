import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { OutboundResult } from "../../src/integrations/outbound-request.ts";
import {
  readSlashAnswer,
  readSlashMessage,
  slashForm,
  slashRequest,
  type SlashInvocation,
  type SlashTarget,
} from "../../src/integrations/slash-call.ts";

const target: SlashTarget = {
  name: "deploy",
  url: "https://ci.example/slack/deploy",
  signingSecret: "8f742231b10e8888abcd99yyyzzz85a5",
  verificationToken: "gIkuvaNzQIHg97ATvDxqgjtO",
  bot: { id: `svc_${"a".repeat(32)}`, name: "deploybot" },
};
const run: SlashInvocation = {
  room: "ops",
  caller: { id: "u-1", name: "ada" },
  text: "status & more",
  host: "chat.example",
  responseUrl: "https://chat.example/api/slash/responses/ops.abc",
  triggerId: "1700000000.0123456789abcdef0123",
};

describe("the request, as Slack sends a slash command", () => {
  it("sends Slack's form fields, in Slack's order", () => {
    const form = new URLSearchParams(slashForm(target, run));
    expect([...form]).toEqual([
      ["token", target.verificationToken],
      ["team_id", "edgechat"],
      ["team_domain", "chat.example"],
      ["channel_id", "ops"],
      ["channel_name", "ops"],
      ["user_id", "u-1"],
      ["user_name", "ada"],
      ["command", "/deploy"],
      ["text", "status & more"],
      ["api_app_id", target.bot.id],
      ["is_enterprise_install", "false"],
      ["response_url", run.responseUrl],
      ["trigger_id", run.triggerId],
    ]);
    // Form encoding, as Slack's: spaces as +, & escaped.
    expect(slashForm(target, run)).toContain("text=status+%26+more");
  });

  it("signs v0 over v0:{timestamp}:{body} with the command's secret", async () => {
    const init = await slashRequest(target, run, 1_700_000_000);
    const headers = init.headers as Record<string, string>;
    expect(headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(headers["x-slack-request-timestamp"]).toBe("1700000000");
    const expected = createHmac("sha256", target.signingSecret)
      .update(`v0:1700000000:${String(init.body)}`)
      .digest("hex");
    expect(headers["x-slack-signature"]).toBe(`v0=${expected}`);
    expect(headers["user-agent"]).toMatch(/edgechat/);
  });
});

const answered = (
  status: number,
  text: string,
  contentType: string | null = "text/plain",
  extra: Partial<OutboundResult> = {},
): OutboundResult => ({
  status,
  ok: status >= 200 && status < 300,
  durationMs: 5,
  responseExcerpt: text.slice(0, 1024),
  body: { text, truncated: false, contentType },
  ...extra,
});

describe("the answer, as Slack reads it", () => {
  it("an empty 200 is accepted: the answer may come later", () => {
    expect(readSlashAnswer("deploy", answered(200, ""))).toEqual({ kind: "accepted" });
    expect(readSlashAnswer("deploy", answered(200, "  \n"))).toEqual({ kind: "accepted" });
    expect(readSlashAnswer("deploy", answered(204, "", null))).toEqual({ kind: "accepted" });
  });

  it("JSON: in_channel or ephemeral (the default), with text, blocks and attachments", () => {
    const json = (body: unknown) =>
      readSlashAnswer(
        "deploy",
        answered(200, JSON.stringify(body), "application/json; charset=utf-8"),
      );
    expect(json({ response_type: "in_channel", text: "Deployed *v2*" })).toEqual({
      kind: "in_channel",
      text: "Deployed *v2*",
    });
    expect(json({ text: "only you" })).toEqual({ kind: "ephemeral", text: "only you" });
    expect(
      json({
        response_type: "ephemeral",
        blocks: [
          { type: "section", text: { type: "mrkdwn", text: "See <https://ci.example|CI>" } },
        ],
      }),
    ).toEqual({ kind: "ephemeral", text: "See CI (https://ci.example)" });
    expect(json({ response_type: "in_channel" })).toEqual({ kind: "accepted" });
    expect(json({ response_type: "everyone", text: "x" })).toMatchObject({
      kind: "ephemeral",
      text: expect.stringMatching(/^\/deploy answered a message we cannot read: response_type/),
    });
    expect(json(["a list"])).toMatchObject({ kind: "ephemeral", text: /cannot read/ });
  });

  it("plain text is ephemeral, Slack's markup written out", () => {
    expect(readSlashAnswer("deploy", answered(200, "All <!here> green"))).toEqual({
      kind: "ephemeral",
      text: "All @here green",
    });
    // Slack reads JSON only when it says it is JSON.
    expect(readSlashAnswer("deploy", answered(200, '{"text":"x"}'))).toEqual({
      kind: "ephemeral",
      text: '{"text":"x"}',
    });
  });

  it("every failure is an ephemeral line saying what went wrong", () => {
    const line = (result: OutboundResult) => {
      const answer = readSlashAnswer("deploy", result);
      expect(answer.kind).toBe("ephemeral");
      return answer.kind === "ephemeral" ? answer.text : "";
    };
    expect(line(answered(500, "boom"))).toBe("/deploy failed: its server answered HTTP 500.");
    expect(line(answered(404, ""))).toBe("/deploy failed: its server answered HTTP 404.");
    expect(
      line({ status: null, ok: false, durationMs: 3000, error: "timeout", responseExcerpt: "" }),
    ).toBe("/deploy did not answer in time (3 s).");
    expect(
      line({ status: null, ok: false, durationMs: 1, error: "network", responseExcerpt: "" }),
    ).toBe("/deploy could not be reached.");
    expect(line(answered(302, "", null, { ok: false, error: "redirect" }))).toMatch(
      /redirect \(HTTP 302\), which is not followed/,
    );
    expect(line(answered(200, "{nope", "application/json"))).toMatch(/JSON that does not parse/);
    expect(
      line({
        ...answered(200, "x".repeat(100), "text/plain"),
        body: { text: "x", truncated: true, contentType: null },
      }),
    ).toMatch(/more than 64 KiB/);
  });
});

describe("follow-ups through a response_url", () => {
  it("reads Slack's fields and what we do with replace_original and delete_original", () => {
    expect(readSlashMessage({ text: "done", response_type: "in_channel" })).toEqual({
      ok: true,
      answer: { kind: "in_channel", text: "done" },
    });
    expect(readSlashMessage({ text: "new", replace_original: true })).toEqual({
      ok: true,
      answer: { kind: "ephemeral", text: "new" },
    });
    expect(readSlashMessage({ delete_original: "true" })).toEqual({
      ok: true,
      answer: { kind: "accepted" },
    });
    expect(readSlashMessage({ text: 5 })).toMatchObject({ ok: false, reason: /^text: / });
    expect(readSlashMessage("text")).toMatchObject({ ok: false });
    expect(readSlashMessage(null)).toMatchObject({ ok: false });
  });
});
