import { describe, expect, it } from "vitest";
import { breaking, lint, staleGenerated } from "../../scripts/proto-contract.ts";

const root = process.cwd();

describe("the .proto files as a contract (docs/rpc.md)", () => {
  it("pass buf lint (STANDARD)", () => {
    const result = lint(root);
    expect(result.out).toBe("");
    expect(result.ok).toBe(true);
  });

  it("break nothing against main (buf breaking, FILE rules)", () => {
    const result = breaking(root);
    if ("skip" in result) {
      console.warn(`buf breaking skipped: ${result.skip}`);
      return;
    }
    expect(result.out).toBe("");
    expect(result.ok).toBe(true);
  });

  it("are what src/rpc/gen/ was generated from (npm run proto:generate)", () => {
    expect(staleGenerated(root)).toEqual([]);
  }, 30_000);
});
