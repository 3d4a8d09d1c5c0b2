/**
 * schema.graphql as a contract (docs/graphql.md, "Schema as a contract"): the changes between a
 * base version of the schema and this one, sorted by @graphql-inspector/core into breaking,
 * dangerous and safe. A breaking change passes only when graphql-breaking.json acknowledges it
 * with a reason, so that breaking clients is a decision someone wrote down and a reviewer read.
 * Run by test/unit/graphql-contract.test.ts, in Node only (never in the worker).
 */
import { execFileSync } from "node:child_process";
import { type Change, CriticalityLevel, diff } from "@graphql-inspector/core";
import { buildSchema } from "graphql";
import { z } from "zod";

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

type GitResult = { ok: true; out: string } | { ok: false; error: string };

function run(cwd: string, args: string[]): GitResult {
  try {
    const out = execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { ok: true, out };
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    return { ok: false, error: stderr.split("\n")[0] || (error as Error).message };
  }
}

const git = (cwd: string, args: string[]) => {
  const result = run(cwd, args);
  return result.ok ? result.out : undefined;
};

const commitOf = (cwd: string, ref: string) =>
  git(cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])?.trim();

/**
 * The schema to compare against, read from git in `cwd`:
 * - on a branch: the merge-base of HEAD and main (what the branch changed, not what main did
 *   since it forked);
 * - on main itself (or on a commit main already contains, as in CI's clone of main): HEAD's
 *   first parent, so the check still covers the last commit, or the whole branch a merge
 *   commit brought in.
 * `main` is the local branch, else `origin/main`. Without git, without main, or without the
 * history needed (a shallow clone), the check is skipped with the reason, never crashed.
 */
export function baseSchema(cwd: string): BaseSchema {
  const headResult = run(cwd, ["rev-parse", "--verify", "HEAD^{commit}"]);
  if (!headResult.ok) return { found: false, skip: `no git history here: ${headResult.error}` };
  const head = headResult.out.trim();
  const shallow = git(cwd, ["rev-parse", "--is-shallow-repository"])?.trim() === "true";
  const history = shallow ? " (this clone is shallow: fetch with --unshallow)" : "";
  const mainRef = ["main", "origin/main"].find((ref) => commitOf(cwd, ref));
  if (!mainRef) return { found: false, skip: "no main branch here (neither main nor origin/main)" };
  const fork = git(cwd, ["merge-base", "HEAD", mainRef])?.trim();
  if (!fork) return { found: false, skip: `HEAD and ${mainRef} share no history here${history}` };
  let base = fork;
  let why = `the merge-base of HEAD and ${mainRef}`;
  if (fork === head) {
    const parent = commitOf(cwd, "HEAD^");
    if (!parent) {
      return { found: false, skip: `HEAD is on ${mainRef} and its parent is not here${history}` };
    }
    base = parent;
    why = `HEAD is on ${mainRef}: its parent`;
  }
  const sdl = git(cwd, ["show", `${base}:./${SCHEMA_FILE}`]);
  if (sdl === undefined) {
    return { found: false, skip: `${SCHEMA_FILE} does not exist at ${base.slice(0, 7)} (${why})` };
  }
  return { found: true, sdl, base: base.slice(0, 7), why };
}
