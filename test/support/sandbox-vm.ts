import { parse } from "acorn";
import vm from "node:vm";
import { installAllocationMeter } from "../../src/plugins/sandbox/allocation.ts";
import { BUDGETS, Meter, type Budgets } from "../../src/plugins/sandbox/meter.ts";
import { FUEL_NAME, RUNTIME_MODULE } from "../../src/plugins/sandbox/names.ts";

/**
 * A plugin's sandbox in Node, for the unit tests: a fresh realm (a `vm` context) with the meter,
 * the allocation meter on its own built-ins and the fuel guard as a global, which is what the
 * Dynamic Worker's runtime module gives the plugin's code. Modules are run as scripts: the
 * runtime import that instrument.ts adds is taken off and `export default` becomes the result.
 */
export function sandboxRealm(budgets: Partial<Budgets> = {}, now: () => number = () => 0) {
  const meter = new Meter({ ...BUDGETS, ...budgets }, now);
  const context = vm.createContext({});
  const global = vm.runInContext("globalThis", context) as typeof globalThis;
  meter.open("setup", Infinity);
  installAllocationMeter(global, meter);
  meter.close();
  (global as unknown as Record<string, unknown>)[FUEL_NAME] = () => meter.tick();
  return {
    meter,
    global,
    /** Runs an ES module (one `export default`, nothing else exported) and returns its default. */
    run(source: string): unknown {
      return vm.runInContext(asScript(source), context);
    },
  };
}

const RUNTIME_IMPORT = `import{${FUEL_NAME}}from"./${RUNTIME_MODULE}";`;

function asScript(source: string): string {
  const body = source.startsWith(RUNTIME_IMPORT) ? source.slice(RUNTIME_IMPORT.length) : source;
  const program = parse(body, { ecmaVersion: "latest", sourceType: "module" });
  const exported = program.body.find((node) => node.type === "ExportDefaultDeclaration");
  const script = exported
    ? `${body.slice(0, exported.start)}return ${body.slice(exported.declaration.start)}`
    : body;
  return `"use strict"; (() => { ${script}\n})()`;
}
