import type { EdgechatApi, Webhook, WebhooksApi } from "../../client/index.ts";
import { handleUnauthorized, type AppContext } from "../context.ts";

/**
 * How a screen's calls go to the part of the SDK it manages (`A`: a room's outgoing webhooks,
 * its incoming ones, the instance's): with the current token, a 401 ending the session as
 * everywhere else in the app.
 */
export type ApiScope<A> = {
  call<T>(run: (api: A) => Promise<T>): Promise<T>;
  /** True when `error` was a 401 and the app has signed out: nothing more to show. */
  signedOut(error: unknown): boolean;
};

/** Which set of outgoing webhooks a screen manages (a room's, or the instance's). */
export type WebhookScope = ApiScope<WebhooksApi> & {
  /** The instance's endpoints hear every room: their deliveries name the room. */
  instance: boolean;
  /** Where the events come from, for the intro: "this room", "every room". */
  whose: string;
};

/** An endpoint with its new signing secret: the answer that shows the secret this once. */
export type IssuedSecret = { webhook: Webhook; secret: string };

export function apiScope<A>(ctx: AppContext, select: (api: EdgechatApi) => A): ApiScope<A> {
  return {
    call: (run) => ctx.call((api) => run(select(api))),
    signedOut: (error) => handleUnauthorized(ctx, error),
  };
}

export function webhookScope(
  ctx: AppContext,
  select: (api: EdgechatApi) => WebhooksApi,
  instance: boolean,
): WebhookScope {
  return {
    ...apiScope(ctx, select),
    instance,
    whose: instance ? "every room" : "this room",
  };
}
