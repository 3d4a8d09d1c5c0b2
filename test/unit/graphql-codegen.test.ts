import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { generate } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import config from "../../codegen.ts";

const GENERATED = "src/client/graphql/generated";

/**
 * The SDK's generated GraphQL files are source for clients and are committed: they must be what
 * `npm run graphql:codegen` writes from schema.graphql and src/client/graphql/operations.graphql
 * now, or a client would be typed against a schema or operations that are gone.
 */
describe("the SDK's typed GraphQL operations (npm run graphql:codegen)", () => {
  it("are what the codegen writes now, file for file", async () => {
    // generate() is typed `any` (for its watch mode); without watching it returns the files.
    const outputs: { filename: string; content: string }[] = await generate(
      { ...config, cwd: process.cwd(), silent: true },
      false,
    );
    const expected = new Map(
      outputs.map((output) => [relative(process.cwd(), output.filename), output.content]),
    );
    const committed = readdirSync(GENERATED).map((name) => join(GENERATED, name));
    expect(committed.sort()).toEqual([...expected.keys()].sort());
    for (const [path, content] of expected)
      expect(readFileSync(path, "utf8"), `${path} is stale: npm run graphql:codegen`).toBe(content);
  });

  it("the manifest names each document by the sha256 hash the typed document carries", async () => {
    const manifest = JSON.parse(readFileSync(join(GENERATED, "persisted-documents.json"), "utf8"));
    const { YourRoomsDocument } = await import("../../src/client/index.ts");
    const hash = YourRoomsDocument.__meta__?.hash as string;
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(manifest[hash]).toMatch(/^query YourRooms\(/);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(manifest[hash]));
    expect(`sha256:${Buffer.from(digest).toString("hex")}`).toBe(hash);
  });
});
