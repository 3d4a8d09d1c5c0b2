import type * as z from "zod";
import {
  ErrorBody,
  EventsPage,
  MessagesPage,
  Posted,
  RoomInfo,
  RoomList,
  Session,
  type CreateRoom,
} from "../protocol/index.ts";

/** An HTTP call answered with the contract's error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * The REST half of the SDK: sign-in, the room directory, history and posting.
 * @example
 * const api = new EdgechatApi("http://localhost:8787");
 * const { token } = await api.signInGuest("ada");
 * await api.withToken(token).createRoom({ name: "lobby" });
 */
export class EdgechatApi {
  readonly baseUrl: string;
  readonly token: string | undefined;
  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
  }

  withToken(token: string): EdgechatApi {
    return new EdgechatApi(this.baseUrl, token);
  }

  signInGuest(name: string) {
    return this.#call(Session, "POST", "/api/auth/guest", { name });
  }

  createRoom(room: Partial<CreateRoom> & { name: string }) {
    return this.#call(RoomInfo, "POST", "/api/rooms", room);
  }

  listRooms() {
    return this.#call(RoomList, "GET", "/api/rooms");
  }

  getRoom(room: string) {
    return this.#call(RoomInfo, "GET", `/api/rooms/${encodeURIComponent(room)}`);
  }

  events(room: string, after = 0, limit = 100) {
    return this.#call(
      EventsPage,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/events?after=${after}&limit=${limit}`,
    );
  }

  messages(room: string, options: { before?: number; limit?: number } = {}) {
    const query = new URLSearchParams({ limit: String(options.limit ?? 50) });
    if (options.before !== undefined) query.set("before", String(options.before));
    return this.#call(
      MessagesPage,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/messages?${query}`,
    );
  }

  postMessage(room: string, body: { text: string; clientId: string; replyTo?: number }) {
    return this.#call(Posted, "POST", `/api/rooms/${encodeURIComponent(room)}/messages`, body);
  }

  async #call<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<z.infer<S>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = ErrorBody.safeParse(json);
      if (error.success)
        throw new ApiError(response.status, error.data.error.code, error.data.error.message);
      throw new ApiError(response.status, "internal", `HTTP ${response.status}`);
    }
    return schema.parse(json);
  }
}
