import fc from "fast-check";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTBOUND_URLS as TABLE } from "../fixtures/outbound-urls.ts";
import {
  checkOutboundUrl,
  MAX_URL_CHARS,
  parseIpv4,
  parseIpv6,
} from "../../src/integrations/outbound-url.ts";
import {
  EXCERPT_BYTES,
  parseRetryAfter,
  sendOutbound,
} from "../../src/integrations/outbound-request.ts";

describe("checkOutboundUrl", () => {
  it("has a table of more than a hundred rows", () => {
    expect(TABLE.length).toBeGreaterThan(100);
  });

  it.each(TABLE)("%s (loopback allowed: %s)", (raw, allowLoopback, expected) => {
    const verdict = checkOutboundUrl(raw, { allowLoopback });
    if (expected === true) {
      expect(verdict).toMatchObject({ ok: true });
      if (verdict.ok) expect(verdict.url.href).toBe(new URL(raw).href);
    } else {
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(expected);
    }
  });

  it("refuses a URL longer than 2048 characters, and takes one of exactly 2048", () => {
    const base = "https://example.com/";
    const at = (length: number) => base + "a".repeat(length - base.length);
    expect(checkOutboundUrl(at(MAX_URL_CHARS), { allowLoopback: false }).ok).toBe(true);
    expect(checkOutboundUrl(at(MAX_URL_CHARS + 1), { allowLoopback: false })).toEqual({
      ok: false,
      reason: "the URL is longer than 2048 characters",
    });
  });

  it("never echoes the URL it refuses", () => {
    for (const [raw, allowLoopback, expected] of TABLE) {
      const verdict = checkOutboundUrl(raw, { allowLoopback });
      if (expected !== true && !verdict.ok && raw.length > 12)
        expect(verdict.reason).not.toContain(raw);
    }
  });
});

// ---- fuzzing: no private address passes, whatever its encoding --------------------------------

/** The refused IPv4 ranges (loopback among them), as [first address, size]. */
const PRIVATE_V4: [number, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
].map(([network, prefix]) => [parseIpv4(network as string)!, 2 ** (32 - (prefix as number))]);

const privateV4 = fc
  .tuple(
    fc.constantFrom(...PRIVATE_V4),
    fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  )
  .map(([[first, size], at]) => first + Math.floor(at * size));

const octetsOf = (address: number) =>
  [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256);

/** Every way WHATWG URL (and inet_aton before it) reads an IPv4 address. */
const v4Encodings: ((address: number) => string)[] = [
  (a) => octetsOf(a).join("."),
  (a) => String(a),
  (a) => `0x${a.toString(16)}`,
  (a) => `0${a.toString(8)}`,
  (a) =>
    octetsOf(a)
      .map((o) => `0x${o.toString(16)}`)
      .join("."),
  (a) =>
    octetsOf(a)
      .map((o) => `0${o.toString(8)}`)
      .join("."),
  (a) => `${octetsOf(a)[0]}.${a % 2 ** 24}`,
  (a) => `${octetsOf(a)[0]}.${octetsOf(a)[1]}.${a % 65536}`,
  (a) => `${octetsOf(a).join(".")}.`,
  // Percent-encoded digits and ideographic full stops, which the host parser maps first.
  (a) => [...octetsOf(a).join(".")].map((c) => (c === "." ? "\u3002" : `%3${c}`)).join(""),
];

const hex16 = (group: number) => group.toString(16);
const v4Groups = (a: number) => [Math.floor(a / 65536), a % 65536];

/** IPv6 texts that carry an IPv4 address. */
const v6Carriers: ((address: number) => string)[] = [
  (a) => `::ffff:${octetsOf(a).join(".")}`,
  (a) => `::ffff:${v4Groups(a).map(hex16).join(":")}`,
  (a) => `0:0:0:0:0:FFFF:${octetsOf(a).join(".")}`,
  (a) => `::${octetsOf(a).join(".")}`,
  (a) => `::ffff:0:${octetsOf(a).join(".")}`,
  (a) => `64:ff9b::${octetsOf(a).join(".")}`,
  (a) => `64:ff9b::${v4Groups(a).map(hex16).join(":")}`,
  (a) => `2002:${v4Groups(a).map(hex16).join(":")}::1`,
];

/** The refused IPv6 prefixes (loopback and the unspecified address aside), as [groups, bits]. */
const PRIVATE_V6: [string, number][] = [
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
  ["2001::", 32],
  ["100::", 64],
  ["64:ff9b:1::", 48],
];

const privateV6 = fc
  .tuple(
    fc.constantFrom(...PRIVATE_V6),
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
  )
  .map(([[network, bits], random]) => {
    const base = parseIpv6(network)!;
    return base.map((group, i) => {
      const kept = Math.max(0, Math.min(16, bits - i * 16));
      const mask = (0xffff << (16 - kept)) & 0xffff;
      return (group & mask) | (random[i]! & ~mask & 0xffff);
    });
  });

/** Written out in full, with leading zeros, upper case, or compressed at the longest zero run. */
const v6Writings: ((groups: number[]) => string)[] = [
  (g) => g.map(hex16).join(":"),
  (g) => g.map((x) => x.toString(16).padStart(4, "0")).join(":"),
  (g) => g.map((x) => x.toString(16).toUpperCase()).join(":"),
  (g) => new URL(`https://[${g.map(hex16).join(":")}]/`).hostname.slice(1, -1),
];

describe("no private address passes, in any encoding (fuzzed)", () => {
  it("IPv4 literals", () => {
    fc.assert(
      fc.property(
        privateV4,
        fc.constantFrom(...v4Encodings),
        fc.boolean(),
        (address, encode, allowLoopback) => {
          const raw = `https://${encode(address)}/hook`;
          const verdict = checkOutboundUrl(raw, { allowLoopback });
          const loopback = Math.floor(address / 2 ** 24) === 127;
          expect(URL.canParse(raw)).toBe(true);
          expect(new URL(raw).hostname).toBe(octetsOf(address).join("."));
          expect(verdict.ok).toBe(allowLoopback && loopback);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("IPv4 inside IPv6", () => {
    fc.assert(
      fc.property(
        privateV4,
        fc.constantFrom(...v6Carriers),
        fc.boolean(),
        (address, carry, allowLoopback) => {
          const verdict = checkOutboundUrl(`https://[${carry(address)}]/`, { allowLoopback });
          const loopback = Math.floor(address / 2 ** 24) === 127;
          expect(verdict.ok).toBe(allowLoopback && loopback);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("private IPv6", () => {
    fc.assert(
      fc.property(
        privateV6,
        fc.constantFrom(...v6Writings),
        fc.boolean(),
        (groups, write, allowLoopback) => {
          expect(checkOutboundUrl(`https://[${write(groups)}]:443/`, { allowLoopback }).ok).toBe(
            false,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("while public names pass", () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    const tld = fc.constantFrom("com", "org", "io", "dev", "example", "xn--p1ai");
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 3 }), tld, (labels, top) => {
        const host = [...labels, top].join(".");
        fc.pre(!/^[\d.]+$/.test(host) && !/(^|\.)localhost$/.test(host));
        expect(checkOutboundUrl(`https://${host}/x`, { allowLoopback: false }).ok).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("parseIpv6", () => {
  it.each([
    ["::", [0, 0, 0, 0, 0, 0, 0, 0]],
    ["::1", [0, 0, 0, 0, 0, 0, 0, 1]],
    ["1::", [1, 0, 0, 0, 0, 0, 0, 0]],
    ["1:2:3:4:5:6:7:8", [1, 2, 3, 4, 5, 6, 7, 8]],
    ["1:2::7:8", [1, 2, 0, 0, 0, 0, 7, 8]],
    ["::ffff:127.0.0.1", [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ["FE80::ABCD", [0xfe80, 0, 0, 0, 0, 0, 0, 0xabcd]],
  ])("%s", (text, groups) => {
    expect(parseIpv6(text)).toEqual(groups);
  });

  it.each([
    "",
    ":",
    ":::",
    "1::2::3",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4::5:6:7:8",
    "12345::",
    "g::",
    "1.2.3.4::",
    "::1.2.3",
    "::256.0.0.1",
  ])("refuses %j", (text) => {
    expect(parseIpv6(text)).toBeUndefined();
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it.each([
    [null, undefined],
    ["7", 7],
    [" 120 ", 120],
    ["0", 0],
    ["Thu, 01 Jan 2026 12:00:30 GMT", 30],
    ["Thursday, 01-Jan-26 12:01:00 GMT", 60],
    ["Thu Jan  1 12:00:10 2026", 10],
    ["Wed, 31 Dec 2025 12:00:00 GMT", 0],
    ["-5", undefined],
    ["1.5", undefined],
    ["soon", undefined],
    ["2026-01-01T12:00:30Z", undefined],
    ["", undefined],
  ])("%j → %s", (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });
});

// ---- sendOutbound against a real local server --------------------------------------------------

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; url: URL }> {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`) };
}

describe("sendOutbound", () => {
  let receiver: { server: Server; url: URL };
  let redirectTarget: { server: Server; url: URL };
  let redirectTargetHits = 0;
  let tenMegabytesWritten = 0;
  let tenMegabytesFinished = false;
  const received: { method?: string; body: string; signature?: string }[] = [];

  beforeAll(async () => {
    redirectTarget = await listen((_, response) => {
      redirectTargetHits++;
      response.end("private data");
    });
    receiver = await listen((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({
          method: request.method,
          body: Buffer.concat(chunks).toString(),
          signature: request.headers["webhook-signature"] as string | undefined,
        });
        route(request.url ?? "/", response);
      });
    });
  });

  function route(path: string, response: ServerResponse) {
    switch (path) {
      case "/ok":
        return response.writeHead(200, { "content-type": "text/plain" }).end("thanks ✓");
      case "/fail":
        return response.writeHead(500).end("Internal Server Error: stack trace here");
      case "/gone":
        return response.writeHead(410).end("endpoint removed");
      case "/slow-down":
        return response.writeHead(429, { "retry-after": "7" }).end();
      case "/slow-down-until":
        return response
          .writeHead(503, { "retry-after": new Date(Date.now() + 90_000).toUTCString() })
          .end();
      case "/moved":
        return response.writeHead(302, { location: redirectTarget.url.href }).end("see there");
      case "/silent":
        return; // never answers
      case "/stalled-body":
        return response.writeHead(200).write("partial");
      case "/huge":
        return writeTenMegabytes(response);
      case "/json-2k":
        return response
          .writeHead(200, { "content-type": "application/json; charset=utf-8" })
          .end(JSON.stringify({ text: "é".repeat(1000) }));
      default:
        return response.writeHead(404).end();
    }
  }

  function writeTenMegabytes(response: ServerResponse) {
    const chunk = Buffer.alloc(64 * 1024, "x");
    const total = 10 * 1024 * 1024;
    response.writeHead(200, { "content-length": String(total) });
    response.on("close", () => {
      tenMegabytesFinished = response.writableFinished;
    });
    const writeMore = () => {
      while (tenMegabytesWritten < total) {
        tenMegabytesWritten += chunk.length;
        if (!response.write(chunk)) return void response.once("drain", writeMore);
      }
      response.end();
    };
    writeMore();
  }

  afterAll(() => {
    receiver.server.closeAllConnections();
    receiver.server.close();
    redirectTarget.server.close();
  });

  const at = (path: string) => new URL(path, receiver.url);
  const post = {
    method: "POST",
    body: '{"type":"ping"}',
    headers: { "webhook-signature": "v1,abc" },
  };

  it("a 200: ok, with the request as sent and the body's excerpt", async () => {
    const result = await sendOutbound(at("/ok"), post, { timeoutMs: 5000 });
    expect(result).toMatchObject({ status: 200, ok: true, responseExcerpt: "thanks ✓" });
    expect(result).not.toHaveProperty("error");
    expect(result).not.toHaveProperty("retryAfterSeconds");
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(received.at(-1)).toEqual({
      method: "POST",
      body: '{"type":"ping"}',
      signature: "v1,abc",
    });
  });

  it("a 500 and a 410: failures with their status", async () => {
    expect(await sendOutbound(at("/fail"), post, { timeoutMs: 5000 })).toMatchObject({
      status: 500,
      ok: false,
      responseExcerpt: "Internal Server Error: stack trace here",
    });
    expect(await sendOutbound(at("/gone"), post, { timeoutMs: 5000 })).toMatchObject({
      status: 410,
      ok: false,
    });
  });

  it("a 429 with Retry-After in seconds, a 503 with it as an HTTP date", async () => {
    expect(await sendOutbound(at("/slow-down"), post, { timeoutMs: 5000 })).toMatchObject({
      status: 429,
      ok: false,
      retryAfterSeconds: 7,
    });
    const until = await sendOutbound(at("/slow-down-until"), post, { timeoutMs: 5000 });
    expect(until).toMatchObject({ status: 503, ok: false });
    expect(until.retryAfterSeconds).toBeGreaterThanOrEqual(88);
    expect(until.retryAfterSeconds).toBeLessThanOrEqual(91);
  });

  it("a 302 is a failure, and its target is never asked", async () => {
    const result = await sendOutbound(at("/moved"), post, { timeoutMs: 5000 });
    expect(result).toMatchObject({
      status: 302,
      ok: false,
      error: "redirect",
      responseExcerpt: "see there",
    });
    expect(redirectTargetHits).toBe(0);
  });

  it("a receiver that never answers: timeout, no status", async () => {
    const result = await sendOutbound(at("/silent"), post, { timeoutMs: 300 });
    expect(result).toEqual({
      status: null,
      ok: false,
      durationMs: result.durationMs,
      error: "timeout",
      responseExcerpt: "",
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
  });

  it("a body that stalls after the status: the status counts, the excerpt is what came", async () => {
    const result = await sendOutbound(at("/stalled-body"), post, { timeoutMs: 300 });
    expect(result).toMatchObject({ status: 200, ok: true, responseExcerpt: "partial" });
    expect(result).not.toHaveProperty("error");
  });

  it("a refused connection: network, no status", async () => {
    const closed = await listen(() => {});
    closed.server.close();
    await once(closed.server, "close");
    const result = await sendOutbound(closed.url, post, { timeoutMs: 5000 });
    expect(result).toMatchObject({
      status: null,
      ok: false,
      error: "network",
      responseExcerpt: "",
    });
  });

  it("bodyBytes: the answer as far as asked, whether there was more, its content type", async () => {
    const whole = await sendOutbound(at("/json-2k"), post, { timeoutMs: 5000, bodyBytes: 4096 });
    expect(whole.body).toEqual({
      text: JSON.stringify({ text: "é".repeat(1000) }),
      truncated: false,
      contentType: "application/json; charset=utf-8",
    });
    // The log's excerpt stays 1 KiB, a character cut in two left out.
    expect(new TextEncoder().encode(whole.responseExcerpt).length).toBeLessThanOrEqual(
      EXCERPT_BYTES,
    );
    const cut = await sendOutbound(at("/json-2k"), post, { timeoutMs: 5000, bodyBytes: 1500 });
    expect(cut.body).toMatchObject({ truncated: true });
    expect(new TextEncoder().encode(cut.body!.text).length).toBeLessThanOrEqual(1500);
    // Without bodyBytes, nothing more than before.
    expect(await sendOutbound(at("/ok"), post, { timeoutMs: 5000 })).not.toHaveProperty("body");
  });

  it("a 10 MB body: 1 KiB kept, the rest never read", async () => {
    const result = await sendOutbound(at("/huge"), { method: "GET" }, { timeoutMs: 5000 });
    expect(result).toMatchObject({ status: 200, ok: true });
    expect(result.responseExcerpt).toBe("x".repeat(EXCERPT_BYTES));
    // The client hangs up: the server's writes stop well short of the 10 MB, blocked on a full
    // socket, and its response never finishes.
    await expect.poll(() => receiver.server.listening && tenMegabytesWritten > 0).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tenMegabytesFinished).toBe(false);
    expect(tenMegabytesWritten).toBeLessThan(10 * 1024 * 1024);
  });
});
