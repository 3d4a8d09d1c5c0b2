/**
 * The guard of every request we send to a URL a user gave us (webhook endpoints, slash
 * commands' URLs): https to a public address only, so that a room owner cannot make the worker
 * reach a private network, a cloud's metadata service or the machine it runs on (SSRF). Loopback
 * is allowed, over http too, only with `allowLoopback` (local development).
 *
 * Hosts are read after WHATWG URL parsing, which writes every IPv4 form (`2130706433`, `0x7f.1`,
 * `127.1`) as a dotted quad and every IPv6 one as compressed lower-case hex groups, so that one
 * check per form is enough. Names are not resolved here (workerd cannot): a public name that
 * resolves to a private address is the platform's to refuse (docs/integrations.md).
 */

export const MAX_URL_CHARS = 2048;

export type OutboundUrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

type HostClass = { kind: "public" } | { kind: "loopback" } | { kind: "refused"; reason: string };

export function checkOutboundUrl(
  raw: string,
  options: { allowLoopback: boolean },
): OutboundUrlVerdict {
  if (raw.length > MAX_URL_CHARS) {
    return refuse(`the URL is longer than ${MAX_URL_CHARS} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("the URL is not a valid absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse("the URL must use https");
  }
  if (url.username !== "" || url.password !== "") {
    return refuse("the URL must not contain a user name or password");
  }
  const host = classifyHost(url.hostname);
  if (host.kind === "refused") return refuse(host.reason);
  if (host.kind === "loopback" && !options.allowLoopback) {
    return refuse("the host is a loopback address, allowed only in local development");
  }
  if (url.protocol === "http:" && host.kind !== "loopback") {
    return refuse(
      options.allowLoopback
        ? "the URL must use https (http is allowed for loopback hosts only)"
        : "the URL must use https",
    );
  }
  return { ok: true, url };
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/** What a URL's `hostname` (as WHATWG URL writes it) points at. */
export function classifyHost(hostname: string): HostClass {
  if (hostname.startsWith("[") && hostname.endsWith("]")) {
    const groups = parseIpv6(hostname.slice(1, -1));
    return groups ? classifyIpv6(groups) : { kind: "refused", reason: "the host is not valid" };
  }
  const v4 = parseIpv4(hostname);
  if (v4 !== undefined) return classifyIpv4(v4);
  return classifyName(hostname);
}

// ---- IPv4 ------------------------------------------------------------------------------------

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

type Ipv4Range = { network: number; prefix: number; name: string };

const v4 = (text: string, prefix: number, name: string): Ipv4Range => ({
  network: parseIpv4(text)!,
  prefix,
  name,
});

/** Loopback is kept apart: it is allowed in local development. */
const IPV4_LOOPBACK = v4("127.0.0.0", 8, "loopback");

/** IANA's special-purpose ranges that no webhook endpoint lives in (RFC 6890 and its updates). */
const IPV4_REFUSED: readonly Ipv4Range[] = [
  v4("0.0.0.0", 8, "this network"),
  v4("10.0.0.0", 8, "private"),
  v4("100.64.0.0", 10, "shared address space"),
  v4("169.254.0.0", 16, "link-local"),
  v4("172.16.0.0", 12, "private"),
  v4("192.0.0.0", 24, "IETF protocol assignments"),
  v4("192.0.2.0", 24, "documentation"),
  v4("192.168.0.0", 16, "private"),
  v4("198.18.0.0", 15, "benchmarking"),
  v4("198.51.100.0", 24, "documentation"),
  v4("203.0.113.0", 24, "documentation"),
  v4("224.0.0.0", 4, "multicast"),
  // 240.0.0.0/4 holds the broadcast address 255.255.255.255 too.
  v4("240.0.0.0", 4, "reserved"),
];

/** A dotted quad as an unsigned 32-bit number, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const match = DOTTED_QUAD.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((address, octet) => address * 256 + octet, 0);
}

function inIpv4Range(address: number, range: Ipv4Range): boolean {
  const size = 2 ** (32 - range.prefix);
  return Math.floor(address / size) === Math.floor(range.network / size);
}

function describeIpv4Range(range: Ipv4Range): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(range.network / 2 ** shift) % 256);
  return `${octets.join(".")}/${range.prefix} (${range.name})`;
}

export function classifyIpv4(address: number): HostClass {
  if (inIpv4Range(address, IPV4_LOOPBACK)) return { kind: "loopback" };
  const range = IPV4_REFUSED.find((candidate) => inIpv4Range(address, candidate));
  return range ? refusedRange(describeIpv4Range(range)) : { kind: "public" };
}

function refusedRange(description: string): HostClass {
  return {
    kind: "refused",
    reason: `the host is an address in ${description}, which outgoing requests may not reach`,
  };
}

// ---- IPv6 ------------------------------------------------------------------------------------

/**
 * Eight 16-bit groups from an IPv6 address's text (RFC 4291 §2.2: hex groups, at most one `::`,
 * an optional dotted quad for the last 32 bits), or undefined when it is not one.
 */
export function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const head = groupsOf(halves[0]!, !compressed);
  const tail = compressed ? groupsOf(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The groups of one side of `::`; a dotted quad may end the address and counts as two. */
function groupsOf(part: string, endsAddress: boolean): number[] | undefined {
  if (part === "") return [];
  const pieces = part.split(":");
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (HEX_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
      continue;
    }
    const quad = endsAddress && i === pieces.length - 1 ? parseIpv4(piece) : undefined;
    if (quad === undefined) return undefined;
    groups.push(Math.floor(quad / 65536), quad % 65536);
  }
  return groups;
}

type Ipv6Rule = {
  network: number[];
  prefix: number;
  name: string;
  /** Where an IPv4 address sits in it, by group: that address is checked instead. */
  embedsIpv4At?: number;
};

const v6 = (text: string, prefix: number, name: string, embedsIpv4At?: number): Ipv6Rule => ({
  network: parseIpv6(text)!,
  prefix,
  name,
  ...(embedsIpv4At === undefined ? {} : { embedsIpv4At }),
});

/** In order: the first rule that holds the address decides. `::1` is tested before them. */
const IPV6_RULES: readonly Ipv6Rule[] = [
  v6("::", 128, "unspecified"),
  v6("::ffff:0:0", 96, "IPv4-mapped", 6),
  // ::a.b.c.d, deprecated, and ::ffff:0:a.b.c.d (SIIT): still an IPv4 address in disguise.
  v6("::", 96, "IPv4-compatible", 6),
  v6("::ffff:0:0:0", 96, "IPv4-translated", 6),
  v6("64:ff9b::", 96, "NAT64", 6),
  v6("64:ff9b:1::", 48, "local-use NAT64"),
  v6("100::", 64, "discard-only"),
  v6("2001::", 32, "Teredo"),
  v6("2001:db8::", 32, "documentation"),
  v6("2002::", 16, "6to4", 1),
  v6("fc00::", 7, "unique local"),
  v6("fe80::", 10, "link-local"),
  v6("fec0::", 10, "site-local"),
  v6("ff00::", 8, "multicast"),
];

const IPV6_LOOPBACK = parseIpv6("::1")!;

function inIpv6Prefix(groups: readonly number[], network: readonly number[], prefix: number) {
  for (let bit = 0; bit < prefix; bit += 16) {
    const bits = Math.min(16, prefix - bit);
    const mask = (0xffff << (16 - bits)) & 0xffff;
    const i = bit / 16;
    if ((groups[i]! & mask) !== (network[i]! & mask)) return false;
  }
  return true;
}

export function classifyIpv6(groups: readonly number[]): HostClass {
  if (groups.every((group, i) => group === IPV6_LOOPBACK[i])) return { kind: "loopback" };
  const rule = IPV6_RULES.find((candidate) =>
    inIpv6Prefix(groups, candidate.network, candidate.prefix),
  );
  if (!rule) return { kind: "public" };
  if (rule.embedsIpv4At === undefined) {
    return refusedRange(`${formatIpv6Network(rule.network)}/${rule.prefix} (${rule.name})`);
  }
  const at = rule.embedsIpv4At;
  return classifyIpv4(groups[at]! * 65536 + groups[at + 1]!);
}

function formatIpv6Network(groups: readonly number[]): string {
  let end = groups.length;
  while (end > 0 && groups[end - 1] === 0) end--;
  const head = groups.slice(0, end).map((group) => group.toString(16));
  return end === 8 ? head.join(":") : `${head.join(":")}::`;
}

// ---- names -----------------------------------------------------------------------------------

/** Suffixes of names that live inside a network (RFC 6761, 6762, 8375; common practice). */
const LOCAL_SUFFIXES = [".local", ".internal", ".home.arpa", ".localdomain"];

function classifyName(hostname: string): HostClass {
  // `localhost.` is `localhost`: one trailing dot is the root, not another name.
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return { kind: "loopback" };
  const suffix = LOCAL_SUFFIXES.find((candidate) => name.endsWith(candidate));
  if (suffix) {
    return {
      kind: "refused",
      reason: `the host name ends in ${suffix}, a name inside a local network`,
    };
  }
  if (!name.includes(".") || name.startsWith(".")) {
    return {
      kind: "refused",
      reason: "the host name has a single label (no dot), a name inside a local network",
    };
  }
  return { kind: "public" };
}
