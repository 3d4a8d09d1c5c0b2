import type { Meter } from "./meter.ts";

/**
 * The allocation meter (docs/plugins.md, "Isolation"): the built-ins a runaway plugin allocates
 * through are wrapped, in the plugin's own isolate, to charge the meter before they allocate, so
 * that a plugin that allocates without end gets a `PluginLimit` error long before V8's heap limit
 * (which, under `wrangler dev`, kills the whole workerd process and every room with it).
 *
 * Covered: `ArrayBuffer` (and `resize`, `transfer`), `SharedArrayBuffer` (and `grow`), every typed
 * array, `Array(n)` and what builds arrays through it (`Array.from`, `Array.of`, `map`, `slice`),
 * `push`, `unshift`, `splice`, `fill`, `concat`, `String.prototype.repeat`, `padStart`, `padEnd`,
 * new keys of `Map` and `Set`. Not covered: literals, indexed stores (`a[i] = x`), string
 * concatenation, `JSON.parse`, `structuredClone`, `TextEncoder`, bodies read from responses. The
 * fuel bounds how many times a loop can do any of those.
 *
 * Objects are charged where they are made and credited back when the garbage collector takes
 * them (a FinalizationRegistry), so the per-isolate figure is what the plugin still holds;
 * strings cannot be tracked that way and stay charged for the isolate's life.
 *
 * Written against a given global object (a Node `vm` context in the unit tests, the isolate's
 * own `globalThis` in the sandbox), with that realm's own built-ins.
 */

/** What one array slot costs (a pointer or a double), one string character (two-byte), one Map or Set entry. */
export const ELEMENT_BYTES = 8;
export const CHAR_BYTES = 2;
export const ENTRY_BYTES = 32;

const TYPED_ARRAYS = [
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;

type Fn = (...args: unknown[]) => unknown;
type Ctor = Fn & { prototype: object; BYTES_PER_ELEMENT?: number };
type Holder = { bytes: number };

/** A non-negative whole count from whatever a plugin passed as a length (NaN and junk: 0). */
function count(value: unknown): number {
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) && n > 0 ? n : n === Infinity ? Infinity : 0;
}

export function installAllocationMeter(g: typeof globalThis, meter: Meter): void {
  const R = g.Reflect;
  // The realm's own methods, taken before any plugin code runs: a plugin that patches WeakMap or
  // FinalizationRegistry changes nothing here.
  const holders = new g.WeakMap<object, Holder>();
  const holderOf = g.WeakMap.prototype.get;
  const setHolder = g.WeakMap.prototype.set;
  const registry =
    typeof g.FinalizationRegistry === "function"
      ? new g.FinalizationRegistry<Holder>((holder) => meter.credit(holder.bytes))
      : undefined;
  const register = g.FinalizationRegistry?.prototype.register;
  const isArray = g.Array.isArray;
  const iterator = g.Symbol.iterator;

  /** Records that `owner` holds `bytes` more, credited back when it is collected. */
  function hold(owner: unknown, bytes: number): void {
    if (!(bytes > 0) || owner === null || typeof owner !== "object") return;
    let holder = R.apply(holderOf, holders, [owner]) as Holder | undefined;
    if (!holder) {
      holder = { bytes: 0 };
      R.apply(setHolder, holders, [owner, holder]);
      if (registry && register) R.apply(register, registry, [owner, holder]);
    }
    holder.bytes += bytes;
  }
  /** Bytes already charged to an object (an array made by `Array(n)`, before its `fill`). */
  const heldBy = (owner: object) =>
    (R.apply(holderOf, holders, [owner]) as Holder | undefined)?.bytes ?? 0;

  /**
   * Replaces a constructor by a proxy that charges before it constructs: `before` reads the cost
   * from the arguments, or says it cannot (an iterable), and then `after` reads it from the result.
   */
  function meterConstructor(
    name: string,
    before: (args: unknown[]) => number | undefined,
    after: (made: object) => number,
  ): void {
    const original = (g as unknown as Record<string, Ctor | undefined>)[name];
    if (typeof original !== "function") return;
    const construct = (args: unknown[], newTarget: Ctor) => {
      const known = before(args);
      meter.charge(known ?? 0);
      const made = R.construct(original, args, newTarget) as object;
      const bytes = known ?? after(made);
      if (known === undefined) meter.charge(bytes);
      hold(made, bytes);
      return made;
    };
    const proxy: Ctor = new g.Proxy(original, {
      construct: (_target, args, newTarget) =>
        construct(args, newTarget === proxy ? original : (newTarget as Ctor)),
      // `Array(3)` without `new` constructs too; the others throw as they would.
      apply: (_target, self, args) =>
        name === "Array" ? construct(args, original) : R.apply(original, self, args),
    });
    replace(g, name, proxy);
    // `[].constructor`, `new Uint8Array(1).buffer.constructor`: no way back to the original, and
    // the built-ins that construct through `constructor` (map, slice, subarray) are charged.
    replace(original.prototype, "constructor", proxy);
  }

  /** Wraps a method to charge `bytes(self, args)` before it runs, held by `self`, its result, or none. */
  function meterMethod(
    proto: object | undefined,
    name: string,
    bytes: (self: unknown, args: unknown[]) => number,
    holder: "self" | "result" | "none" = "self",
  ): void {
    if (!proto) return;
    const original = (proto as Record<string, Fn | undefined>)[name];
    if (typeof original !== "function") return;
    const wrapped = {
      [name](this: unknown, ...args: unknown[]) {
        const cost = bytes(this, args);
        meter.charge(cost);
        if (holder === "self") hold(this, cost);
        const result = R.apply(original, this, args);
        if (holder === "result") hold(result, cost);
        return result;
      },
    }[name];
    replace(proto, name, wrapped);
  }

  const lengthOf = (value: unknown) =>
    count((value as { length?: unknown } | null | undefined)?.length);

  // ---- buffers and typed arrays

  const byteLength = (buffer: object) => count((buffer as { byteLength?: unknown }).byteLength);
  const isBuffer = (value: unknown) =>
    (typeof g.ArrayBuffer === "function" && value instanceof g.ArrayBuffer) ||
    (typeof g.SharedArrayBuffer === "function" && value instanceof g.SharedArrayBuffer);

  for (const name of ["ArrayBuffer", "SharedArrayBuffer"]) {
    meterConstructor(name, (args) => count(args[0]), byteLength);
  }
  meterMethod(g.ArrayBuffer?.prototype, "resize", (self, args) =>
    Math.max(0, count(args[0]) - byteLength(self as object)),
  );
  meterMethod(g.SharedArrayBuffer?.prototype, "grow", (self, args) =>
    Math.max(0, count(args[0]) - byteLength(self as object)),
  );
  for (const name of ["transfer", "transferToFixedLength"]) {
    meterMethod(
      g.ArrayBuffer?.prototype,
      name,
      (self, args) => (args[0] === undefined ? byteLength(self as object) : count(args[0])),
      "result",
    );
  }

  for (const name of TYPED_ARRAYS) {
    const width = (g as unknown as Record<string, Ctor | undefined>)[name]?.BYTES_PER_ELEMENT ?? 8;
    meterConstructor(
      name,
      ([source]) => {
        if (source === null || typeof source !== "object") return count(source) * width;
        if (isBuffer(source)) return 0; // a view on memory already charged
        const length = (source as { length?: unknown }).length;
        return typeof length === "number" ? count(length) * width : undefined;
      },
      byteLength,
    );
  }

  // ---- arrays

  meterConstructor(
    "Array",
    (args) =>
      args.length === 1 && typeof args[0] === "number"
        ? count(args[0]) * ELEMENT_BYTES
        : args.length * ELEMENT_BYTES,
    (made) => lengthOf(made) * ELEMENT_BYTES,
  );
  // Array-likes go through the constructor with their length (charged there); an iterable's
  // elements are only known once it has been read.
  const from = g.Array.from;
  replace(g.Array, "from", function (this: unknown, ...args: unknown[]) {
    const made = R.apply(from, this, args);
    const source = args[0] as Record<symbol, unknown> | null | undefined;
    if (source != null && typeof source[iterator] === "function") {
      const bytes = lengthOf(made) * ELEMENT_BYTES;
      meter.charge(bytes);
      hold(made, bytes);
    }
    return made;
  });
  const ArrayProto = g.Array.prototype;
  const perArgument = (_self: unknown, args: unknown[]) => args.length * ELEMENT_BYTES;
  meterMethod(ArrayProto, "push", perArgument);
  meterMethod(ArrayProto, "unshift", perArgument);
  meterMethod(ArrayProto, "splice", (_self, args) => Math.max(0, args.length - 2) * ELEMENT_BYTES);
  meterMethod(ArrayProto, "fill", (self) =>
    // An array made by `Array(n)` was charged for its n slots already.
    self !== null && typeof self === "object"
      ? Math.max(0, lengthOf(self) * ELEMENT_BYTES - heldBy(self))
      : 0,
  );
  meterMethod(
    ArrayProto,
    "concat",
    (self, args) =>
      [self, ...args].reduce<number>((sum, part) => sum + (isArray(part) ? lengthOf(part) : 1), 0) *
      ELEMENT_BYTES,
    "result",
  );

  // ---- strings: charged to the isolate for good (a string cannot be watched for collection)

  const StringProto = g.String.prototype;
  const text = (self: unknown) => String(self);
  meterMethod(
    StringProto,
    "repeat",
    (self, args) => text(self).length * count(args[0]) * CHAR_BYTES,
    "none",
  );
  for (const name of ["padStart", "padEnd"]) {
    meterMethod(StringProto, name, (_self, args) => count(args[0]) * CHAR_BYTES, "none");
  }

  // ---- Map and Set: a new key or value costs an entry

  for (const [name, method] of [
    ["Map", "set"],
    ["Set", "add"],
  ] as const) {
    const proto = (g as unknown as Record<string, Ctor | undefined>)[name]?.prototype as
      Record<string, Fn> | undefined;
    const has = proto?.has;
    if (!has) continue;
    meterMethod(proto, method, (self, args) => (R.apply(has, self, [args[0]]) ? 0 : ENTRY_BYTES));
  }
}

/** Puts `value` in place of `object[key]`, keeping the property's attributes (not enumerable). */
function replace(object: object, key: string, value: unknown): void {
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  Object.defineProperty(object, key, {
    value,
    writable: descriptor?.writable ?? true,
    enumerable: descriptor?.enumerable ?? false,
    configurable: descriptor?.configurable ?? true,
  });
}
