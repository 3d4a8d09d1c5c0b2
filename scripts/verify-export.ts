/**
 * `npm run verify-export -- FILE [--head HASH]`: checks a room's export
 * (`GET /api/rooms/{room}/audit/export`, NDJSON) with no server: every event follows the one
 * before it, links to its hash, carries the hashes of its own fields and content (docs/audit.md);
 * with `--head`, a head the server published (`/audit/verify`), the file must contain it: a file
 * with its newest events cut off verifies by itself, not against a head published later.
 * Exits 0 and prints the last seq and head when it holds; 1 and the first broken link when not.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Hash, verifyChain, type ChainedEvent } from "../src/protocol/chain.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { head: { type: "string" } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: npm run verify-export -- FILE [--head HASH]");
  process.exit(2);
}
if (values.head !== undefined && !Hash.safeParse(values.head).success) {
  console.error("--head: expected a SHA-256 hash in lower-case hex");
  process.exit(2);
}

/** The file's events in order; a line that is not an event stops the walk with its number. */
async function* events(path: string): AsyncGenerator<ChainedEvent> {
  let line = 0;
  for await (const text of createInterface({
    input: createReadStream(path),
    crlfDelay: Infinity,
  })) {
    line += 1;
    if (text.trim() === "") continue;
    try {
      yield JSON.parse(text) as ChainedEvent;
    } catch {
      throw new Error(`line ${line} is not JSON`);
    }
  }
}

const all: ChainedEvent[] = [];
try {
  for await (const event of events(file)) all.push(event);
} catch (error) {
  console.error(`BROKEN: ${(error as Error).message}`);
  process.exit(1);
}
const verdict = verifyChain(all);
if (!verdict.ok) {
  console.error(`BROKEN at seq ${verdict.seq}: ${verdict.problem}`);
  process.exit(1);
}
const head = values.head;
if (head !== undefined && !all.some((e) => e.hash === head)) {
  console.error(
    `BROKEN: the file ends at ${verdict.lastSeq} without the head given: events were cut off or altered`,
  );
  process.exit(1);
}
console.log(`OK: ${all.length} events, last seq ${verdict.lastSeq}, head ${verdict.head}`);
