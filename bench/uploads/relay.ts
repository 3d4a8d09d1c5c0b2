/**
 * A timing relay in front of the local transcriber: the server's TRANSCRIBER_URL points here, and
 * every request is passed on unchanged to the service, noting when it arrived, when the service's
 * answer came back, its status, and the SHA-256 of the audio it carried (to tell which voice
 * message it was). The service itself reports no time per job; this is its time as the room sees
 * it (its queue included), less the hop through the relay on 127.0.0.1.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { now } from "../util.ts";

export type RelayedCall = {
  audioSha256: string;
  arrivedAt: number;
  answeredAt: number;
  status: number;
  text?: string;
};

export type Relay = {
  url: string;
  calls: RelayedCall[];
  close(): Promise<void>;
};

const audioHash = (body: string): string => {
  try {
    const audio = (JSON.parse(body) as { audio?: unknown }).audio;
    return typeof audio === "string"
      ? createHash("sha256").update(Buffer.from(audio, "base64")).digest("hex")
      : "";
  } catch {
    return "";
  }
};

export async function startRelay(upstream: string): Promise<Relay> {
  const calls: RelayedCall[] = [];
  const server: Server = createServer((req, res) => {
    const arrivedAt = now();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const answer = await fetch(new URL(req.url ?? "/", upstream), {
          method: req.method,
          headers: { "content-type": req.headers["content-type"] ?? "application/json" },
          body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
          signal: AbortSignal.timeout(360_000),
        });
        const text = await answer.text();
        const answeredAt = now();
        if (req.url?.startsWith("/v1/transcribe")) {
          let heard: string | undefined;
          try {
            heard = (JSON.parse(text) as { text?: string }).text;
          } catch {
            heard = undefined;
          }
          calls.push({
            audioSha256: audioHash(body),
            arrivedAt,
            answeredAt,
            status: answer.status,
            ...(heard === undefined ? {} : { text: heard }),
          });
        }
        const headers: Record<string, string> = {
          "content-type": answer.headers.get("content-type") ?? "application/json",
        };
        const retryAfter = answer.headers.get("retry-after");
        if (retryAfter) headers["retry-after"] = retryAfter;
        res.writeHead(answer.status, headers).end(text);
      } catch (error) {
        // The service is gone: answer as a server that is down would, so the room retries.
        res.writeHead(503, { "content-type": "application/json" }).end(
          JSON.stringify({
            error: { code: "unavailable", message: `relay: ${(error as Error).message}` },
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
