/**
 * A custom slash command's call, exactly as Slack calls a command's Request URL ("Implementing
 * slash commands"), and what its answer means. Pure: the route sends the request through
 * `sendOutbound` and posts or returns what `readSlashAnswer` says.
 */
import { SlashResponseBody, type Rate, type SlashResult, type UserRef } from "../protocol/index.ts";
import type { OutboundResult } from "./outbound-request.ts";
import { slackSignature } from "./slack-signature.ts";
import { toMessageText } from "./slack-format.ts";

/** Slack gives a command's server 3 s to answer. */
export const SLASH_TIMEOUT_MS = 3_000;
/** How much of an answer is read: a message's 4000 characters with Slack's blocks around them. */
export const SLASH_ANSWER_BYTES = 64 * 1024;
/** Custom commands a caller may run in one room: bursts of 5, then one a second. */
export const SLASH_RATE: Rate = { perSecond: 1, burst: 5 };
/** `team_id` of every call: one edgechat instance is one "workspace". */
export const SLASH_TEAM_ID = "edgechat";
export const SLASH_USER_AGENT = "edgechat-slash-commands/1.0";

/** What calling a command needs: where, signed with what, and whom its answers are posted as. */
export type SlashTarget = {
  name: string;
  url: string;
  signingSecret: string;
  verificationToken: string;
  bot: UserRef;
};

/** How a custom command's run starts (IntegrationHub.startSlash). */
export type SlashStart =
  | { kind: "unknown" }
  | { kind: "repeat"; answer: SlashResult }
  | { kind: "call"; target: SlashTarget };

/** Who runs what where: the fields of the form besides the command's own. */
export type SlashInvocation = {
  room: string;
  caller: UserRef;
  text: string;
  /** The instance's host, `team_domain`. */
  host: string;
  responseUrl: string;
  triggerId: string;
};

/**
 * The form body, in the order Slack sends its fields: `token` is the command's verification
 * token, `api_app_id` its bot's id, `channel_id` and `channel_name` the room's name.
 */
export function slashForm(target: SlashTarget, run: SlashInvocation): string {
  return new URLSearchParams([
    ["token", target.verificationToken],
    ["team_id", SLASH_TEAM_ID],
    ["team_domain", run.host],
    ["channel_id", run.room],
    ["channel_name", run.room],
    ["user_id", run.caller.id],
    ["user_name", run.caller.name],
    ["command", `/${target.name}`],
    ["text", run.text],
    ["api_app_id", target.bot.id],
    ["is_enterprise_install", "false"],
    ["response_url", run.responseUrl],
    ["trigger_id", run.triggerId],
  ]).toString();
}

/** The request: the form, signed v0 over `v0:{timestamp}:{body}` with the command's secret. */
export async function slashRequest(
  target: SlashTarget,
  run: SlashInvocation,
  nowSeconds: number,
): Promise<RequestInit> {
  const body = slashForm(target, run);
  return {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": SLASH_USER_AGENT,
      "x-slack-request-timestamp": String(nowSeconds),
      "x-slack-signature": await slackSignature(target.signingSecret, nowSeconds, body),
    },
    body,
  };
}

/** What an answer asks for: nothing now, a reply to the caller alone, or one to the room. */
export type SlashAnswer =
  { kind: "accepted" } | { kind: "ephemeral"; text: string } | { kind: "in_channel"; text: string };

/**
 * The meaning of a command server's answer, as Slack reads it: 200 with an empty body, nothing
 * now; JSON (`application/json`), its `response_type` (ephemeral unless `in_channel`) and its
 * text, blocks and attachments; any other 200 body, ephemeral text. Every failure (an error
 * status, no answer within 3 s, a redirect, JSON that does not read) is an ephemeral line that
 * says what went wrong.
 */
export function readSlashAnswer(name: string, result: OutboundResult): SlashAnswer {
  const failed = (why: string): SlashAnswer => ({ kind: "ephemeral", text: `/${name} ${why}` });
  if (result.error === "timeout")
    return failed(`did not answer in time (${SLASH_TIMEOUT_MS / 1000} s).`);
  if (result.error === "network") return failed("could not be reached.");
  if (result.error === "redirect")
    return failed(`answered with a redirect (HTTP ${result.status}), which is not followed.`);
  if (!result.ok) return failed(`failed: its server answered HTTP ${result.status}.`);
  const body = result.body ?? { text: result.responseExcerpt, truncated: false, contentType: null };
  if (body.text.trim() === "") return { kind: "accepted" };
  if (body.truncated) return failed(`answered more than ${SLASH_ANSWER_BYTES / 1024} KiB.`);
  if (!isJson(body.contentType)) {
    // Plain text is shown to the caller alone, Slack's markup written out.
    const plain = toMessageText({ text: body.text });
    return plain.ok ? { kind: "ephemeral", text: plain.text } : { kind: "accepted" };
  }
  let json: unknown;
  try {
    json = JSON.parse(body.text);
  } catch {
    return failed("answered JSON that does not parse.");
  }
  const answer = readSlashMessage(json);
  return answer.ok ? answer.answer : failed(`answered a message we cannot read: ${answer.reason}.`);
}

const isJson = (contentType: string | null) =>
  (contentType ?? "").split(";")[0]!.trim().toLowerCase() === "application/json";

/**
 * A Slack message body (a command's JSON answer, or a response_url follow-up) as an answer:
 * `in_channel` or `ephemeral` (the default) with its text; `accepted` when it holds no text
 * (`delete_original` alone, say). Not ok when it is no object or a field has the wrong type.
 */
export function readSlashMessage(
  json: unknown,
): { ok: true; answer: SlashAnswer } | { ok: false; reason: string } {
  const parsed = SlashResponseBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return { ok: false, reason: `${where}${issue.message}` };
  }
  const message = toMessageText(json);
  if (!message.ok)
    return message.code === "no_text"
      ? { ok: true, answer: { kind: "accepted" } }
      : { ok: false, reason: message.reason };
  const kind = parsed.data.response_type === "in_channel" ? "in_channel" : "ephemeral";
  return { ok: true, answer: { kind, text: message.text } };
}
