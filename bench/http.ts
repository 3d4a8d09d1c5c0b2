/**
 * The HTTP calls of the benchmark's setup and log check, written as plain requests the way an
 * SDK-less client makes them (and so that a room can be created with fields the SDK's types do
 * not know yet, such as `shards`).
 */
import { sleep, withTimeout } from "./util.ts";

/**
 * One request as JSON; a 429 waits its Retry-After and goes again up to `retries` times (the
 * setup's commands are idempotent). Any other failure throws with the status and the body.
 */
export async function call<T>(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: object,
  retries = 0,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const response = await withTimeout(
      fetch(new URL(path, baseUrl), {
        method,
        headers: {
          ...(body ? { "content-type": "application/json" } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      }),
      30_000,
      `${method} ${path}`,
    );
    const text = await response.text();
    if (response.status === 429 && attempt < retries) {
      await sleep(Number(response.headers.get("retry-after") ?? "1") * 1000);
      continue;
    }
    if (!response.ok)
      throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }
}

/** `POST /api/auth/guest`: a guest's access token. */
export async function signInGuest(baseUrl: string, name: string): Promise<string> {
  return (await call<{ token: string }>(baseUrl, "POST", "/api/auth/guest", undefined, { name }))
    .token;
}

/** `POST /api/rooms`: a public room; `shards` is sent only when it is set. */
export async function createRoom(
  baseUrl: string,
  token: string,
  name: string,
  shards?: number,
): Promise<void> {
  const body = { name, topic: "", visibility: "public", ...(shards ? { shards } : {}) };
  await call(baseUrl, "POST", "/api/rooms", token, body);
}

export type LoggedEvent = { seq: number; type: string; data?: { text?: string } };

/** Every event of a room's log, paged over `GET /api/rooms/{room}/events`. */
export async function readLog(
  baseUrl: string,
  token: string,
  room: string,
): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await call<{ events: LoggedEvent[]; lastSeq: number }>(
      baseUrl,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/events?after=${after}&limit=1000`,
      token,
    );
    events.push(...page.events);
    if (page.events.length === 0) return events;
    after = page.events.at(-1)!.seq;
    if (after >= page.lastSeq) return events;
  }
}
