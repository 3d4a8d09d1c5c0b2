/**
 * `node bench/plugins/calls.ts`: what one hook call costs under `wrangler dev` (workerd and its
 * Worker Loader), as the runner measures it (`ms` of the outcome, inside the worker) through
 * `POST /api/admin/plugins/{id}/try`: the first call of a plugin in a room (its sandbox loaded for
 * that room, its store's object started) and the calls after it, for a plugin that only answers
 * and one that reads and writes its store. ROOMS rooms, WARM calls each after the first; medians
 * and 95th percentiles. The worker as test/support/server.ts starts it (fresh storage, removed at
 * the end). Markdown on stdout.
 */
import { EdgechatApi, type PluginOutcome } from "../../src/client/index.ts";
import { startServer } from "../../test/support/server.ts";

const ROOMS = 20;
const WARM = 10;

const plugin = (id: string, body: string) => `export default {
  id: ${JSON.stringify(id)},
  version: "1.0.0",
  async beforeCommit(draft, ctx) { ${body} },
};`;

const PLUGINS = {
  "answers only": `return draft.text.includes("darn") ? { rewrite: draft.text.split("darn").join("****") } : { allow: true };`,
  "store get + put": `const n = ((await ctx.store.get("posts")) ?? 0) + 1; await ctx.store.put("posts", n); return { allow: true };`,
};

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const server = await startServer({ vars: { ADMIN_USERNAMES: "root" } });
try {
  const session = await new EdgechatApi(server.url).register("root", "correct horse battery");
  const root = new EdgechatApi(server.url, session.token);
  const rows: string[] = [];
  for (const [name, body] of Object.entries(PLUGINS)) {
    const id = `bench-${rows.length + 1}`;
    await root.admin.plugins.install(id, { code: plugin(id, body) });
    const first: number[] = [];
    const warm: number[] = [];
    for (let r = 0; r < ROOMS; r++) {
      const room = `bench-room-${r}`;
      for (let i = 0; i <= WARM; i++) {
        const outcome: PluginOutcome = await root.admin.plugins.try(id, {
          hook: "beforeCommit",
          room,
          text: "oh darn",
        });
        if (outcome.outcome !== "ok") throw new Error(`${name}: ${JSON.stringify(outcome)}`);
        (i === 0 ? first : warm).push(outcome.ms);
      }
    }
    const cell = (values: number[]) => `${quantile(values, 0.5)} / ${quantile(values, 0.95)}`;
    rows.push(`| ${name} | ${cell(first)} | ${cell(warm)} |`);
  }
  console.log(`${ROOMS} rooms, ${WARM} warm calls each; ms, median / p95\n`);
  console.log("| plugin | first call in a room | later calls |\n| --- | ---: | ---: |");
  console.log(rows.join("\n"));
} finally {
  await server.dispose();
}
