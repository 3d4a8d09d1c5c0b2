/**
 * A local Slack for the tests (docs/integrations.md, "Setting up the Slack app"): a `node:http`
 * server on 127.0.0.1 that answers the Web API methods the bridge calls, checking each request's
 * method, auth, content type, charset and arguments exactly as Slack's documentation says, and an
 * Events API sender that delivers message events to the app's request URL, signed and retried as
 * Slack does, including the echoes Slack sends of the bot's own posts, edits and deletes.
 *
 * Whatever a correct client would not do is answered as Slack answers it and also written to
 * `violations`, so that a test can assert that list is empty.
 *
 * The scopes the fake grants and the events it sends are those of slack/manifest.yml unless the
 * test names others, so that a method or event the manifest does not cover fails here too.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseYaml } from "yaml";
import {
  DEFAULT_TEST_RETRY_DELAYS_MS,
  deliver,
  envelopeOf,
  SLACK_EVENT_TIMEOUT_MS,
  verifyUrl,
  type AppIdentity,
  type EventDelivery,
  type SendOptions,
  type UrlVerification,
} from "./fake-slack-events.ts";
import {
  FakeWorkspace,
  type Args,
  type FakeUser,
  type MessageEvent,
  type MethodResult,
  type SlackMessage,
} from "./fake-slack-workspace.ts";

export { signSlackRequest, type DeliveryAttempt, type EventDelivery } from "./fake-slack-events.ts";
export type { SlackMessage } from "./fake-slack-workspace.ts";

export type FakeSlackOptions = {
  /** The one bot token (`xoxb-…`) the fake accepts. */
  botToken: string;
  /** The app's signing secret, which signs every event the fake sends. */
  signingSecret: string;
  teamId: string;
  appId: string;
  botUserId: string;
  botId: string;
  /** The app's request URL for the Events API; without one no event is sent. */
  eventsUrl?: string;
  /** The workspace's people by user id (`U…`); the bot user is there on its own. */
  users?: Record<string, FakeUser>;
  /** Public channels the bot is in (`C…`). */
  channels?: string[];
  /** Private channels the bot is in (`channel_type: "group"`). */
  privateChannels?: string[];
  /** Public channels the bot was never invited to: posting there is `not_in_channel`. */
  channelsWithoutBot?: string[];
  /** The bot token's scopes: the manifest's by default. */
  scopes?: readonly string[];
  /** The bot events the app subscribes to: the manifest's by default. */
  botEvents?: readonly string[];
  /** Send the events of the bot's own posts, edits and deletes, as Slack does (true). */
  echoBotEvents?: boolean;
  /** Waits before Slack's three retries: [1000, 2000, 3000] ms here; about 0, 60 and 300 s at Slack. */
  retryDelaysMs?: readonly number[];
  /** How long the request URL has to answer: Slack's 3 s by default. */
  eventTimeoutMs?: number;
};

/** One Web API request as it arrived, and what the fake answered. */
export type RecordedCall = {
  /** The Web API method from the path (`chat.postMessage`). */
  method: string;
  httpMethod: string;
  headers: Record<string, string>;
  /** The raw body. */
  body: string;
  /** The arguments as Slack read them (JSON body, form fields or query string). */
  args: Args;
  status: number;
  response: unknown;
};

/** Something a correct client would not have done, with the request it was in. */
export type Violation = { method: string; problem: string };

/**
 * A failure the next call(s) of a method meet before anything else: Slack's rate limit (429 with
 * `Retry-After`), an HTTP error of Slack's own, an `ok: false` code, or a slow answer (the call
 * is carried out after the delay, as a request that timed out at the client may still be).
 */
export type FakeFailure = (
  | { status: 429; retryAfter: number }
  | { status: number }
  | { okFalse: string }
  | { delayMs: number }
) & { times?: number };

export type FakeSlack = {
  /** The Web API base to give the client: `http://127.0.0.1:PORT/api`. */
  apiBase: string;
  /** The `token` field of every event's envelope (Slack's deprecated verification token). */
  verificationToken: string;
  calls: RecordedCall[];
  violations: Violation[];
  /** Every event sent or tried, in the order they were started. */
  deliveries: EventDelivery[];
  /** The channel's live messages as Slack keeps them, edits applied, deletes gone. */
  messages(channel: string): SlackMessage[];
  setEventsUrl(url: string | undefined): void;
  failNext(method: string, failure: FakeFailure): void;
  /** Sends an inner event wrapped as an `event_callback`; resolves when Slack would stop trying. */
  sendEvent(event: Record<string, unknown>, options?: SendOptions): Promise<EventDelivery>;
  /** Slack's check of the request URL: the challenge must come back. */
  verifyUrl(): Promise<UrlVerification>;
  /** A person posts; resolves with the message's ts and the event's delivery. */
  userPosts(
    channel: string,
    user: string,
    text: string,
    options?: { thread_ts?: string },
  ): Promise<PersonAction>;
  /** A person edits their message (`message_changed`). */
  userEdits(channel: string, ts: string, text: string): Promise<PersonAction>;
  /** A person deletes a message (`message_deleted`). */
  userDeletes(channel: string, ts: string): Promise<PersonAction>;
  /** Resolves when every event sent so far (the bot's echoes too) is delivered or given up. */
  settled(): Promise<void>;
  close(): Promise<void>;
};

export type PersonAction = {
  ts: string;
  /** Undefined when no event was sent (no request URL, or the channel's event not subscribed). */
  delivery?: EventDelivery;
};

type Manifest = { scopes: string[]; botEvents: string[]; botName: string };

/** The bot scopes, bot events and bot name of slack/manifest.yml. */
export function readManifest(): Manifest {
  const text = readFileSync(new URL("../../slack/manifest.yml", import.meta.url), "utf8");
  const manifest = parseYaml(text) as {
    features: { bot_user: { display_name: string } };
    oauth_config: { scopes: { bot: string[] } };
    settings: { event_subscriptions: { bot_events: string[] } };
  };
  return {
    scopes: manifest.oauth_config.scopes.bot,
    botEvents: manifest.settings.event_subscriptions.bot_events,
    botName: manifest.features.bot_user.display_name,
  };
}

type MethodSpec = {
  /** The scope a bot token needs (auth.test needs none). */
  scope?: string;
  /** Whether the method's page lists `application/json` among its content types. */
  takesJson: boolean;
  run(
    workspace: FakeWorkspace,
    args: Args,
    scopes: readonly string[],
    problem: (text: string) => void,
  ): MethodResult;
};

const METHODS: Record<string, MethodSpec> = {
  "chat.postMessage": {
    scope: "chat:write",
    takesJson: true,
    run: (workspace, args, scopes, problem) => {
      const customize = scopes.includes("chat:write.customize");
      if ((args.username !== undefined || args.icon_url !== undefined) && !customize)
        problem("username or icon_url without the scope chat:write.customize: Slack ignores them");
      return workspace.postMessage(args, customize);
    },
  },
  "chat.update": { scope: "chat:write", takesJson: true, run: (w, args) => w.update(args) },
  "chat.delete": { scope: "chat:write", takesJson: true, run: (w, args) => w.delete(args) },
  "users.info": { scope: "users:read", takesJson: false, run: (w, args) => w.usersInfo(args) },
  "auth.test": { takesJson: false, run: (w) => w.authTest() },
};

/** The request as Slack reads it: its arguments, token, warnings, or the error that stops it. */
type ReadRequest = {
  args: Args;
  token?: string;
  warnings: string[];
  error?: string;
  problems: string[];
};

/**
 * How Slack reads a Web API request ("Using the Web API"): a POST with a JSON body (which must
 * say `charset=utf-8` and cannot carry the token) or a form (whose `token` field authenticates,
 * and which takes no charset), or a GET with a query string; the token best in the
 * `Authorization: Bearer` header. JSON sent to a method that takes no JSON is ignored.
 */
function readRequest(
  spec: MethodSpec | undefined,
  httpMethod: string,
  headers: IncomingMessage["headers"],
  body: string,
  query: URLSearchParams,
): ReadRequest {
  const read: ReadRequest = { args: {}, warnings: [], problems: [] };
  const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1];
  if (query.has("token"))
    read.problems.push("token in the query string: apps created after 2021-02-24 may not");
  if (httpMethod === "GET") {
    read.problems.push("GET: the client must POST");
    read.args = Object.fromEntries([...query].filter(([key]) => key !== "token"));
  } else if (httpMethod !== "POST") {
    read.problems.push(`${httpMethod}: the Web API takes POST`);
    read.error = "invalid_post_type";
  } else readBody(read, spec, headers["content-type"], body);
  const formToken = typeof read.args.token === "string" ? read.args.token : undefined;
  delete read.args.token;
  const token = bearer ?? formToken;
  if (token !== undefined) read.token = token;
  return read;
}

function readBody(
  read: ReadRequest,
  spec: MethodSpec | undefined,
  contentType: string | undefined,
  body: string,
): void {
  if (contentType === undefined) {
    if (body !== "") {
      read.error = "missing_post_type";
      read.problems.push("a body without Content-Type");
    }
    return;
  }
  const [type = "", ...params] = contentType.split(";").map((part) => part.trim().toLowerCase());
  const charset = params.find((param) => param.startsWith("charset="))?.slice("charset=".length);
  if (type === "application/json") readJson(read, spec, charset, body);
  else if (type === "application/x-www-form-urlencoded") readForm(read, charset, body);
  else {
    read.error = "invalid_post_type";
    read.problems.push(`Content-Type ${type}: Slack takes JSON or a form`);
  }
}

function readJson(
  read: ReadRequest,
  spec: MethodSpec | undefined,
  charset: string | undefined,
  body: string,
): void {
  if (charset === undefined) {
    read.warnings.push("missing_charset");
    read.problems.push("JSON without charset=utf-8 (Slack warns missing_charset)");
  } else if (charset !== "utf-8" && charset !== "utf8") {
    read.error = "invalid_charset";
    read.problems.push(`JSON in charset ${charset}`);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    read.error = "invalid_json";
    read.problems.push("a JSON body that does not parse");
    return;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    read.error = "json_not_object";
    read.problems.push("a JSON body that is not an object");
    return;
  }
  if ("token" in parsed) read.problems.push("token in a JSON body: Slack ignores it");
  const { token: _ignored, ...args } = parsed as Args;
  if (spec !== undefined && !spec.takesJson) {
    read.problems.push("a JSON body to a method that takes only forms: Slack ignores it");
    return;
  }
  read.args = args;
}

function readForm(read: ReadRequest, charset: string | undefined, body: string): void {
  if (charset !== undefined) {
    read.warnings.push("superfluous_charset");
    read.problems.push("a form with a charset (Slack warns superfluous_charset)");
  }
  if (body.trimStart().startsWith("{"))
    read.problems.push("JSON sent as a form: Slack reads no arguments from it");
  read.args = Object.fromEntries(new URLSearchParams(body));
}

const headersOf = (request: IncomingMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(", ") : (value ?? ""),
    ]),
  );

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function answer(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const type = typeof body === "string" ? "text/plain" : "application/json; charset=utf-8";
  response.writeHead(status, { "content-type": type, ...headers }).end(text);
}

/** Starts the fake on a random port of 127.0.0.1. */
export async function startFakeSlack(options: FakeSlackOptions): Promise<FakeSlack> {
  const manifest = readManifest();
  const scopes = options.scopes ?? manifest.scopes;
  const botEvents = options.botEvents ?? manifest.botEvents;
  const workspace = new FakeWorkspace(
    { ...options, botName: manifest.botName },
    options.users ?? {},
    {
      public: options.channels ?? [],
      private: options.privateChannels ?? [],
      withoutBot: options.channelsWithoutBot ?? [],
    },
  );
  const app: AppIdentity = {
    ...options,
    verificationToken: `vt${Math.random().toString(36).slice(2, 14)}`,
  };
  const lifetime = new AbortController();
  const calls: RecordedCall[] = [];
  const violations: Violation[] = [];
  const deliveries: EventDelivery[] = [];
  const failures = new Map<string, FakeFailure[]>();
  const pending = new Set<Promise<unknown>>();
  let eventsUrl = options.eventsUrl;

  const sendOptions = (overrides: SendOptions = {}) => ({
    retryDelaysMs: options.retryDelaysMs ?? DEFAULT_TEST_RETRY_DELAYS_MS,
    timeoutMs: options.eventTimeoutMs ?? SLACK_EVENT_TIMEOUT_MS,
    ...overrides,
  });

  function sendEvent(event: Record<string, unknown>, overrides?: SendOptions) {
    if (eventsUrl === undefined) throw new Error("the fake Slack has no request URL");
    const envelope = envelopeOf(app, event);
    const delivery: EventDelivery = { envelope, attempts: [], delivered: false };
    deliveries.push(delivery);
    const body = JSON.stringify(envelope);
    const sent = deliver(
      eventsUrl,
      body,
      options.signingSecret,
      sendOptions(overrides),
      lifetime.signal,
    ).then(({ attempts, delivered }) => {
      delivery.attempts.push(...attempts);
      delivery.delivered = delivered;
      return delivery;
    });
    pending.add(sent);
    void sent.finally(() => pending.delete(sent));
    return sent;
  }

  /** The event of a message, if the app subscribes to it and has somewhere to get it. */
  function messageEvent(event: MessageEvent): Promise<EventDelivery> | undefined {
    const subscription = event.channel_type === "group" ? "message.groups" : "message.channels";
    if (eventsUrl === undefined || !botEvents.includes(subscription)) return undefined;
    return sendEvent(event);
  }

  async function personAction(ts: string, event: MessageEvent): Promise<PersonAction> {
    const delivery = await messageEvent(event);
    return delivery === undefined ? { ts } : { ts, delivery };
  }

  /** The failure waiting for this method, if any, counted down. */
  function takeFailure(method: string): FakeFailure | undefined {
    const queue = failures.get(method);
    const failure = queue?.[0];
    if (queue === undefined || failure === undefined) return undefined;
    const times = (failure.times ?? 1) - 1;
    if (times <= 0) queue.shift();
    else queue[0] = { ...failure, times };
    return failure;
  }

  /** Answers one Web API request and records it; the checks, in the order Slack makes them. */
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = url.pathname.replace(/^\/api\//, "");
    const call: RecordedCall = {
      method,
      httpMethod: request.method ?? "",
      headers: headersOf(request),
      body: await bodyOf(request),
      args: {},
      status: 0,
      response: undefined,
    };
    calls.push(call);
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      call.status = status;
      call.response = body;
      answer(response, status, body, headers);
    };
    const problem = (text: string) => violations.push({ method, problem: text });

    const failure = takeFailure(method);
    if (failure !== undefined && "delayMs" in failure)
      await sleep(failure.delayMs, undefined, { signal: lifetime.signal }).catch(() => {});
    else if (failure !== undefined) return replyFailure(failure, reply);

    if (!url.pathname.startsWith("/api/") || METHODS[method] === undefined) {
      problem("no such method");
      return reply(404, { ok: false, error: "unknown_method", req_method: method });
    }
    const spec = METHODS[method];
    const read = readRequest(spec, call.httpMethod, request.headers, call.body, url.searchParams);
    call.args = read.args;
    read.problems.forEach(problem);
    const result = checkAndRun(
      spec,
      read,
      { workspace, botToken: options.botToken, scopes },
      problem,
    );
    const warnings = read.warnings.length === 0 ? {} : withWarnings(read.warnings);
    if (!result.ok)
      return reply(200, { ok: false, error: result.error, ...result.extra, ...warnings });
    reply(200, { ok: true, ...result.body, ...warnings });
    // Slack delivers the bot's own message events after it answers the call.
    if (result.event !== undefined && (options.echoBotEvents ?? true))
      void messageEvent(result.event);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      violations.push({ method: request.url ?? "", problem: `the fake failed: ${String(error)}` });
      if (!response.headersSent) answer(response, 500, "fake Slack error");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiBase: `http://127.0.0.1:${port}/api`,
    verificationToken: app.verificationToken,
    calls,
    violations,
    deliveries,
    messages: (channel) => workspace.messages(channel),
    setEventsUrl: (url) => {
      eventsUrl = url;
    },
    failNext: (method, failure) => {
      failures.set(method, [...(failures.get(method) ?? []), failure]);
    },
    sendEvent,
    verifyUrl: () => {
      if (eventsUrl === undefined) throw new Error("the fake Slack has no request URL");
      return verifyUrl(eventsUrl, app, options.signingSecret, lifetime.signal);
    },
    userPosts: (channel, user, text, extra) => {
      const event = workspace.userPosts(channel, user, text, extra?.thread_ts);
      return personAction(event.ts, event);
    },
    userEdits: (channel, ts, text) => personAction(ts, workspace.userEdits(channel, ts, text)),
    userDeletes: (channel, ts) => personAction(ts, workspace.userDeletes(channel, ts)),
    settled: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close: async () => {
      lifetime.abort();
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Slack's two places for warnings: `warning` (comma-separated) and `response_metadata`. */
function withWarnings(warnings: string[]) {
  return { warning: warnings.join(","), response_metadata: { warnings } };
}

function replyFailure(
  failure: Exclude<FakeFailure, { delayMs: number }>,
  reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
): void {
  if ("okFalse" in failure) return reply(200, { ok: false, error: failure.okFalse });
  if ("retryAfter" in failure)
    return reply(
      429,
      { ok: false, error: "ratelimited" },
      { "retry-after": String(failure.retryAfter) },
    );
  reply(failure.status, `Slack answered ${failure.status}`);
}

type Context = { workspace: FakeWorkspace; botToken: string; scopes: readonly string[] };

/** Slack's checks once the request is read, in its order: token, scope, the method's rules. */
function checkAndRun(
  spec: MethodSpec,
  read: ReadRequest,
  { workspace, botToken, scopes }: Context,
  problem: (text: string) => void,
): MethodResult {
  if (read.error !== undefined) return { ok: false, error: read.error };
  if (read.token === undefined) {
    problem("no token: send Authorization: Bearer");
    return { ok: false, error: "not_authed" };
  }
  if (read.token !== botToken) {
    problem("a token the workspace does not know");
    return { ok: false, error: "invalid_auth" };
  }
  if (spec.scope !== undefined && !scopes.includes(spec.scope)) {
    problem(`the token lacks the scope ${spec.scope}`);
    const extra = { needed: spec.scope, provided: scopes.join(",") };
    return { ok: false, error: "missing_scope", extra };
  }
  const result = spec.run(workspace, read.args, scopes, problem);
  if (!result.ok && result.violation !== undefined) problem(result.violation);
  return result;
}
