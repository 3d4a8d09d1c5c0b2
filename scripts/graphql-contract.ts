/**
 * schema.graphql as a contract (docs/graphql.md, "Schema as a contract"): the changes between a
 * base version of the schema and this one, sorted by @graphql-inspector/core into breaking,
 * dangerous and safe. A breaking change passes only when graphql-breaking.json acknowledges it
 * with a reason, so that breaking clients is a decision someone wrote down and a reviewer read.
 * Run by test/unit/graphql-contract.test.ts, in Node only (never in the worker).
 */
import { type Change, CriticalityLevel, diff } from "@graphql-inspector/core";
import { buildSchema } from "graphql";
import { z } from "zod";
import { contractBase, fileAt } from "./contract-base.ts";

export const SCHEMA_FILE = "schema.graphql";
export const ACKNOWLEDGED_FILE = "graphql-breaking.json";

const Acknowledgement = z.object({
  path: z.string().min(1),
  type: z.string().min(1),
  reason: z.string().trim().min(1, "every accepted breaking change needs a reason"),
});
export type Acknowledgement = z.infer<typeof Acknowledgement>;

const AcknowledgedFile = z.strictObject({
  "//": z.string().optional(),
  accepted: z.array(Acknowledgement),
});

/** graphql-breaking.json's accepted changes; a malformed file throws, naming what is wrong. */
export function parseAcknowledged(text: string): Acknowledgement[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${ACKNOWLEDGED_FILE} is not JSON: ${(error as Error).message}`);
  }
  const parsed = AcknowledgedFile.safeParse(json);
  if (!parsed.success) throw new Error(`${ACKNOWLEDGED_FILE}: ${z.prettifyError(parsed.error)}`);
  return parsed.data.accepted;
}

export type ContractReport = {
  /** Breaking and not acknowledged: these fail the check. */
  breaking: Change[];
  /** Breaking, and acknowledged in graphql-breaking.json. */
  acknowledged: Change[];
  /** May break some clients (an enum value added, a default changed): printed, never failed. */
  dangerous: Change[];
  /** Entries of graphql-breaking.json that match no change: no longer needed. */
  unused: Acknowledgement[];
};

const key = (path: string | undefined, type: string) => `${type} ${path ?? ""}`;

function parseSchema(sdl: string, which: string) {
  try {
    return buildSchema(sdl);
  } catch (error) {
    throw new Error(`the ${which} schema does not parse: ${(error as Error).message}`);
  }
}

/** Sorts the changes from `baseSdl` to `headSdl`; an acknowledgement matches path and type. */
export async function contractChanges(
  baseSdl: string,
  headSdl: string,
  accepted: readonly Acknowledgement[],
): Promise<ContractReport> {
  const changes = await diff(parseSchema(baseSdl, "base"), parseSchema(headSdl, "new"));
  const acceptedKeys = new Set(accepted.map((a) => key(a.path, a.type)));
  const isBreaking = (c: Change) => c.criticality.level === CriticalityLevel.Breaking;
  const breaking = changes.filter(isBreaking);
  const matched = new Set(breaking.map((c) => key(c.path, c.type)));
  return {
    breaking: breaking.filter((c) => !acceptedKeys.has(key(c.path, c.type))),
    acknowledged: breaking.filter((c) => acceptedKeys.has(key(c.path, c.type))),
    dangerous: changes.filter((c) => c.criticality.level === CriticalityLevel.Dangerous),
    unused: accepted.filter((a) => !matched.has(key(a.path, a.type))),
  };
}

/** One line per change, and for a breaking one the entry that would acknowledge it. */
export function describeChange(change: Change): string {
  return `${change.type} ${change.path ?? "(schema)"}: ${change.message}`;
}

export function acknowledgementFor(change: Change): string {
  return JSON.stringify({ path: change.path ?? "", type: change.type, reason: "…why…" });
}

export type BaseSchema =
  { found: true; sdl: string; base: string; why: string } | { found: false; skip: string };

/** The schema to compare against: schema.graphql at the contract's base (contract-base.ts). */
export function baseSchema(cwd: string): BaseSchema {
  const found = contractBase(cwd);
  if (!found.found) return found;
  const { base, why } = found;
  const sdl = fileAt(cwd, base, SCHEMA_FILE);
  if (sdl === undefined) {
    return { found: false, skip: `${SCHEMA_FILE} does not exist at ${base.slice(0, 7)} (${why})` };
  }
  return { found: true, sdl, base: base.slice(0, 7), why };
}
