/**
 * The Events API side of the fake Slack (test/support/fake-slack.ts): events wrapped as Slack
 * wraps them, signed as "Verifying requests from Slack" describes, POSTed to the app's request
 * URL, and tried again as Slack does when the answer is late, not a 2xx, or never comes.
 *
 * Slack's own retry schedule is: the first retry nearly at once, the second after about 1
 * minute, the third after about 5 minutes, each with `X-Slack-Retry-Num` and
 * `X-Slack-Retry-Reason`; an answer with `X-Slack-No-Retry: 1` stops them. The tests use
 * shorter waits (`retryDelaysMs`).
 */
import { createHmac, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

/** How long Slack waits for a request URL's answer before it counts as `http_timeout`. */
export const SLACK_EVENT_TIMEOUT_MS = 3000;
/** The tests' waits before retries 1, 2 and 3 (Slack's are about 0 s, 1 min and 5 min). */
export const DEFAULT_TEST_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 3000];
/** How many redirects Slack follows before `too_many_redirects`. */
const MAX_REDIRECTS = 2;

export type RetryReason =
  "http_timeout" | "http_error" | "connection_failed" | "too_many_redirects";

/**
 * One request Slack made. `status` is the answer's HTTP status when one came in time; `failure`
 * is why Slack counted it as failed (and names the next retry's `X-Slack-Retry-Reason`).
 */
export type DeliveryAttempt = {
  /** 0 for the first request, then the `X-Slack-Retry-Num` it carried. */
  retryNum: number;
  status?: number;
  failure?: RetryReason;
  /** The answer's body, when one came (a url_verification challenge, an error text). */
  answer?: string;
  /** Exactly what was sent, so that a test can replay it byte for byte. */
  headers: Record<string, string>;
  body: string;
};

export type EventDelivery = {
  envelope: EventEnvelope;
  attempts: DeliveryAttempt[];
  /** True when one attempt got a 2xx within the timeout. */
  delivered: boolean;
};

/** The outer `event_callback` body Slack POSTs to the request URL. */
export type EventEnvelope = {
  token: string;
  team_id: string;
  context_team_id: string;
  context_enterprise_id: null;
  api_app_id: string;
  event: Record<string, unknown>;
  type: "event_callback";
  event_id: string;
  event_time: number;
  authorizations: {
    enterprise_id: null;
    team_id: string;
    user_id: string;
    is_bot: true;
    is_enterprise_install: false;
  }[];
  is_ext_shared_channel: false;
  event_context: string;
};

export type SendOptions = {
  /** Waits before retries 1, 2, 3 (and so how many retries: three by default). */
  retryDelaysMs?: readonly number[];
  /** Slack's 3 s by default. */
  timeoutMs?: number;
  /** The `X-Slack-Request-Timestamp` in Unix seconds: a stale one to test the 300 s window. */
  timestamp?: number;
  /** Sign with another secret: a forged request. */
  signingSecret?: string;
};

/** The v0 signature: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function signSlackRequest(signingSecret: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`);
  return `v0=${mac.digest("hex")}`;
}

export type AppIdentity = {
  teamId: string;
  appId: string;
  botUserId: string;
  verificationToken: string;
};

let eventCounter = 0;

/** An `Ev…` id, unique in this process, of the length and alphabet Slack's have. */
export function newEventId(): string {
  eventCounter += 1;
  const tail = (Date.now() * 1000 + eventCounter).toString(36).toUpperCase();
  return `Ev${tail.slice(-10).padStart(10, "0")}`;
}

/** The envelope of one inner event, with a new `event_id`. */
export function envelopeOf(app: AppIdentity, event: Record<string, unknown>): EventEnvelope {
  const context = { et: event.type, tid: app.teamId, aid: app.appId, cid: event.channel };
  return {
    token: app.verificationToken,
    team_id: app.teamId,
    context_team_id: app.teamId,
    context_enterprise_id: null,
    api_app_id: app.appId,
    event,
    type: "event_callback",
    event_id: newEventId(),
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: app.teamId,
        user_id: app.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify(context)).toString("base64url")}`,
  };
}

/** The headers of one signed request, with the retry headers from the second on. */
function headersFor(
  signingSecret: string,
  timestamp: number,
  body: string,
  retry?: { num: number; reason: RetryReason },
): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": signSlackRequest(signingSecret, timestamp, body),
  };
  if (retry !== undefined) {
    headers["x-slack-retry-num"] = String(retry.num);
    headers["x-slack-retry-reason"] = retry.reason;
  }
  return headers;
}

type Answer = { status?: number; failure?: RetryReason; answer?: string; noRetry: boolean };

/**
 * One POST as Slack makes it: a 2xx within the timeout succeeds; a redirect is followed (two at
 * most, POSTing again); any other status is `http_error`; no answer in time is `http_timeout`;
 * no connection is `connection_failed`.
 */
export async function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<Answer> {
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]);
  let target = url;
  try {
    for (let redirects = 0; ; redirects += 1) {
      const response = await fetch(target, {
        method: "POST",
        headers,
        body,
        signal,
        redirect: "manual",
      });
      const answer = await response.text();
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location !== null) {
        if (redirects === MAX_REDIRECTS)
          return { status: response.status, failure: "too_many_redirects", noRetry: false };
        target = new URL(location, target).toString();
        continue;
      }
      const ok = response.status >= 200 && response.status < 300;
      const noRetry = response.headers.get("x-slack-no-retry") === "1";
      return ok
        ? { status: response.status, answer, noRetry }
        : { status: response.status, failure: "http_error", answer, noRetry };
    }
  } catch {
    if (stop.aborted) return { failure: "connection_failed", noRetry: true };
    return { failure: signal.aborted ? "http_timeout" : "connection_failed", noRetry: false };
  }
}

/**
 * Sends a body to the request URL and retries as Slack does. Each attempt is signed anew with
 * the time it is sent (Slack's retries carry fresh timestamps and the same `event_id`).
 */
export async function deliver(
  url: string,
  body: string,
  signingSecret: string,
  options: Required<Pick<SendOptions, "retryDelaysMs" | "timeoutMs">> & SendOptions,
  stop: AbortSignal,
): Promise<{ attempts: DeliveryAttempt[]; delivered: boolean }> {
  const attempts: DeliveryAttempt[] = [];
  let retry: { num: number; reason: RetryReason } | undefined;
  for (let retryNum = 0; retryNum <= options.retryDelaysMs.length; retryNum += 1) {
    if (retryNum > 0)
      await sleep(options.retryDelaysMs[retryNum - 1], undefined, { signal: stop }).catch(() => {});
    if (stop.aborted) break;
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const secret = options.signingSecret ?? signingSecret;
    const headers = headersFor(secret, timestamp, body, retry);
    const answer = await postOnce(url, headers, body, options.timeoutMs, stop);
    attempts.push({ retryNum, ...withoutNoRetry(answer), headers, body });
    if (answer.failure === undefined) return { attempts, delivered: true };
    if (answer.noRetry) break;
    retry = { num: retryNum + 1, reason: answer.failure };
  }
  return { attempts, delivered: false };
}

function withoutNoRetry({ noRetry: _noRetry, ...rest }: Answer): Omit<Answer, "noRetry"> {
  return rest;
}

export type UrlVerification = {
  /** True when the answer was a 200 that echoed the challenge in a form Slack accepts. */
  verified: boolean;
  status?: number;
  answer?: string;
  challenge: string;
};

/**
 * Slack's check of a new request URL: a signed `url_verification` whose `challenge` the answer
 * must echo, as plain text, as JSON `{"challenge": …}` or as a form `challenge=…`. No retries.
 */
export async function verifyUrl(
  url: string,
  app: AppIdentity,
  signingSecret: string,
  stop: AbortSignal,
): Promise<UrlVerification> {
  const challenge = randomBytes(24).toString("base64url");
  const body = JSON.stringify({
    token: app.verificationToken,
    challenge,
    type: "url_verification",
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = headersFor(signingSecret, timestamp, body);
  const answer = await postOnce(url, headers, body, SLACK_EVENT_TIMEOUT_MS, stop);
  const echoed = answer.status === 200 && echoesChallenge(answer.answer ?? "", challenge);
  return {
    verified: echoed,
    challenge,
    ...(answer.status === undefined ? {} : { status: answer.status }),
    ...(answer.answer === undefined ? {} : { answer: answer.answer }),
  };
}

/** Whether a body is the challenge itself, `{"challenge": …}` or `challenge=…`. */
export function echoesChallenge(answer: string, challenge: string): boolean {
  if (answer.trim() === challenge) return true;
  try {
    const parsed = JSON.parse(answer) as { challenge?: unknown } | null;
    if (parsed !== null && typeof parsed === "object" && parsed.challenge === challenge)
      return true;
  } catch {
    // Not JSON: perhaps a form.
  }
  return new URLSearchParams(answer).get("challenge") === challenge;
}
