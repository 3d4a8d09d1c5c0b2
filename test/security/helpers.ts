/**
 * Helpers of the security suite: raw HTTP with full control over headers and bodies, sessions
 * (guests and registered users), token forging, and room snapshots to prove that a refused
 * request changed nothing. WebSocket helpers come from the e2e suite (every server frame is
 * checked against the contract's `ServerFrame`).
 */
import { sign } from "hono/jwt";
import { expect } from "vitest";
import {
  BEARER_PREFIX,
  ErrorBody,
  EventsPage,
  MemberList,
  MessagesPage,
  RoomInfo,
  Session,
  SUBPROTOCOL,
} from "../../src/protocol/index.ts";
import { TEST_SECRET } from "../support/secret.ts";
import { tryUpgrade, waitUntil, wsUrl, type RawClient } from "../e2e/helpers.ts";

export {
  assertNoInvalidFrames,
  checkFrame,
  closeAll,
  RawClient,
  rawConnect,
  roomName,
  sleep,
  startServer,
  tryUpgrade,
  waitUntil,
  wsUrl,
  type TestServer,
} from "../e2e/helpers.ts";
export { TEST_SECRET };

/** Configuration of every security server: an admin named "root", short windows. */
export const SECURITY_VARS = {
  ADMIN_USERNAMES: "root",
  AUTH_WINDOW_SECONDS: "2",
  // Most files register many users from one address; brute-force.test.ts sets its own.
  AUTH_MAX_ATTEMPTS_PER_IP: "100000",
} as const;

export type Answer = {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
};

/** One HTTP call; `body` objects are sent as JSON, strings as they are. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(base + path, { method, headers, body, redirect: "manual" });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Asserts the contract's error: the status, `{"error": {"code", "message"}}`, no stack trace. */
export function expectError(answer: Answer, status: number, code: string, what = ""): void {
  expect({ what, status: answer.status, body: answer.text }).toMatchObject({ what, status });
  const parsed = ErrorBody.safeParse(answer.json);
  expect(parsed.success, `${what}: ${answer.text}`).toBe(true);
  expect(parsed.data!.error.code, what).toBe(code);
  expect(answer.text, what).not.toMatch(/\bat \S+ \(|\.ts:\d+|Error:/);
  if (status === 429) expect(Number(answer.headers.get("retry-after")), what).toBeGreaterThan(0);
}

/**
 * An error body's code and message: what two answers that must not tell two cases apart share
 * (each carries its own request id).
 */
export function errorPart(json: unknown): { code: string; message: string } {
  const { code, message } = ErrorBody.parse(json).error;
  return { code, message };
}

/** An answer's text without the request's own ids, for comparing answers byte for byte. */
export function withoutIds(text: string): string {
  return text.replace(/,"(requestId|traceId)":"[^"]*"/g, "");
}

export type Who = Session & { password?: string };

export async function signInGuest(base: string, name: string): Promise<Who> {
  const answer = await call(base, "POST", "/api/auth/guest", { body: { name } });
  expect(answer.status, answer.text).toBe(200);
  return Session.parse(answer.json);
}

/** Registers a user (no Origin header, so the refresh token is in the body). */
export async function register(
  base: string,
  username: string,
  password = "correct horse 1",
): Promise<Who> {
  const answer = await call(base, "POST", "/api/auth/register", { body: { username, password } });
  expect(answer.status, answer.text).toBe(201);
  return { ...Session.parse(answer.json), password };
}

export async function login(base: string, username: string, password: string): Promise<Who> {
  const answer = await call(base, "POST", "/api/auth/login", { body: { username, password } });
  expect(answer.status, answer.text).toBe(200);
  return { ...Session.parse(answer.json), password };
}

export async function createRoom(
  base: string,
  who: Who,
  name: string,
  visibility: "public" | "private" = "public",
): Promise<void> {
  const answer = await call(base, "POST", "/api/rooms", {
    token: who.token,
    body: { name, visibility },
  });
  expect(answer.status, answer.text).toBe(201);
}

/** A command over HTTP that must be refused with `status` and `code`. */
export async function refusedCommand(
  base: string,
  who: Who,
  room: string,
  frame: object,
  [status, code]: [number, string],
  what: string,
): Promise<void> {
  const answer = await call(base, "POST", `/api/rooms/${room}/commands`, {
    token: who.token,
    body: frame,
  });
  expectError(answer, status, code, what);
}

/** A command over HTTP that must be applied; returns its seq. */
export async function command(
  base: string,
  who: Who,
  room: string,
  frame: object,
): Promise<number> {
  const answer = await call(base, "POST", `/api/rooms/${room}/commands`, {
    token: who.token,
    body: frame,
  });
  expect(answer.status, answer.text).toBe(201);
  return (answer.json as { seq: number }).seq;
}

export async function invite(
  base: string,
  owner: Who,
  room: string,
  username: string,
  role?: string,
) {
  const answer = await call(base, "POST", `/api/rooms/${room}/members`, {
    token: owner.token,
    body: role ? { username, role } : { username },
  });
  expect(answer.status, answer.text).toBe(201);
}

export async function post(base: string, who: Who, room: string, text: string, clientId: string) {
  const answer = await call(base, "POST", `/api/rooms/${room}/messages`, {
    token: who.token,
    body: { text, clientId },
  });
  expect(answer.status, answer.text).toBe(201);
  return (answer.json as { seq: number }).seq;
}

export type Snapshot = {
  info: Omit<RoomInfo, "online">;
  events: EventsPage;
  members: Omit<MemberList, "online">;
  messages: MessagesPage;
};

/** Everything the owner can see of a room: compared before and after each refusal. */
export async function snapshot(base: string, owner: Who, room: string): Promise<Snapshot> {
  const get = async (path: string) => {
    const answer = await call(base, "GET", `/api/rooms/${room}${path}`, { token: owner.token });
    expect(answer.status, `${path}: ${answer.text}`).toBe(200);
    return answer.json;
  };
  // Who is online comes and goes with sockets; what a request may change is the rest.
  const { online: _online, ...info } = RoomInfo.parse(await get(""));
  const { online: _connected, ...members } = MemberList.parse(await get("/members"));
  return {
    info,
    events: EventsPage.parse(await get("/events?after=0&limit=1000")),
    members,
    messages: MessagesPage.parse(await get("/messages?limit=1000")),
  };
}

/** Asserts the room is exactly as before: call it once the refused request was answered. */
export async function expectUnchanged(base: string, owner: Who, room: string, before: Snapshot) {
  expect(await snapshot(base, owner, room)).toEqual(before);
}

// ---------------------------------------------------------------- tokens

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A token signed with the test secret (or another), with any claims and algorithm. */
export async function forge(
  claims: Record<string, unknown>,
  options: { secret?: string; alg?: "HS256" | "HS384" | "HS512" } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { iss: "edgechat", aud: "edgechat", iat: now, exp: now + 600, ...claims },
    options.secret ?? TEST_SECRET,
    options.alg ?? "HS256",
  );
}

/** A token with an arbitrary header, signed (HMAC-SHA256 with the test secret) or not at all. */
export async function forgeWithHeader(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signature: "none" | "hs256" = "hs256",
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64(header)}.${b64({ iss: "edgechat", aud: "edgechat", iat: now, exp: now + 600, ...claims })}`;
  if (signature === "none") return `${input}.`;
  const { createHmac } = await import("node:crypto");
  return `${input}.${createHmac("sha256", TEST_SECRET).update(input).digest("base64url")}`;
}

/** The claims of a token (unverified), to copy them into forged ones. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

/** Tries a WebSocket upgrade the browser way (subprotocol bearer), optionally with headers. */
export function upgrade(
  base: string,
  room: string,
  token: string | undefined,
  headers: Record<string, string> = {},
) {
  return tryUpgrade(
    wsUrl(base, room),
    token === undefined ? [SUBPROTOCOL] : [SUBPROTOCOL, BEARER_PREFIX + token],
    headers,
  );
}

export function expectUpgradeRefused(
  answer: { status: number; body: string },
  status: number,
  code: string,
  what = "",
): void {
  expect({ what, status: answer.status, body: answer.body }).toMatchObject({ what, status });
  const parsed = ErrorBody.safeParse(JSON.parse(answer.body));
  expect(parsed.success, answer.body).toBe(true);
  expect(parsed.data!.error.code, what).toBe(code);
}

let handledPings = 0;
/**
 * Resolves once the room has handled every frame sent on `socket` before this call. The runtime
 * answers the exact `{"type":"ping"}` by itself (setWebSocketAutoResponse), possibly ahead of
 * frames the room has yet to handle; a ping with any other field goes to the room, in order.
 */
export async function handled(socket: RawClient): Promise<void> {
  const pongs = socket.of("pong").length;
  socket.sendJson({ type: "ping", handled: ++handledPings });
  await socket.nth("pong", pongs + 1);
}

/**
 * The close code a server sent to a raw socket, as soon as its close frame arrived. (`ws` emits
 * `close` only when the TCP connection ends, which the local runtime delays by seconds.)
 */
export async function closeFrameCode(raw: RawClient, timeoutMs = 15_000): Promise<number> {
  const ws = raw.ws as unknown as { _closeFrameReceived?: boolean; _closeCode?: number };
  const code = await waitUntil(
    () =>
      ws._closeFrameReceived || raw.closeCode !== undefined
        ? (raw.closeCode ?? ws._closeCode)
        : undefined,
    "a close frame",
    timeoutMs,
    5,
  );
  raw.ws.terminate();
  return code;
}
