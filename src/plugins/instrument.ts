import { parse, type Node, type Position, type Token } from "acorn";
import { full } from "acorn-walk";
import MagicString from "magic-string";
import { FUEL_NAME, RESERVED_PREFIX, RUNTIME_MODULE } from "./sandbox/names.ts";

/**
 * The metering of a plugin's code at install (docs/plugins.md, "Isolation"): a call to the
 * sandbox's fuel guard at the top of every loop body and every function body, so that a loop or
 * a recursion that never ends throws `PluginLimit` inside the plugin's own isolate once the hook
 * call's fuel is spent. Locally nothing else could stop it: workerd enforces no CPU limit under
 * `wrangler dev`, and one isolate spinning holds the whole process (every room) with it.
 *
 * The plugin is one ES module with nothing imported: the guard reaches it through the one import
 * added here, under a reserved name the plugin may not mention, so that it can neither shadow the
 * guard nor call it itself.
 */

export type Instrumented =
  { ok: true; code: string; loops: number; functions: number } | { ok: false; problem: string };

type Located = Node & { loc?: { start: Position } | null };
type WithBody = Node & { body: Node };
type FunctionNode = Node & { body: Node; expression?: boolean };

const LOOPS = new Set([
  "ForStatement",
  "ForInStatement",
  "ForOfStatement",
  "WhileStatement",
  "DoWhileStatement",
]);
const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

const CALL = `${FUEL_NAME}();`;
/** On the plugin's first line, so that the line numbers of its errors stay its own. */
const IMPORT = `import{${FUEL_NAME}}from"./${RUNTIME_MODULE}";`;

export function instrument(source: string): Instrumented {
  let program: Node;
  const tokens: Token[] = [];
  try {
    program = parse(source, {
      ecmaVersion: "latest",
      sourceType: "module",
      locations: true,
      onToken: tokens,
    });
  } catch (error) {
    return refuse(`the code does not parse as an ES module: ${(error as Error).message}`);
  }
  const problem =
    reservedNameIn(source, tokens) ?? firstForbidden(program) ?? missingDefault(program);
  if (problem) return refuse(problem);

  const out = new MagicString(source);
  let loops = 0;
  let functions = 0;
  // Post-order (children first): where an inner and an outer insertion meet at one index, the
  // inner closer is appended first and the outer opener prepended last, so they nest.
  full(program, (node) => {
    if (LOOPS.has(node.type)) {
      guardStatement(out, (node as WithBody).body);
      loops++;
    } else if (FUNCTIONS.has(node.type)) {
      guardFunction(out, node as FunctionNode);
      functions++;
    }
  });
  out.prepend(IMPORT);
  return { ok: true, code: out.toString(), loops, functions };
}

function refuse(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}

/** The fuel call first in a loop's body: a block gets it inside, a lone statement a block. */
function guardStatement(out: MagicString, body: Node): void {
  if (body.type === "BlockStatement") {
    out.appendLeft(body.start + 1, CALL);
    return;
  }
  out.prependRight(body.start, `{${CALL}`);
  out.appendLeft(body.end, "}");
}

/** The fuel call first in a function: in its block, or before an arrow's expression body. */
function guardFunction(out: MagicString, fn: FunctionNode): void {
  if (fn.body.type === "BlockStatement") {
    out.appendLeft(fn.body.start + 1, CALL);
    return;
  }
  // `x => (fuel(), body)`: a sequence keeps the body's value; the parentheses keep an object
  // literal body an expression.
  out.prependRight(fn.body.start, `(${FUEL_NAME}(),`);
  out.appendLeft(fn.body.end, ")");
}

/** What a plugin may not do, with where it does it: the first found, or undefined. */
function firstForbidden(program: Node): string | undefined {
  let found: string | undefined;
  full(program, (node) => {
    if (found) return;
    const why = forbidden(node);
    if (why) found = `${why} (line ${lineOf(node)})`;
  });
  return found;
}

function forbidden(node: Node): string | undefined {
  switch (node.type) {
    case "ImportDeclaration":
      return "a plugin may not import anything: bundle it into one module";
    case "ImportExpression":
      return "a plugin may not load code with import()";
    case "ExportAllDeclaration":
      return "a plugin may not re-export another module";
    case "ExportNamedDeclaration":
      return (node as Node & { source?: unknown }).source
        ? "a plugin may not re-export another module"
        : undefined;
    case "MetaProperty": {
      const meta = node as Node & { meta: { name: string } };
      return meta.meta.name === "import" ? "a plugin may not use import.meta" : undefined;
    }
    case "WithStatement":
      return "a plugin may not use with";
    default:
      return undefined;
  }
}

/** The sandbox imports the plugin's default export: a module without one would not load. */
function missingDefault(program: Node): string | undefined {
  const body = (program as Node & { body: Node[] }).body;
  const exportsDefault = body.some(
    (node) =>
      node.type === "ExportDefaultDeclaration" ||
      (node.type === "ExportNamedDeclaration" &&
        (
          node as Node & { specifiers: { exported: { name?: string; value?: unknown } }[] }
        ).specifiers.some(
          (specifier) => (specifier.exported.name ?? specifier.exported.value) === "default",
        )),
  );
  return exportsDefault
    ? undefined
    : "the module has no default export: export default definePlugin({ ... })";
}

/**
 * The reserved prefix anywhere in the text (names, strings, comments), or in a name spelled with
 * escapes (`\u005f…`), which the text does not show but the tokens' values do.
 */
function reservedNameIn(source: string, tokens: readonly Token[]): string | undefined {
  // acorn's tokens carry their decoded value, which its types leave out.
  const escaped = tokens.find((token) => {
    const value = (token as Token & { value?: unknown }).value;
    return typeof value === "string" && value.includes(RESERVED_PREFIX);
  });
  if (!source.includes(RESERVED_PREFIX) && !escaped) return undefined;
  return `the code mentions ${RESERVED_PREFIX}…, a name reserved for the sandbox`;
}

const lineOf = (node: Located) => node.loc?.start.line ?? "?";
