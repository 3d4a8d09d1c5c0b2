/**
 * The .proto files as a contract (docs/rpc.md): `buf lint`, `buf breaking` against the
 * contract's base (contract-base.ts), and the generated code (src/rpc/gen/) checked fresh. buf
 * comes from npm (@bufbuild/buf); run by test/unit/proto.test.ts and `npm run proto:check`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { contractBase, fileAt } from "./contract-base.ts";

export const PROTO_DIR = "proto";
export const GENERATED_DIR = "src/rpc/gen";
const BUF = join("node_modules", ".bin", "buf");

export type BufResult = { ok: true; out: string } | { ok: false; out: string };

/** Runs buf in `cwd`: its findings are on stdout, one a line; failure is not an exception. */
export function buf(cwd: string, args: string[]): BufResult {
  try {
    const out = execFileSync(join(cwd, BUF), args, { cwd, encoding: "utf8", stdio: "pipe" });
    return { ok: true, out };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: unknown; stderr?: unknown };
    return { ok: false, out: `${String(stdout ?? "")}${String(stderr ?? "")}`.trim() };
  }
}

export const lint = (cwd: string) => buf(cwd, ["lint"]);

/** `buf breaking` against the base, or why it is skipped (no base, or no buf.yaml there yet). */
export function breaking(cwd: string): BufResult | { skip: string } {
  const found = contractBase(cwd);
  if (!found.found) return { skip: found.skip };
  if (fileAt(cwd, found.base, "buf.yaml") === undefined)
    return { skip: `buf.yaml does not exist at ${found.base.slice(0, 7)} (${found.why})` };
  return buf(cwd, ["breaking", "--against", `.git#ref=${found.base},depth=10000`]);
}

/** Files of the generated code that differ from what `buf generate` writes now. */
export function staleGenerated(cwd: string): string[] {
  const out = mkdtempSync(join(tmpdir(), "proto-gen-"));
  try {
    const generated = buf(cwd, ["generate", "--output", out]);
    if (!generated.ok) return [`buf generate failed: ${generated.out}`];
    const fresh = filesUnder(join(out, GENERATED_DIR));
    const committed = filesUnder(join(cwd, GENERATED_DIR));
    const names = [...new Set([...fresh.keys(), ...committed.keys()])].sort();
    return names.filter((name) => fresh.get(name) !== committed.get(name));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function filesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  try {
    walk(dir);
  } catch {
    // A missing folder is an empty one: every file of the other side then differs.
  }
  return files;
}
