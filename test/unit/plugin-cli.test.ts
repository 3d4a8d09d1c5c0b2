import { build } from "esbuild";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundlePlugin, definitionOf } from "../../scripts/plugin-bundle.ts";

const EXAMPLES = (await readdir("plugins", { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** The imports a module holds, read by esbuild from its text alone, every import kept external. */
async function importsIn(code: string): Promise<string[]> {
  const result = await build({
    stdin: { contents: code, loader: "js" },
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "neutral",
    external: ["*"],
    logLevel: "silent",
  });
  return Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
}

describe("bundling the example plugins", () => {
  it("finds the three examples", () => {
    expect(EXAMPLES.sort()).toEqual(["link-unfurler", "poll", "profanity-filter"]);
  });

  it.each(EXAMPLES)(
    "%s: one ES module, no imports left, its definition with its id",
    async (name) => {
      const { code, manifest } = await bundlePlugin(`plugins/${name}`);
      expect(await importsIn(code)).toEqual([]);
      // Neither a dynamic import nor import.meta, which the sandbox refuses.
      expect(code).not.toMatch(/\bimport\s*(?:\(|\.\s*meta\b)/u);
      expect(code).toMatch(/^export \{[^}]*\bas default\b[^}]*\};\s*$/mu);
      const definition = await definitionOf(code);
      expect(definition.id).toBe(name);
      expect(manifest).toMatchObject({ id: name, version: "1.0.0" });
    },
  );

  it.each(EXAMPLES)("%s: bundles the plugin API and its own files, nothing else", async (name) => {
    const { inputs } = await bundlePlugin(`plugins/${name}`);
    expect(inputs).toContain(`plugins/${name}/index.ts`);
    const others = inputs.filter(
      (input) => !input.startsWith(`plugins/${name}/`) && input !== "src/plugins/api.ts",
    );
    expect(others).toEqual([]);
  });

  it("describes each example's hooks, commands and hosts as the registry will", async () => {
    const manifests = await Promise.all(
      EXAMPLES.map(async (name) => (await bundlePlugin(`plugins/${name}`)).manifest),
    );
    const summary = Object.fromEntries(
      manifests.map((m) => [
        m.id,
        { hooks: m.hooks, commands: m.commands.map((c) => c.name), hosts: m.hosts },
      ]),
    );
    expect(summary).toEqual({
      "link-unfurler": {
        hooks: { beforeCommit: false, afterEvent: true },
        commands: [],
        hosts: ["github.com", "en.wikipedia.org", "developer.mozilla.org"],
      },
      poll: { hooks: { beforeCommit: false, afterEvent: true }, commands: ["poll"], hosts: [] },
      "profanity-filter": {
        hooks: { beforeCommit: true, afterEvent: false },
        commands: ["profanity"],
        hosts: [],
      },
    });
  });
});

describe("a plugin that cannot be bundled", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "plugin-cli-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function folder(name: string, source: string): Promise<string> {
    const path = join(dir, name);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, "index.ts"), source);
    return path;
  }

  it("is refused when it imports what a Dynamic Worker does not have", async () => {
    const path = await folder(
      "uses-node",
      'import { readFileSync } from "node:fs";\nexport default { id: "x", readFileSync };',
    );
    await expect(bundlePlugin(path)).rejects.toThrow(/Could not resolve "node:fs"/u);
  });

  it("is refused when its definition breaks the contract, with each problem named", async () => {
    const path = await folder(
      "bad-id",
      'export default { id: "Bad_Id", version: "1", commands: { "No Spaces": { usage: "", description: "", run() {} } } };',
    );
    const error = await bundlePlugin(path).catch((e: Error) => e);
    expect(String(error)).toContain("id: a plugin id is 2-40 of a-z, 0-9 and -");
    expect(String(error)).toContain("version: a version is MAJOR.MINOR.PATCH");
    expect(String(error)).toContain("commands.0.name: a command is 1-32 of a-z");
  });

  it("is refused without a default export", async () => {
    const path = await folder("no-default", "export const plugin = {};");
    await expect(bundlePlugin(path)).rejects.toThrow("the bundle has no default export");
  });
});

const run = promisify(execFile);
/** The CLI as npm runs it, in its own Node process; never throws, returns how it ended. */
async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["scripts/plugin.mjs", ...args], {
      env: { ...process.env, EDGECHAT_TOKEN: "" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npm run plugin:install", () => {
  /** A stand-in for the install route on 127.0.0.1: it answers as the contract says. */
  const received: { method: string; url: string; auth: string; body: unknown }[] = [];
  let url: string;
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    received.push({
      method: request.method!,
      url: request.url!,
      auth: request.headers.authorization ?? "",
      body: JSON.parse(body),
    });
    if (request.headers.authorization !== "Bearer admin-token") {
      response.writeHead(403, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { code: "forbidden", message: "admins only" } }));
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ plugin: { id: "poll", version: "1.0.0" } }));
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("PUTs the bundle and the granted hosts, and prints the answer", async () => {
    received.length = 0;
    const result = await cli(
      "install",
      "plugins/link-unfurler",
      "--url",
      url,
      "--token",
      "admin-token",
      "--host",
      "github.com",
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("installed link-unfurler@1.0.0");
    expect(result.stdout).toContain('"version": "1.0.0"');
    expect(result.stderr).toContain(
      "asks for en.wikipedia.org, developer.mozilla.org, not granted",
    );
    expect(received).toHaveLength(1);
    const [put] = received;
    expect(put).toMatchObject({
      method: "PUT",
      url: "/api/admin/plugins/link-unfurler",
      auth: "Bearer admin-token",
    });
    const body = put!.body as { code: string; hosts: string[] };
    expect(body.hosts).toEqual(["github.com"]);
    expect((await definitionOf(body.code)).id).toBe("link-unfurler");
  });

  it("exits non-zero with the server's error", async () => {
    const result = await cli("install", "plugins/poll", "--url", url, "--token", "member-token");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "plugin: /api/admin/plugins/poll answered 403 forbidden: admins only\n",
    );
  });

  it("exits non-zero when the server is down, the token missing, or the usage wrong", async () => {
    const down = await cli(
      "install",
      "plugins/poll",
      "--url",
      "http://127.0.0.1:1",
      "--token",
      "t",
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("plugin: cannot reach http://127.0.0.1:1");
    const tokenless = await cli("install", "plugins/poll", "--url", url);
    expect(tokenless).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("an admin access token is needed"),
    });
    const wrong = await cli("deploy", "plugins/poll");
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringContaining("usage:") });
  });

  it("bundles to stdout", async () => {
    const result = await cli("bundle", "plugins/poll", "--stdout");
    expect(result.code).toBe(0);
    expect((await definitionOf(result.stdout)).id).toBe("poll");
  });
});
