import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ACKNOWLEDGED_FILE,
  acknowledgementFor,
  baseSchema,
  contractChanges,
  describeChange,
  parseAcknowledged,
  SCHEMA_FILE,
} from "../../scripts/graphql-contract.ts";

const BASE = `
  type Query { room(name: String!): Room }
  type Room { name: String!, topic: String, memberCount: Int! }
  enum Role { owner member }
`;

describe("the contract check itself, on small schemas", () => {
  it("flags a removed field as breaking", async () => {
    const head = BASE.replace("memberCount: Int!", "");
    const report = await contractChanges(BASE, head, []);
    expect(report.breaking.map((c) => [c.type, c.path])).toEqual([
      ["FIELD_REMOVED", "Room.memberCount"],
    ]);
    expect(acknowledgementFor(report.breaking[0]!)).toBe(
      '{"path":"Room.memberCount","type":"FIELD_REMOVED","reason":"…why…"}',
    );
  });

  it("lets an added field and an added type pass, as no change at all", async () => {
    const head = `${BASE.replace("topic: String", "topic: String, online: Int")} type Ban { at: Int }`;
    const report = await contractChanges(BASE, head, []);
    expect(report).toEqual({ breaking: [], acknowledged: [], dangerous: [], unused: [] });
  });

  it("flags a narrowed type and a required argument as breaking too", async () => {
    const head = BASE.replace("topic: String", "topic: Int").replace(
      "room(name: String!)",
      "room(name: String!, shard: Int!)",
    );
    const report = await contractChanges(BASE, head, []);
    expect(report.breaking.map((c) => `${c.type} ${c.path}`).sort()).toEqual([
      "FIELD_ARGUMENT_ADDED Query.room.shard",
      "FIELD_TYPE_CHANGED Room.topic",
    ]);
  });

  it("passes a breaking change acknowledged with a reason, by path and type", async () => {
    const head = BASE.replace("memberCount: Int!", "");
    const accepted = [
      { path: "Room.memberCount", type: "FIELD_REMOVED", reason: "replaced by members.total" },
      { path: "Room.topic", type: "FIELD_REMOVED", reason: "stale: no such change" },
    ];
    const report = await contractChanges(BASE, head, accepted);
    expect(report.breaking).toEqual([]);
    expect(report.acknowledged.map((c) => c.path)).toEqual(["Room.memberCount"]);
    expect(report.unused).toEqual([accepted[1]]);
    // The same path with another type is another change: not covered.
    const retyped = await contractChanges(
      BASE,
      BASE.replace("memberCount: Int!", "memberCount: Int"),
      [accepted[0]!],
    );
    expect(retyped.breaking.map((c) => c.type)).toEqual(["FIELD_TYPE_CHANGED"]);
  });

  it("reports dangerous changes without failing them", async () => {
    const head = BASE.replace("owner member", "owner member guest").replace(
      "room(name: String!)",
      "room(name: String!, at: Int)",
    );
    const report = await contractChanges(BASE, head, []);
    expect(report.breaking).toEqual([]);
    expect(report.dangerous.map(describeChange).sort()).toEqual([
      "ENUM_VALUE_ADDED Role.guest: Enum value 'guest' was added to enum 'Role'",
      "FIELD_ARGUMENT_ADDED Query.room.at: Argument 'at: Int' added to field 'Query.room'",
    ]);
  });

  it("refuses an acknowledgement file without reasons or with unknown keys, saying why", () => {
    expect(() =>
      parseAcknowledged('{"accepted": [{"path": "A.b", "type": "FIELD_REMOVED"}]}'),
    ).toThrow(/graphql-breaking\.json: .*reason/s);
    expect(() =>
      parseAcknowledged('{"accepted": [{"path": "A.b", "type": "FIELD_REMOVED", "reason": " "}]}'),
    ).toThrow(/needs a reason/);
    expect(() => parseAcknowledged('{"acepted": []}')).toThrow(/graphql-breaking\.json: /);
    expect(() => parseAcknowledged("{")).toThrow(/graphql-breaking\.json is not JSON/);
    expect(parseAcknowledged('{"//": "note", "accepted": []}')).toEqual([]);
  });

  it("names the schema that does not parse", async () => {
    await expect(contractChanges(BASE, "type Query {", [])).rejects.toThrow(
      /^the new schema does not parse: Syntax Error/,
    );
  });
});

describe('schema.graphql against main (docs/graphql.md, "Schema as a contract")', () => {
  const base = baseSchema(process.cwd());
  if (!base.found) {
    console.warn(
      [
        "",
        "************************************************************************",
        `*  GRAPHQL CONTRACT CHECK SKIPPED: ${base.skip}`,
        "*  (it compares schema.graphql with main's; see docs/graphql.md)",
        "************************************************************************",
        "",
      ].join("\n"),
    );
  }

  it.skipIf(!base.found)(
    "has no breaking change that graphql-breaking.json does not acknowledge",
    async () => {
      if (!base.found) return;
      const accepted = parseAcknowledged(readFileSync(ACKNOWLEDGED_FILE, "utf8"));
      const report = await contractChanges(base.sdl, readFileSync(SCHEMA_FILE, "utf8"), accepted);
      const section = (title: string, items: string[]) =>
        items.length ? [`${title}:`, ...items.map((item) => `  ${item}`)] : [];
      console.info(
        [
          `schema.graphql compared with ${base.base} (${base.why})`,
          ...section("dangerous (printed, not failed)", report.dangerous.map(describeChange)),
          ...section("breaking, acknowledged", report.acknowledged.map(describeChange)),
          ...section(
            `unused entries of ${ACKNOWLEDGED_FILE} (remove them)`,
            report.unused.map((a) => `${a.type} ${a.path}`),
          ),
        ].join("\n"),
      );
      const refusal = [
        `breaking changes of schema.graphql since ${base.base}, not in ${ACKNOWLEDGED_FILE}:`,
        ...report.breaking.flatMap((c) => [
          `  ${describeChange(c)}`,
          `    ${acknowledgementFor(c)}`,
        ]),
        "Keep the old fields and arguments (deprecate them), or add each entry above to",
        `${ACKNOWLEDGED_FILE}'s "accepted" with the reason clients may break (docs/graphql.md).`,
      ].join("\n");
      expect(report.breaking.length, refusal).toBe(0);
    },
  );
});

describe("finding the base in git, and skipping clearly without it", () => {
  const root = mkdtempSync(join(tmpdir(), "graphql-contract-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  const commit = (cwd: string, sdl: string, message: string) => {
    writeFileSync(join(cwd, SCHEMA_FILE), sdl);
    git(cwd, "add", SCHEMA_FILE);
    git(cwd, "commit", "-q", "-m", message);
    return git(cwd, "rev-parse", "--short=7", "HEAD");
  };
  const repo = join(root, "repo");
  execFileSync("mkdir", ["-p", repo]);
  git(repo, "init", "-q", "-b", "main");
  const v1 = commit(repo, "type Query { a: Int }", "v1");
  const v2 = commit(repo, "type Query { a: Int, b: Int }", "v2");

  it("on main, compares with HEAD's parent", () => {
    expect(baseSchema(repo)).toEqual({
      found: true,
      sdl: "type Query { a: Int }",
      base: v1,
      why: "HEAD is on main: its parent",
    });
  });

  it("on a branch, compares with its merge-base with main, not main's later commits", () => {
    git(repo, "checkout", "-q", "-b", "feature");
    commit(repo, "type Query { a: Int, b: Int, c: Int }", "feature");
    git(repo, "checkout", "-q", "main");
    commit(repo, "type Query { a: Int, b: Int, d: Int }", "main moves on");
    git(repo, "checkout", "-q", "feature");
    expect(baseSchema(repo)).toMatchObject({
      found: true,
      base: v2,
      why: "the merge-base of HEAD and main",
    });
    git(repo, "checkout", "-q", "main");
  });

  it("skips, saying why, in a shallow clone, without main, without schema.graphql, outside git", () => {
    const shallow = join(root, "shallow");
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${repo}`, shallow]);
    expect(baseSchema(shallow)).toEqual({
      found: false,
      skip: "HEAD is on main and its parent is not here (this clone is shallow: fetch with --unshallow)",
    });

    const trunk = join(root, "trunk");
    execFileSync("mkdir", ["-p", trunk]);
    git(trunk, "init", "-q", "-b", "trunk");
    commit(trunk, "type Query { a: Int }", "one");
    expect(baseSchema(trunk)).toEqual({
      found: false,
      skip: "no main branch here (neither main nor origin/main)",
    });

    const fresh = join(root, "fresh");
    execFileSync("mkdir", ["-p", fresh]);
    git(fresh, "init", "-q", "-b", "main");
    commit(fresh, "type Query { a: Int }", "only commit");
    expect(baseSchema(fresh)).toMatchObject({
      found: false,
      skip: "HEAD is on main and its parent is not here",
    });

    writeFileSync(join(fresh, "README"), "x");
    git(fresh, "add", "README");
    git(fresh, "rm", "-q", SCHEMA_FILE);
    git(fresh, "commit", "-q", "-m", "no schema before");
    writeFileSync(join(fresh, SCHEMA_FILE), "type Query { a: Int }");
    git(fresh, "add", SCHEMA_FILE);
    git(fresh, "commit", "-q", "-m", "schema again");
    expect(baseSchema(fresh)).toMatchObject({
      found: false,
      skip: expect.stringMatching(/^schema\.graphql does not exist at [0-9a-f]{7}/),
    });

    const plain = join(root, "plain");
    execFileSync("mkdir", ["-p", plain]);
    expect(baseSchema(plain)).toMatchObject({
      found: false,
      skip: expect.stringMatching(/^no git history here: fatal: not a git repository/),
    });
  });
});
