import { readdirSync, readFileSync } from "node:fs";
import { cruise, type ICruiseResult, type IForbiddenRuleType } from "dependency-cruiser";
import { describe, expect, it } from "vitest";

/**
 * The import boundaries of src/, read from the "Where things live" table of
 * docs/architecture.md, so that the document and the rules cannot drift: each row names a
 * folder (or a root file) and what it may import.
 */
type Unit = { path: string; mayImport: string[] };

function unitsFromArchitectureDoc(): Unit[] {
  const doc = readFileSync("docs/architecture.md", "utf8");
  const section = doc.split("## Where things live")[1]?.split("\n## ")[0] ?? "";
  const rows = section.split("\n").filter((line) => /^\| `src\//.test(line));
  return rows.map((row) => {
    const [path, , mayImport] = row
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    return { path: code(path!)[0]!, mayImport: code(mayImport!) };
  });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A path pattern for a folder (`src/room/`) or a root file (`src/config.ts`). */
const pattern = (path: string) => (path.endsWith("/") ? `^${escape(path)}` : `^${escape(path)}$`);

/** One rule per unit: from it, nothing in src/ but itself and what its row allows. */
function rulesOf(units: readonly Unit[]): IForbiddenRuleType[] {
  return units.map((unit) => ({
    name: `${unit.path} may import only ${unit.mayImport.join(", ") || "packages"}`,
    severity: "error",
    from: { path: pattern(unit.path) },
    to: {
      path: "^src/",
      pathNot: [unit.path, ...unit.mayImport].map(pattern),
    },
  }));
}

const units = unitsFromArchitectureDoc();

describe("import boundaries (docs/architecture.md)", () => {
  it("lists every folder and root file of src/", () => {
    const entries = readdirSync("src", { withFileTypes: true })
      .filter((entry) => entry.isDirectory() || entry.name.endsWith(".ts"))
      .map((entry) => (entry.isDirectory() ? `src/${entry.name}/` : `src/${entry.name}`));
    expect(units.map((unit) => unit.path).sort()).toEqual(entries.sort());
    for (const unit of units)
      for (const allowed of unit.mayImport) expect(entries, `${unit.path} row`).toContain(allowed);
  });

  it("holds for every import in src/, type-only imports included", async () => {
    const { output } = await cruise(["src"], {
      validate: true,
      parser: "swc",
      tsPreCompilationDeps: true,
      exclude: { path: "node_modules" },
      doNotFollow: { path: "node_modules" },
      ruleSet: {
        forbidden: [
          ...rulesOf(units),
          {
            name: "no import cycles",
            severity: "error",
            from: { path: "^src/" },
            to: { circular: true },
          },
          {
            name: "every relative import resolves",
            severity: "error",
            from: { path: "^src/" },
            to: { couldNotResolve: true, path: "^[.]{1,2}/" },
          },
        ],
      },
    });
    const result = output as ICruiseResult;
    // Enough files were read to make the check mean something.
    expect(result.summary.totalCruised).toBeGreaterThan(80);
    const broken = result.summary.violations.map((v) => `${v.from} → ${v.to}: ${v.rule.name}`);
    expect(broken).toEqual([]);
  });
});
