import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a receiver got: its headers and raw body, and what it answered. */
export type Received = {
  path: string;
  headers: Record<string, string>;
  body: string;
  answered: number;
  at: number;
};

/**
 * How the receiver answers the `n`-th request (1-based) to `path`: a status, maybe headers and
 * a body of its own ("ok" or "nope" otherwise).
 */
export type Answer = (
  request: Received,
  n: number,
) => number | { status: number; headers?: Record<string, string>; body?: string };

/**
 * A webhook receiver on 127.0.0.1 for the tests: it records every request and answers as the
 * test's `answer` says for its path (200 by default), so that a test can make it fail, then
 * recover. `url(path)` is where to point an endpoint.
 */
export async function startReceiver() {
  const received: Received[] = [];
  const answers = new Map<string, Answer>();
  const counts = new Map<string, number>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = req.url ?? "/";
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const request: Received = {
      path,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(", ") : (v ?? ""),
        ]),
      ),
      body: Buffer.concat(chunks).toString("utf8"),
      answered: 0,
      at: Date.now(),
    };
    const answer = answers.get(path)?.(request, n) ?? 200;
    const { status, headers, body } =
      typeof answer === "number" ? { status: answer, headers: {}, body: undefined } : answer;
    request.answered = status;
    received.push(request);
    res
      .writeHead(status, { "content-type": "text/plain", ...headers })
      .end(body ?? (status < 300 ? "ok" : "nope"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    answer: (path: string, answer: Answer) => void answers.set(path, answer),
    at: (path: string) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
