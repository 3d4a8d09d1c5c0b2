import type * as z from "zod";
import { ApiError, ErrorBody } from "../protocol/index.ts";

/** `?key=value&…` of the options that are set (empty strings count as unset); "" for none. */
export function queryOf(options: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options))
    if (value !== undefined && value !== "") query.set(key, String(value));
  return query.size > 0 ? `?${query}` : "";
}

/** The SDK's HTTP calls: the base URL, the token, and the contract's errors as ApiError. */
export class ApiRequests {
  readonly baseUrl: string;
  readonly token: string | undefined;
  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
  }

  /** Calls the API and parses the answer with `schema`: what the server says is checked, not trusted. */
  async call<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<z.output<S>> {
    return schema.parse(await this.fetch(method, path, body));
  }

  /** Calls the API for an answer without a body (204). */
  async send(method: string, path: string, body?: unknown): Promise<void> {
    await this.fetch(method, path, body);
  }

  /** The answer's JSON (undefined without one); a non-2xx answer throws the contract's ApiError. */
  async fetch(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.raw(method, path, {
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    return response.json().catch(() => undefined);
  }

  /**
   * The answer itself, for bodies that are not JSON (a file's part, a file's bytes): a non-2xx
   * answer throws the contract's ApiError, a dropped connection fetch's TypeError.
   */
  async raw(
    method: string,
    path: string,
    init: { body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: init.body,
      signal: init.signal,
      // The refresh cookie lives on /api/auth: sent to the same origin only.
      credentials: "same-origin",
    });
    if (response.ok) return response;
    const json: unknown = await response.json().catch(() => undefined);
    const error = ErrorBody.safeParse(json);
    const retry = Number(response.headers.get("retry-after") ?? Number.NaN);
    const retryAfter = Number.isFinite(retry) && retry >= 0 ? retry : undefined;
    const { status } = response;
    if (error.success)
      throw new ApiError(error.data.error.code, error.data.error.message, { status, retryAfter });
    throw new ApiError("internal", `HTTP ${status}`, { status, retryAfter });
  }
}
