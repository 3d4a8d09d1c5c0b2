/**
 * A small client of Slack's Web API for the Slack bridge (docs/integrations.md, "Setting up the
 * Slack app"): the five methods the bridge needs, each one POST with the bot token in the
 * `Authorization` header, as Slack documents them. It runs in workerd and in Node alike: only
 * `fetch`, `AbortSignal` and zod.
 *
 * It never retries. A call that timed out may still have taken effect at Slack (a message posted
 * twice if tried again), so whether and when to try again is the caller's choice: every failure
 * is one `SlackApiError` that says whether trying again can help and, on a rate limit, how long
 * Slack asked to wait.
 */
import * as z from "zod";

export const DEFAULT_SLACK_API_BASE = "https://slack.com/api";
export const DEFAULT_SLACK_TIMEOUT_MS = 10_000;

export type SlackApiOptions = {
  /** The bot token, `xoxb-…`. Sent only in the `Authorization` header, never in an error. */
  token: string;
  /** Where the methods live: `https://slack.com/api` (the default), or a fake in tests. */
  baseUrl?: string;
  /** A fetch of one's own (a service binding, a recorder); the global one by default. */
  fetch?: typeof fetch;
  /** How long one call may take, headers and body, before it fails with `timeout` (10 s). */
  timeoutMs?: number;
};

/** The methods this client calls, by their Web API names. */
export type SlackMethod =
  "chat.postMessage" | "chat.update" | "chat.delete" | "users.info" | "auth.test";

export type PostMessageArgs = {
  /** A channel id, `C…` (or `G…` for an old private channel). */
  channel: string;
  /** The message's text, Slack's mrkdwn; Slack refuses more than 40,000 characters. */
  text: string;
  /** The `ts` of the thread's parent, to reply in its thread. */
  thread_ts?: string;
  /** The name shown instead of the app's (needs the `chat:write.customize` scope). */
  username?: string;
  /** The avatar shown instead of the app's (needs `chat:write.customize`). */
  icon_url?: string;
  /** `false` keeps Slack from unfurling the links in the text. */
  unfurl_links?: boolean;
  /** Message metadata, kept by Slack with the message: `event_type` is snake_case. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
};

/** A message as Slack names it: its channel and its `ts`, the message's id within the channel. */
export type SlackMessageRef = { channel: string; ts: string };

export type SlackUser = {
  id: string;
  /** The user's handle (`name`), unique in the workspace. */
  name: string;
  /** What Slack shows: the profile's display name, else the real name, else the handle. */
  displayName: string;
  isBot: boolean;
};

/** Who the token is: the bot's user, its bot id and its workspace, as auth.test says. */
export type SlackIdentity = { userId: string; botId?: string; teamId: string; appId?: string };

/**
 * Every way a call can fail. `error` is Slack's own code (`channel_not_found`, `ratelimited`, …)
 * or one of this client's: `http_<status>` (an answer that is not Slack's JSON), `network`
 * (no answer), `timeout`, `invalid_response` (JSON that is not the shape Slack documents).
 */
export class SlackApiError extends Error {
  override readonly name = "SlackApiError";
  readonly method: SlackMethod;
  readonly error: string;
  /** True when the same call may succeed later: rate limits, Slack's 5xx, network, timeouts. */
  readonly retriable: boolean;
  /** On a rate limit, the seconds Slack's `Retry-After` asked to wait. */
  readonly retryAfterSeconds?: number;
  /** The HTTP status of Slack's answer, when there was one. */
  readonly status?: number;

  constructor(
    method: SlackMethod,
    error: string,
    facts: { retriable: boolean; retryAfterSeconds?: number; status?: number; cause?: unknown },
  ) {
    super(
      `Slack ${method} failed: ${error}`,
      facts.cause === undefined ? {} : { cause: facts.cause },
    );
    this.method = method;
    this.error = error;
    this.retriable = facts.retriable;
    if (facts.retryAfterSeconds !== undefined) this.retryAfterSeconds = facts.retryAfterSeconds;
    if (facts.status !== undefined) this.status = facts.status;
  }
}

/**
 * The `ok: false` codes that say "not now" rather than "never" (Slack's method pages list them
 * as errors of every method). Every other code is permanent: `invalid_auth`, `not_authed`,
 * `channel_not_found`, `not_in_channel`, `message_not_found`, `cant_update_message`,
 * `cant_delete_message`, `msg_too_long`, `no_text`, `account_inactive`, `token_revoked`, ….
 */
const RETRIABLE_CODES: ReadonlySet<string> = new Set([
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "ratelimited",
]);

export function isRetriableSlackCode(code: string): boolean {
  return RETRIABLE_CODES.has(code);
}

/** `Retry-After` in whole seconds (Slack's form); undefined when absent or not a number. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Number(header);
}

/** A parsed answer: its status, its `Retry-After`, its body as JSON (undefined if not JSON). */
export type SlackAnswer = { status: number; retryAfter: string | null; payload: unknown };

const OkFalse = z.object({ ok: z.literal(false), error: z.string() });
const OkTrue = z.looseObject({ ok: z.literal(true) });

/**
 * What an answer means: Slack's JSON with `ok: true` is returned; everything else becomes the
 * one `SlackApiError`. Slack answers API errors with HTTP 200 and `ok: false`, rate limits with
 * 429 and `Retry-After`, and trouble on its side with 5xx.
 */
export function outcomeOf(method: SlackMethod, answer: SlackAnswer): Record<string, unknown> {
  const { status, payload } = answer;
  const slackError = OkFalse.safeParse(payload);
  const retryAfterSeconds = parseRetryAfter(answer.retryAfter);
  const facts = { status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  if (status === 429) {
    const code = slackError.success ? slackError.data.error : "ratelimited";
    throw new SlackApiError(method, code, { ...facts, retriable: true });
  }
  if (status >= 500)
    throw new SlackApiError(method, `http_${status}`, { ...facts, retriable: true });
  if (status < 200 || status >= 300) {
    // A 4xx from Slack itself still carries its JSON (unknown_method is a 404).
    const code = slackError.success ? slackError.data.error : `http_${status}`;
    throw new SlackApiError(method, code, { ...facts, retriable: false });
  }
  if (slackError.success) {
    const code = slackError.data.error;
    throw new SlackApiError(method, code, { ...facts, retriable: isRetriableSlackCode(code) });
  }
  const ok = OkTrue.safeParse(payload);
  if (!ok.success)
    throw new SlackApiError(method, "invalid_response", { status, retriable: false });
  return ok.data;
}

const MessageRefAnswer = z.object({ channel: z.string(), ts: z.string() });
const UserAnswer = z.object({
  user: z.object({
    id: z.string(),
    name: z.string(),
    real_name: z.string().optional(),
    is_bot: z.boolean().optional(),
    profile: z
      .object({ display_name: z.string().optional(), real_name: z.string().optional() })
      .optional(),
  }),
});
const AuthTestAnswer = z.object({
  user_id: z.string(),
  team_id: z.string(),
  bot_id: z.string().optional(),
  app_id: z.string().optional(),
});

/** The request Slack documents for each method: JSON where the method takes it, else a form. */
type Body = { json: Record<string, unknown> } | { form: Record<string, string> };

export class SlackApi {
  readonly #token: string;
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: SlackApiOptions) {
    this.#token = options.token;
    this.#baseUrl = (options.baseUrl ?? DEFAULT_SLACK_API_BASE).replace(/\/+$/, "");
    // The global fetch called unbound: workerd refuses `this.fetch(...)` on another object.
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS;
  }

  /** chat.postMessage: posts as the bot (or as `username` with `icon_url`); its channel and ts. */
  async postMessage(args: PostMessageArgs): Promise<SlackMessageRef> {
    const answer = await this.#call("chat.postMessage", { json: args });
    return this.#shape("chat.postMessage", MessageRefAnswer, answer);
  }

  /** chat.update: replaces the text of a message the bot posted. */
  async update(args: { channel: string; ts: string; text: string }): Promise<SlackMessageRef> {
    const answer = await this.#call("chat.update", { json: args });
    return this.#shape("chat.update", MessageRefAnswer, answer);
  }

  /** chat.delete: deletes a message the bot posted. */
  async delete(args: { channel: string; ts: string }): Promise<SlackMessageRef> {
    const answer = await this.#call("chat.delete", { json: args });
    return this.#shape("chat.delete", MessageRefAnswer, answer);
  }

  /** users.info (scope `users:read`): who a user id is, and the name Slack shows for them. */
  async userInfo(user: string): Promise<SlackUser> {
    // users.info takes form fields only (its page lists no JSON content type).
    const answer = await this.#call("users.info", { form: { user } });
    const { user: found } = this.#shape("users.info", UserAnswer, answer);
    const shown = found.profile?.display_name || found.profile?.real_name || found.real_name;
    return {
      id: found.id,
      name: found.name,
      displayName: shown || found.name,
      isBot: found.is_bot ?? false,
    };
  }

  /** auth.test: who the token belongs to; the bridge learns its own bot ids from it. */
  async authTest(): Promise<SlackIdentity> {
    const answer = await this.#call("auth.test", { form: {} });
    const found = this.#shape("auth.test", AuthTestAnswer, answer);
    return {
      userId: found.user_id,
      teamId: found.team_id,
      ...(found.bot_id === undefined ? {} : { botId: found.bot_id }),
      ...(found.app_id === undefined ? {} : { appId: found.app_id }),
    };
  }

  async #call(method: SlackMethod, body: Body): Promise<Record<string, unknown>> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let answer: SlackAnswer;
    try {
      const response = await this.#fetch(`${this.#baseUrl}/${method}`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#token}`, "content-type": contentTypeOf(body) },
        body:
          "json" in body ? JSON.stringify(body.json) : new URLSearchParams(body.form).toString(),
        signal,
      });
      const text = await response.text();
      answer = {
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        payload: parseJson(text),
      };
    } catch (error) {
      // The timeout's abort reaches here as the signal's reason, a TimeoutError.
      const code = signal.aborted ? "timeout" : "network";
      throw new SlackApiError(method, code, { retriable: true, cause: error });
    }
    return outcomeOf(method, answer);
  }

  #shape<T>(method: SlackMethod, schema: z.ZodType<T>, answer: Record<string, unknown>): T {
    const parsed = schema.safeParse(answer);
    if (!parsed.success) throw new SlackApiError(method, "invalid_response", { retriable: false });
    return parsed.data;
  }
}

/**
 * JSON bodies must say their charset (else Slack adds a `missing_charset` warning); form bodies
 * must not (else `superfluous_charset`).
 */
function contentTypeOf(body: Body): string {
  return "json" in body ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
