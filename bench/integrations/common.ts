/**
 * What the integrations benchmark's parts share: the public API calls that set a run up (through
 * bench/http.ts, as an SDK-less client makes them), posting over HTTP with the time of the
 * answer, and the CPU of a window (the server's per role, and what the rest of the machine took).
 */
import type { Delivery } from "../../src/protocol/index.ts";
import { call } from "../http.ts";
import {
  cpuDelta,
  machineCpuMs,
  treeCpu,
  type RunningServer,
  type Storage,
  type TargetName,
} from "../servers.ts";
import { now, sum } from "../util.ts";
import type { LoggedDelivery, Post } from "./tally.ts";

/** Which server every run starts: `wrangler dev` (through its proxy, or straight to the runtime). */
export type ServerChoice = {
  target: Exclude<TargetName, "raw">;
  storage: Storage;
  serverRoot: string;
};

/** `POST /api/rooms/{room}/webhooks`: an endpoint for `message.posted`; its id. */
export async function addWebhook(
  baseUrl: string,
  owner: string,
  room: string,
  url: string,
): Promise<string> {
  const created = await call<{ webhook: { id: string } }>(
    baseUrl,
    "POST",
    `/api/rooms/${encodeURIComponent(room)}/webhooks`,
    owner,
    { url, eventTypes: ["message.posted"] },
  );
  return created.webhook.id;
}

export type DeliveryLogCounts = {
  deliveries: number;
  /** Tries over every delivery: one `delivery` queue message each. */
  attempts: number;
  byStatus: Record<string, number>;
};

/**
 * Pages a webhook's whole delivery log (`GET …/webhooks/{id}/deliveries`) into counts, and each
 * delivery's times into `entries` (under the endpoint's `path`).
 */
export async function readDeliveryLog(
  baseUrl: string,
  owner: string,
  room: string,
  webhook: string,
  path: string,
  entries: LoggedDelivery[],
): Promise<DeliveryLogCounts> {
  const counts: DeliveryLogCounts = { deliveries: 0, attempts: 0, byStatus: {} };
  let before: string | null = null;
  do {
    const page: { deliveries: Delivery[]; nextBefore: string | null } = await call(
      baseUrl,
      "GET",
      `/api/rooms/${encodeURIComponent(room)}/webhooks/${webhook}/deliveries?limit=100` +
        (before ? `&before=${encodeURIComponent(before)}` : ""),
      owner,
    );
    for (const d of page.deliveries) {
      counts.deliveries += 1;
      counts.attempts += d.attempts.length;
      counts.byStatus[d.status] = (counts.byStatus[d.status] ?? 0) + 1;
      const firstTryAt = d.attempts.length ? Math.min(...d.attempts.map((a) => a.at)) : undefined;
      entries.push({ path, room: d.room, seq: d.seq, createdAt: d.createdAt, firstTryAt });
    }
    before = page.nextBefore;
  } while (before);
  return counts;
}

export function addCounts(a: DeliveryLogCounts, b: DeliveryLogCounts): DeliveryLogCounts {
  const byStatus = { ...a.byStatus };
  for (const [k, v] of Object.entries(b.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + v;
  return { deliveries: a.deliveries + b.deliveries, attempts: a.attempts + b.attempts, byStatus };
}

/** A message of `size` characters that says which post it is. */
export const benchText = (n: number, size = 100) => `bench ${n} `.padEnd(size, "x");

/**
 * `POST /api/rooms/{room}/messages` as `token`: the post, with when its answer came back and
 * the seq of a 201 (the commit). Never throws: a failure is a status 0 with the error's name.
 */
export async function postOverHttp(
  baseUrl: string,
  token: string,
  room: string,
  text: string,
  measured: boolean,
): Promise<Post> {
  const post: Post = { room, sentAt: now(), measured };
  try {
    const response = await fetch(`${baseUrl}/api/rooms/${encodeURIComponent(room)}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ clientId: crypto.randomUUID(), text }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { seq?: number; error?: { code?: string } };
    post.status = response.status;
    if (response.status === 201 && typeof body.seq === "number") {
      post.answeredAt = now();
      post.seq = body.seq;
    } else post.code = body.error?.code ?? `HTTP ${response.status}`;
  } catch (error) {
    post.status = 0;
    post.code = error instanceof Error ? error.name : "error";
  }
  return post;
}

export type CpuWindow = {
  wallMs: number;
  /** The server's CPU per role (runtime: the worker's workerd; proxy; wrangler), ms. */
  serverCpuMs: Record<string, number>;
  benchCpuMs: number;
  /** Cores the rest of the machine took meanwhile (every core's busy time, less ours). */
  othersCores: number;
};

/** Starts a CPU window on `server`; the returned function ends it. */
export function cpuWindow(server: RunningServer): () => CpuWindow {
  const cpu0 = treeCpu(server.pid);
  const machine0 = machineCpuMs();
  const own0 = process.cpuUsage();
  const t0 = now();
  return () => {
    const serverCpuMs = cpuDelta(cpu0, treeCpu(server.pid), server.role);
    const own = process.cpuUsage(own0);
    const benchCpuMs = (own.user + own.system) / 1000;
    const wallMs = now() - t0;
    const others = machineCpuMs() - machine0 - sum(serverCpuMs) - benchCpuMs;
    return { wallMs, serverCpuMs, benchCpuMs, othersCores: Math.max(0, others) / wallMs };
  };
}
