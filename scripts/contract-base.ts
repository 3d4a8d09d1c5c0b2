/**
 * The base a committed contract (schema.graphql, the .proto files) is compared with for breaking
 * changes, found with git in `cwd`:
 * - on a branch: the merge-base of HEAD and main (what the branch changed, not what main did
 *   since it forked);
 * - on main itself (or on a commit main already contains, as in CI's clone of main): HEAD's
 *   first parent, so the check still covers the last commit, or the whole branch a merge
 *   commit brought in.
 * `main` is the local branch, else `origin/main`. Without git, without main, or without the
 * history needed (a shallow clone), the check is skipped with the reason, never crashed.
 */
import { execFileSync } from "node:child_process";

export type ContractBase =
  { found: true; base: string; why: string } | { found: false; skip: string };

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

export function contractBase(cwd: string): ContractBase {
  const headResult = run(cwd, ["rev-parse", "--verify", "HEAD^{commit}"]);
  if (!headResult.ok) return { found: false, skip: `no git history here: ${headResult.error}` };
  const head = headResult.out.trim();
  const shallow = git(cwd, ["rev-parse", "--is-shallow-repository"])?.trim() === "true";
  const history = shallow ? " (this clone is shallow: fetch with --unshallow)" : "";
  const mainRef = ["main", "origin/main"].find((ref) => commitOf(cwd, ref));
  if (!mainRef) return { found: false, skip: "no main branch here (neither main nor origin/main)" };
  const fork = git(cwd, ["merge-base", "HEAD", mainRef])?.trim();
  if (!fork) return { found: false, skip: `HEAD and ${mainRef} share no history here${history}` };
  if (fork !== head)
    return { found: true, base: fork, why: `the merge-base of HEAD and ${mainRef}` };
  const parent = commitOf(cwd, "HEAD^");
  if (!parent)
    return { found: false, skip: `HEAD is on ${mainRef} and its parent is not here${history}` };
  return { found: true, base: parent, why: `HEAD is on ${mainRef}: its parent` };
}

/** A file's text at commit `base`, undefined when it did not exist there. */
export const fileAt = (cwd: string, base: string, path: string) =>
  git(cwd, ["show", `${base}:./${path}`]);
