import { WorkerEntrypoint } from "cloudflare:workers";
import { integrationsConfig } from "../config.ts";
import { grantedUrl } from "./hosts.ts";
import { BUDGETS } from "./sandbox/meter.ts";
import { CALL_HEADER, REFUSED_HEADER } from "./sandbox/names.ts";

/**
 * The network of a plugin that was granted hosts (docs/plugins.md, "Network"): the runner loads
 * its sandbox with `globalOutbound` set to `ctx.exports.PluginOutbound({ props })`, so that
 * every `fetch()` the plugin makes arrives here, and only here. A request goes on when the
 * integrations' SSRF guard passes its URL (https; http to loopback only with
 * WEBHOOK_ALLOW_LOOPBACK), its host is one granted, and its call has sent fewer than the
 * budget's requests; redirects come back to the plugin unfollowed (their target is unchecked),
 * and a body is cut at `RESPONSE_BYTES`. Anything else is refused: a made-up response that the
 * sandbox's fetch turns into the error the plugin's `fetch` rejects with (an error thrown here
 * would do the same, logged by workerd as uncaught each time).
 */

export type OutboundProps = { plugin: string; room: string; hosts: string[] };

export const RESPONSE_BYTES = 1024 * 1024;
const TIMEOUT_MS = 10_000;

/** Requests per call, by `<plugin>/<room>/<call>`: the isolate's, kept small. */
const sent = new Map<string, number>();
const REMEMBERED_CALLS = 1000;

export class PluginOutbound extends WorkerEntrypoint<Env, OutboundProps> {
  override async fetch(request: Request): Promise<Response> {
    const { plugin, room, hosts } = this.ctx.props;
    if (countRequest(`${plugin}/${room}/${request.headers.get(CALL_HEADER) ?? ""}`)) {
      return refused(`more than ${BUDGETS.subrequests} requests in one hook call`);
    }
    const { WEBHOOK_ALLOW_LOOPBACK: allowLoopback } = integrationsConfig(this.env);
    const verdict = grantedUrl(request.url, hosts, { allowLoopback });
    if (!verdict.ok) return refused(verdict.reason);
    const headers = new Headers(request.headers);
    headers.delete(CALL_HEADER);
    let response: Response;
    try {
      response = await fetch(verdict.url, {
        method: request.method,
        headers,
        body: request.body,
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      return refused(`${verdict.url.host} did not answer: ${(error as Error).message}`);
    }
    const answer = new Response(capped(response.body), response);
    answer.headers.delete(REFUSED_HEADER);
    return answer;
  }
}

const refused = (reason: string) =>
  new Response(reason, { status: 403, headers: { [REFUSED_HEADER]: "1" } });

/** Counts one request of a call; true when the call has sent more than its budget. */
function countRequest(call: string): boolean {
  const count = (sent.get(call) ?? 0) + 1;
  sent.delete(call);
  sent.set(call, count);
  if (sent.size > REMEMBERED_CALLS) sent.delete(sent.keys().next().value!);
  return count > BUDGETS.subrequests;
}

/** The body, failing once it has passed RESPONSE_BYTES. */
function capped(body: ReadableStream<Uint8Array> | null): ReadableStream<Uint8Array> | null {
  if (!body) return null;
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > RESPONSE_BYTES) {
          controller.error(new RangeError(`a response body is at most ${RESPONSE_BYTES} bytes`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
