import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A slash command's server for the tests, on 127.0.0.1: it checks every request exactly as
 * Slack documents a slash command's (a form POST with Slack's fields in Slack's order, the
 * verification token, `X-Slack-Request-Timestamp` within 5 minutes, `X-Slack-Signature` v0 over
 * `v0:{timestamp}:{body}`), records it, and answers as the test says. A request that fails a
 * check is answered 401 and kept in `violations`.
 */

/** The fields of a slash command's request, in the order Slack sends them. */
export const SLACK_FIELDS = [
  "token",
  "team_id",
  "team_domain",
  "channel_id",
  "channel_name",
  "user_id",
  "user_name",
  "command",
  "text",
  "api_app_id",
  "is_enterprise_install",
  "response_url",
  "trigger_id",
] as const;

export type SlashRequest = {
  path: string;
  headers: Record<string, string | undefined>;
  raw: string;
  fields: Record<(typeof SLACK_FIELDS)[number], string>;
};

/** What a command of the test's answers: a status and body, maybe after a delay. */
export type SlashReply = {
  status?: number;
  body?: string | object;
  contentType?: string;
  delayMs?: number;
};

/** The secrets a command's requests must carry, from its creation's answer. */
export type Expected = { signingSecret: string; verificationToken: string };

export async function startSlashServer() {
  const requests: SlashRequest[] = [];
  const violations: string[] = [];
  const expected = new Map<string, Expected>();
  const handlers = new Map<string, (request: SlashRequest) => SlashReply | Promise<SlashReply>>();

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "/";
    const problem = check(req, raw, expected.get(path));
    if (problem) {
      violations.push(`${path}: ${problem}`);
      return void res.writeHead(401, { "content-type": "text/plain" }).end(problem);
    }
    const fields = Object.fromEntries(new URLSearchParams(raw)) as SlashRequest["fields"];
    const request: SlashRequest = { path, headers: flat(req.headers), raw, fields };
    requests.push(request);
    const reply = (await handlers.get(path)?.(request)) ?? {};
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    const body =
      reply.body === undefined
        ? ""
        : typeof reply.body === "string"
          ? reply.body
          : JSON.stringify(reply.body);
    const contentType =
      reply.contentType ?? (typeof reply.body === "object" ? "application/json" : "text/plain");
    res.writeHead(reply.status ?? 200, { "content-type": contentType });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    requests,
    violations,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    /** The secrets `path`'s requests must be signed and sent with. */
    expect: (path: string, secrets: Expected) => void expected.set(path, secrets),
    on: (path: string, handler: (request: SlashRequest) => SlashReply | Promise<SlashReply>) =>
      void handlers.set(path, handler),
    at: (path: string) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type SlashServer = Awaited<ReturnType<typeof startSlashServer>>;

function flat(headers: IncomingMessage["headers"]): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]),
  );
}

/** Why a request is not one Slack would send, or undefined when it is. */
function check(
  req: IncomingMessage,
  raw: string,
  secrets: Expected | undefined,
): string | undefined {
  if (!secrets) return "no command expected at this path";
  if (req.method !== "POST") return `method ${req.method}`;
  if (req.headers["content-type"] !== "application/x-www-form-urlencoded")
    return `content-type ${req.headers["content-type"]}`;
  const timestamp = String(req.headers["x-slack-request-timestamp"] ?? "");
  const signature = String(req.headers["x-slack-signature"] ?? "");
  if (!/^\d+$/.test(timestamp)) return "no X-Slack-Request-Timestamp";
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return "stale timestamp";
  const mac = createHmac("sha256", secrets.signingSecret).update(`v0:${timestamp}:${raw}`);
  const wanted = Buffer.from(`v0=${mac.digest("hex")}`);
  const got = Buffer.from(signature);
  if (got.length !== wanted.length || !timingSafeEqual(got, wanted)) return "bad X-Slack-Signature";
  const form = new URLSearchParams(raw);
  const keys = [...form.keys()];
  if (keys.join() !== SLACK_FIELDS.join()) return `fields ${keys.join()}`;
  if (form.get("token") !== secrets.verificationToken) return "wrong verification token";
  if (form.get("is_enterprise_install") !== "false") return "is_enterprise_install";
  return undefined;
}
