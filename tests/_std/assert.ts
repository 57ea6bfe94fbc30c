/**
 * Local stand-in for JSR's `@std/assert`, for the subset of it that meshmeet's tests use.
 *
 * Why it exists: JSR (jsr.io) cannot be reached from the machines this project is built
 * on, so `jsr:@std/assert` cannot be resolved there. `deno.json` maps `"@std/assert"` to
 * this file instead. Where JSR is reachable, change that mapping line to
 * `"@std/assert": "jsr:@std/assert@^1"` and delete this directory; the tests need no change,
 * because the names and signatures here are the same as the real package's.
 *
 * It has no dependencies and does not use `Deno.*`. Every assertion really fails when it
 * should; `assert_test.ts` next to it proves that for each one.
 *
 * @module
 */

/** A constructor of any class, abstract or not, whatever its parameters. */
// deno-lint-ignore no-explicit-any
export type AnyConstructor = abstract new (...args: any[]) => any;

/** The falsy values, as narrowed to by {@linkcode assertFalse}. */
export type Falsy = false | 0 | 0n | "" | null | undefined;

/**
 * The error every failed assertion throws.
 *
 * @example Catch a failed assertion
 * ```ts
 * import { AssertionError, assertEquals } from "@std/assert";
 * try {
 *   assertEquals(1, 2);
 * } catch (error) {
 *   error instanceof AssertionError; // true
 * }
 * ```
 */
export class AssertionError extends Error {
  /**
   * Create the error of a failed assertion.
   *
   * @param message What was expected and what was found.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AssertionError";
  }
}

// ---------------------------------------------------------------------------------------
// Deep equality, with the path of the first difference

const MAX_SHOWN_ITEMS = 100;

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return ctor?.name || "Object";
}

function short(value: unknown): string {
  const text = format(value);
  const oneLine = text.includes("\n") ? text.replace(/\s*\n\s*/g, " ") : text;
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}

function constructorsEqual(a: object, b: object): boolean {
  const ca = (a as { constructor?: unknown }).constructor;
  const cb = (b as { constructor?: unknown }).constructor;
  return ca === cb || (ca === Object && cb === undefined) || (ca === undefined && cb === Object);
}

function isTypedArray(value: object): value is ArrayLike<number | bigint> & ArrayBufferView {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function bytesOf(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  return value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function enumerableKeys(value: object): PropertyKey[] {
  const keys: PropertyKey[] = Object.keys(value);
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    if (Object.prototype.propertyIsEnumerable.call(value, symbol)) keys.push(symbol);
  }
  return keys;
}

function keyPath(path: string, key: PropertyKey): string {
  if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) return `${path}.${key}`;
  return `${path}[${typeof key === "string" ? JSON.stringify(key) : String(key)}]`;
}

/**
 * Return a description of the first difference between `a` and `b`, or `undefined` when
 * they are deeply equal.
 */
function difference(
  a: unknown,
  b: unknown,
  path: string,
  seen: WeakMap<object, object>,
): string | undefined {
  if (Object.is(a, b)) return undefined;
  const where = path || "(root)";
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return `${where}: ${short(a)} !== ${short(b)}`;
  }
  if (!constructorsEqual(a, b)) {
    return `${where}: ${typeName(a)} !== ${typeName(b)}`;
  }
  if (seen.get(a) === b) return undefined;
  seen.set(a, b);

  if (a instanceof Date && b instanceof Date) {
    const ta = a.getTime();
    const tb = b.getTime();
    return Object.is(ta, tb) ? undefined : `${where}: ${short(a)} !== ${short(b)}`;
  }
  if (a instanceof RegExp && b instanceof RegExp) {
    return String(a) === String(b) ? undefined : `${where}: ${String(a)} !== ${String(b)}`;
  }
  if (typeof URL === "function" && a instanceof URL && b instanceof URL) {
    return a.href === b.href ? undefined : `${where}: ${short(a)} !== ${short(b)}`;
  }
  if (
    (a instanceof Number && b instanceof Number) ||
    (a instanceof String && b instanceof String) ||
    (a instanceof Boolean && b instanceof Boolean)
  ) {
    return Object.is(a.valueOf(), b.valueOf())
      ? undefined
      : `${where}: ${short(a)} !== ${short(b)}`;
  }
  if (
    a instanceof WeakMap || a instanceof WeakSet || a instanceof Promise ||
    (typeof WeakRef === "function" && a instanceof WeakRef)
  ) {
    return `${where}: two different ${typeName(a)} instances cannot be compared by content`;
  }
  if (a instanceof Error && b instanceof Error) {
    if (a.name !== b.name) return `${keyPath(path, "name")}: ${short(a.name)} !== ${short(b.name)}`;
    if (a.message !== b.message) {
      return `${keyPath(path, "message")}: ${short(a.message)} !== ${short(b.message)}`;
    }
  }
  if (
    (a instanceof ArrayBuffer && b instanceof ArrayBuffer) ||
    (a instanceof DataView && b instanceof DataView)
  ) {
    const ba = bytesOf(a);
    const bb = bytesOf(b);
    if (ba.length !== bb.length) {
      return `${where}: byteLength ${ba.length} !== ${bb.length}`;
    }
    for (let i = 0; i < ba.length; i++) {
      if (ba[i] !== bb[i]) return `${where} byte [${i}]: ${ba[i]} !== ${bb[i]}`;
    }
    return undefined;
  }
  if (isTypedArray(a) && isTypedArray(b)) {
    if (a.length !== b.length) return `${where}: length ${a.length} !== ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i])) return `${where}[${i}]: ${short(a[i])} !== ${short(b[i])}`;
    }
    return undefined;
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return `${where}: Map size ${a.size} !== ${b.size}`;
    const unmatched = new Set(b.keys());
    for (const [key, value] of a) {
      if (b.has(key)) {
        unmatched.delete(key);
        const diff = difference(value, b.get(key), `${path}.get(${short(key)})`, seen);
        if (diff !== undefined) return diff;
        continue;
      }
      let found = false;
      for (const other of unmatched) {
        if (
          typeof key === "object" && key !== null &&
          difference(key, other, "", new WeakMap()) === undefined &&
          difference(value, b.get(other), "", new WeakMap()) === undefined
        ) {
          unmatched.delete(other);
          found = true;
          break;
        }
      }
      if (!found) return `${where}: key ${short(key)} of actual Map is missing in expected`;
    }
    return undefined;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return `${where}: Set size ${a.size} !== ${b.size}`;
    const unmatched = new Set(b);
    for (const value of a) {
      if (b.has(value)) {
        unmatched.delete(value);
        continue;
      }
      let found = false;
      for (const other of unmatched) {
        if (
          typeof value === "object" && value !== null &&
          difference(value, other, "", new WeakMap()) === undefined
        ) {
          unmatched.delete(other);
          found = true;
          break;
        }
      }
      if (!found) return `${where}: element ${short(value)} of actual Set is missing in expected`;
    }
    return undefined;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${where}: length ${a.length} !== ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const diff = difference(a[i], b[i], `${path}[${i}]`, seen);
      if (diff !== undefined) return diff;
    }
  }
  const aKeys = enumerableKeys(a).filter((k) => !Array.isArray(a) || !/^\d+$/.test(String(k)));
  const bKeys = enumerableKeys(b).filter((k) => !Array.isArray(b) || !/^\d+$/.test(String(k)));
  const bKeySet = new Set(bKeys);
  for (const key of aKeys) {
    if (!bKeySet.has(key)) return `${keyPath(path, key)}: present in actual, missing in expected`;
    const diff = difference(
      (a as Record<PropertyKey, unknown>)[key],
      (b as Record<PropertyKey, unknown>)[key],
      keyPath(path, key),
      seen,
    );
    if (diff !== undefined) return diff;
  }
  const aKeySet = new Set(aKeys);
  for (const key of bKeys) {
    if (!aKeySet.has(key)) return `${keyPath(path, key)}: missing in actual, present in expected`;
  }
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  return difference(a, b, "", new WeakMap()) === undefined;
}

// ---------------------------------------------------------------------------------------
// Formatting and line diff for messages

function format(value: unknown, indent = "", seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return `[Function: ${value.name || "(anonymous)"}]`;
    case "undefined":
    case "boolean":
      return String(value);
  }
  if (value === null) return "null";
  const object = value as object;
  if (seen.has(object)) return "[Circular]";
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
  }
  if (object instanceof RegExp) return String(object);
  if (typeof URL === "function" && object instanceof URL) return `URL(${object.href})`;
  if (object instanceof Error) return `${object.name}: ${object.message}`;
  if (object instanceof Number || object instanceof String || object instanceof Boolean) {
    return `[${typeName(object)}: ${format(object.valueOf())}]`;
  }
  if (object instanceof ArrayBuffer || object instanceof DataView) {
    return `${typeName(object)}(${object.byteLength}) ${format(bytesOf(object), indent, seen)}`;
  }
  const inner = `${indent}  `;
  const list = (open: string, items: string[], close: string, more: number) => {
    if (more > 0) items.push(`... ${more} more`);
    if (items.length === 0) return `${open}${close}`;
    return `${open}\n${items.map((item) => `${inner}${item},`).join("\n")}\n${indent}${close}`;
  };
  if (isTypedArray(object)) {
    const shown = Array.from(object as ArrayLike<number | bigint>).slice(0, MAX_SHOWN_ITEMS);
    const more = object.length - shown.length;
    // Typed arrays are printed 16 items a line: big buffers stay readable.
    const lines: string[] = [];
    for (let i = 0; i < shown.length; i += 16) {
      lines.push(shown.slice(i, i + 16).map((item) => format(item)).join(", "));
    }
    return list(`${typeName(object)}(${object.length}) [`, lines, "]", more);
  }
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const shown = object.slice(0, MAX_SHOWN_ITEMS).map((item) => format(item, inner, seen));
      return list("[", shown, "]", object.length - shown.length);
    }
    if (object instanceof Map) {
      const entries = [...object].slice(0, MAX_SHOWN_ITEMS)
        .map(([k, v]) => `${format(k, inner, seen)} => ${format(v, inner, seen)}`);
      return list(`Map(${object.size}) {`, entries, "}", object.size - entries.length);
    }
    if (object instanceof Set) {
      const items = [...object].slice(0, MAX_SHOWN_ITEMS).map((v) => format(v, inner, seen));
      return list(`Set(${object.size}) {`, items, "}", object.size - items.length);
    }
    const keys = enumerableKeys(object);
    const entries = keys.slice(0, MAX_SHOWN_ITEMS).map((key) => {
      const name = typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)
        ? key
        : typeof key === "string"
        ? JSON.stringify(key)
        : `[${String(key)}]`;
      return `${name}: ${format((object as Record<PropertyKey, unknown>)[key], inner, seen)}`;
    });
    const name = typeName(object);
    const open = name === "Object" ? "{" : `${name} {`;
    return list(open, entries, "}", keys.length - entries.length);
  } finally {
    seen.delete(object);
  }
}

const MAX_DIFF_CELLS = 4_000_000;

/** A line diff of `actual` against `expected` (longest common subsequence). */
function lineDiff(actual: string, expected: string): string {
  const a = actual.split("\n");
  const b = expected.split("\n");
  if (a.length * b.length > MAX_DIFF_CELLS) {
    return `    [Actual]\n\n${actual}\n\n    [Expected]\n\n${expected}`;
  }
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: string[] = ["    [Diff] Actual / Expected", ""];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`    ${a[i]}`);
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push(`-   ${a[i]}`);
      i++;
    } else {
      out.push(`+   ${b[j]}`);
      j++;
    }
  }
  return out.join("\n");
}

function suffix(msg: string | undefined): string {
  return msg ? `: ${msg}` : "";
}

// ---------------------------------------------------------------------------------------
// Assertions

/**
 * Make an assertion: throw if `expr` is not truthy.
 *
 * @param expr The value that must be truthy.
 * @param msg The message of the error thrown on failure.
 * @returns Nothing; narrows `expr` to truthy.
 * @throws {AssertionError} If `expr` is falsy.
 *
 * @example Assert a condition
 * ```ts
 * import { assert } from "@std/assert";
 * assert([1, 2].includes(2));
 * ```
 */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) throw new AssertionError(msg || `Expected ${short(expr)} to be truthy`);
}

/**
 * Make an assertion that `expr` is falsy.
 *
 * @param expr The value that must be falsy.
 * @param msg A note added to the error message on failure.
 * @returns Nothing; narrows `expr` to a falsy type.
 * @throws {AssertionError} If `expr` is truthy.
 *
 * @example Assert a condition does not hold
 * ```ts
 * import { assertFalse } from "@std/assert";
 * assertFalse([1, 2].includes(3));
 * ```
 */
export function assertFalse(expr: unknown, msg = ""): asserts expr is Falsy {
  if (expr) throw new AssertionError(msg || `Expected ${short(expr)} to be falsy`);
}

/**
 * Make an assertion that `actual` and `expected` are deeply equal: same structure and
 * values, compared recursively through arrays, plain objects, typed arrays (e.g.
 * `Uint8Array`), `ArrayBuffer`, `Map`, `Set`, `Date`, `RegExp`, `URL` and errors.
 * Primitives are compared with `Object.is` (so `NaN` equals `NaN`, `0` differs from `-0`).
 *
 * @typeParam T The type of the values.
 * @param actual The value found.
 * @param expected The value wanted.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If the values differ; the message shows a line diff and the
 * path of the first difference.
 *
 * @example Compare bytes and nested objects
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals({ a: new Uint8Array([1, 2]) }, { a: new Uint8Array([1, 2]) });
 * ```
 */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  const diff = difference(actual, expected, "", new WeakMap());
  if (diff === undefined) return;
  throw new AssertionError(
    `Values are not equal${suffix(msg)}\n\n${lineDiff(format(actual), format(expected))}\n\n` +
      `First difference at ${diff}`,
  );
}

/**
 * Make an assertion that `actual` and `expected` are not deeply equal.
 *
 * @typeParam T The type of the values.
 * @param actual The value found.
 * @param expected The value it must differ from.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If the values are deeply equal.
 *
 * @example Values differ
 * ```ts
 * import { assertNotEquals } from "@std/assert";
 * assertNotEquals([1, 2], [1, 3]);
 * ```
 */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!equal(actual, expected)) return;
  throw new AssertionError(
    `Expected actual: ${short(actual)} not to be equal to: ${short(expected)}${suffix(msg)}`,
  );
}

/**
 * Make an assertion that `actual` and `expected` are the same value (`Object.is`).
 *
 * @typeParam T The type of the expected value.
 * @param actual The value found.
 * @param expected The value wanted.
 * @param msg A note added to the error message on failure.
 * @returns Nothing; narrows `actual` to `T`.
 * @throws {AssertionError} If the values are not the same.
 *
 * @example Same reference
 * ```ts
 * import { assertStrictEquals } from "@std/assert";
 * const a = { x: 1 };
 * assertStrictEquals(a, a);
 * ```
 */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (Object.is(actual, expected)) return;
  if (typeof actual === "object" && actual !== null && equal(actual, expected)) {
    throw new AssertionError(
      `Values have the same structure but are not reference-equal${suffix(msg)}\n\n` +
        format(actual),
    );
  }
  throw new AssertionError(
    `Values are not strictly equal${suffix(msg)}\n\n${lineDiff(format(actual), format(expected))}`,
  );
}

/**
 * Make an assertion that `actual` is neither `null` nor `undefined`.
 *
 * @typeParam T The type of the value.
 * @param actual The value that must exist.
 * @param msg A note added to the error message on failure.
 * @returns Nothing; narrows `actual` to `NonNullable<T>`.
 * @throws {AssertionError} If `actual` is `null` or `undefined`.
 *
 * @example A found element
 * ```ts
 * import { assertExists } from "@std/assert";
 * assertExists([1, 2].find((n) => n > 1));
 * ```
 */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(
      `Expected actual: "${actual}" to not be null or undefined${suffix(msg)}`,
    );
  }
}

/**
 * Make an assertion that `actual` is an instance of `expectedType`.
 *
 * @typeParam T The constructor.
 * @param actual The value found.
 * @param expectedType The class it must be an instance of.
 * @param msg A note added to the error message on failure.
 * @returns Nothing; narrows `actual` to an instance of `T`.
 * @throws {AssertionError} If `actual` is not an instance of `expectedType`.
 *
 * @example A date
 * ```ts
 * import { assertInstanceOf } from "@std/assert";
 * assertInstanceOf(new Date(), Date);
 * ```
 */
export function assertInstanceOf<T extends AnyConstructor>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is InstanceType<T> {
  if (actual instanceof expectedType) return;
  const got = actual === null || typeof actual !== "object"
    ? `${short(actual)} (${typeof actual === "object" ? "null" : typeof actual})`
    : `an instance of ${typeName(actual)}`;
  throw new AssertionError(
    `Expected object to be an instance of "${expectedType.name}" but was ${got}${suffix(msg)}`,
  );
}

/**
 * Make an assertion that `actual` matches the regular expression `expected`.
 *
 * @param actual The string found.
 * @param expected The pattern it must match.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If `actual` does not match.
 *
 * @example A hex number
 * ```ts
 * import { assertMatch } from "@std/assert";
 * assertMatch("0x1a2b", /^0x[0-9a-f]+$/);
 * ```
 */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  // Reset lastIndex so a global or sticky pattern gives the same answer every time.
  expected.lastIndex = 0;
  if (expected.test(actual)) return;
  throw new AssertionError(
    `Expected actual: ${JSON.stringify(actual)} to match: ${String(expected)}${suffix(msg)}`,
  );
}

/**
 * Make an assertion that `actual` contains the substring `expected`.
 *
 * @param actual The string found.
 * @param expected The substring it must contain.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If `actual` does not contain `expected`.
 *
 * @example Part of an error message
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * assertStringIncludes("checksum mismatch", "checksum");
 * ```
 */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (actual.includes(expected)) return;
  throw new AssertionError(
    `Expected actual: ${JSON.stringify(actual)} to contain: ${JSON.stringify(expected)}` +
      suffix(msg),
  );
}

/**
 * Make an assertion that `actual` includes every item of `expected` (deep equality).
 *
 * @typeParam T The type of the items.
 * @param actual The array found.
 * @param expected The items it must include.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If an item of `expected` is missing from `actual`.
 *
 * @example Some of the items
 * ```ts
 * import { assertArrayIncludes } from "@std/assert";
 * assertArrayIncludes([{ a: 1 }, { b: 2 }, 3], [{ b: 2 }, 3]);
 * ```
 */
export function assertArrayIncludes<T>(
  actual: ArrayLike<T>,
  expected: ArrayLike<T>,
  msg?: string,
): void {
  const missing: T[] = [];
  for (let i = 0; i < expected.length; i++) {
    let found = false;
    for (let j = 0; j < actual.length; j++) {
      if (equal(expected[i], actual[j])) {
        found = true;
        break;
      }
    }
    if (!found) missing.push(expected[i]);
  }
  if (missing.length === 0) return;
  throw new AssertionError(
    `Expected actual: ${short(Array.from(actual))} to include: ${short(Array.from(expected))}${
      suffix(msg)
    }\nMissing: ${short(missing)}`,
  );
}

/**
 * Make an assertion that `actual` is greater than `expected`.
 *
 * @typeParam T The type of the values.
 * @param actual The value found.
 * @param expected The value it must exceed.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If `actual > expected` is false.
 *
 * @example Numbers
 * ```ts
 * import { assertGreater } from "@std/assert";
 * assertGreater(2, 1);
 * ```
 */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (actual > expected) return;
  throw new AssertionError(`Expect ${short(actual)} > ${short(expected)}${suffix(msg)}`);
}

/**
 * Make an assertion that `actual` is greater than or equal to `expected`.
 *
 * @typeParam T The type of the values.
 * @param actual The value found.
 * @param expected The lower bound.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If `actual >= expected` is false.
 *
 * @example Numbers
 * ```ts
 * import { assertGreaterOrEqual } from "@std/assert";
 * assertGreaterOrEqual(2, 2);
 * ```
 */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (actual >= expected) return;
  throw new AssertionError(`Expect ${short(actual)} >= ${short(expected)}${suffix(msg)}`);
}

/**
 * Make an assertion that `actual` is less than `expected`.
 *
 * @typeParam T The type of the values.
 * @param actual The value found.
 * @param expected The value it must stay under.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If `actual < expected` is false.
 *
 * @example Numbers
 * ```ts
 * import { assertLess } from "@std/assert";
 * assertLess(1, 2);
 * ```
 */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (actual < expected) return;
  throw new AssertionError(`Expect ${short(actual)} < ${short(expected)}${suffix(msg)}`);
}

/**
 * Make an assertion that `actual` is less than or equal to `expected`.
 *
 * @typeParam T The type of the values.
 * @param actual The value found.
 * @param expected The upper bound.
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If `actual <= expected` is false.
 *
 * @example Numbers
 * ```ts
 * import { assertLessOrEqual } from "@std/assert";
 * assertLessOrEqual(2, 2);
 * ```
 */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (actual <= expected) return;
  throw new AssertionError(`Expect ${short(actual)} <= ${short(expected)}${suffix(msg)}`);
}

/**
 * Make an assertion that `actual` is within `tolerance` of `expected`.
 *
 * @param actual The number found.
 * @param expected The number wanted.
 * @param tolerance The largest accepted absolute difference; by default one ten-millionth
 * of `expected` (or 1e-7 when `expected` is not finite).
 * @param msg A note added to the error message on failure.
 * @returns Nothing.
 * @throws {AssertionError} If the difference is larger than `tolerance`, or either value is
 * `NaN` (unless both are).
 *
 * @example Floating point
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * assertAlmostEquals(0.1 + 0.2, 0.3);
 * ```
 */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance?: number,
  msg?: string,
): void {
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(expected - actual);
  const limit = tolerance ?? (Number.isFinite(expected) ? Math.abs(expected * 1e-7) : 1e-7);
  if (delta <= limit) return;
  const f = (n: number) => Number.isInteger(n) ? String(n) : n.toExponential();
  throw new AssertionError(
    `Expected actual: "${f(actual)}" to be close to "${f(expected)}": ` +
      `delta "${f(delta)}" is greater than "${f(limit)}"${suffix(msg)}`,
  );
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: "${error.message}"` : short(error);
}

function checkError(
  error: unknown,
  ErrorClass: AnyConstructor | undefined,
  msgIncludes: string | undefined,
  msg: string | undefined,
): void {
  if (ErrorClass === undefined) return;
  if (!(error instanceof ErrorClass)) {
    throw new AssertionError(
      `Expected error to be instance of "${ErrorClass.name}", but was ${describeThrown(error)}${
        suffix(msg)
      }`,
      { cause: error },
    );
  }
  if (msgIncludes !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    if (!message.includes(msgIncludes)) {
      throw new AssertionError(
        `Expected error message to include ${JSON.stringify(msgIncludes)}, but got ${
          JSON.stringify(message)
        }${suffix(msg)}`,
        { cause: error },
      );
    }
  }
}

/**
 * Make an assertion that `fn` throws, and return what it threw.
 *
 * @param fn The function that must throw.
 * @param msg A note added to the error message on failure.
 * @returns The thrown value.
 * @throws {AssertionError} If `fn` does not throw.
 *
 * @example Any error
 * ```ts
 * import { assertThrows } from "@std/assert";
 * assertThrows(() => JSON.parse("{"));
 * ```
 */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/**
 * Make an assertion that `fn` throws an instance of `ErrorClass` whose message includes
 * `msgIncludes`, and return the error.
 *
 * @typeParam E The error type.
 * @param fn The function that must throw.
 * @param ErrorClass The class the error must be an instance of.
 * @param msgIncludes A substring the error's message must contain.
 * @param msg A note added to the error message on failure.
 * @returns The thrown error, typed as `E`.
 * @throws {AssertionError} If `fn` does not throw, throws something else, or the message
 * does not include `msgIncludes`.
 *
 * @example A specific error
 * ```ts
 * import { assertThrows } from "@std/assert";
 * const error = assertThrows(() => JSON.parse("{"), SyntaxError, "JSON");
 * error.name; // "SyntaxError"
 * ```
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass: abstract new (...args: never[]) => E,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClassOrMsg?: (abstract new (...args: never[]) => E) | string,
  msgIncludes?: string,
  msg?: string,
): E | unknown {
  const ErrorClass = typeof errorClassOrMsg === "function"
    ? errorClassOrMsg as AnyConstructor
    : undefined;
  const note = typeof errorClassOrMsg === "string" ? errorClassOrMsg : msg;
  try {
    fn();
  } catch (error) {
    checkError(error, ErrorClass, msgIncludes, note);
    return error;
  }
  throw new AssertionError(`Expected function to throw${suffix(note)}`);
}

/**
 * Make an assertion that the promise returned by `fn` rejects, and return the reason.
 *
 * @param fn The function returning the promise that must reject.
 * @param msg A note added to the error message on failure.
 * @returns A promise of the rejection reason.
 * @throws {AssertionError} (as a rejection) If the promise resolves, or `fn` throws
 * synchronously instead of returning a rejecting promise.
 *
 * @example Any rejection
 * ```ts
 * import { assertRejects } from "@std/assert";
 * await assertRejects(() => Promise.reject(new Error("no")));
 * ```
 */
export function assertRejects(fn: () => PromiseLike<unknown>, msg?: string): Promise<unknown>;
/**
 * Make an assertion that the promise returned by `fn` rejects with an instance of
 * `ErrorClass` whose message includes `msgIncludes`, and return the error.
 *
 * @typeParam E The error type.
 * @param fn The function returning the promise that must reject.
 * @param ErrorClass The class the rejection reason must be an instance of.
 * @param msgIncludes A substring the error's message must contain.
 * @param msg A note added to the error message on failure.
 * @returns A promise of the rejection reason, typed as `E`.
 * @throws {AssertionError} (as a rejection) If the promise resolves, `fn` throws
 * synchronously, or the reason is of the wrong class or message.
 *
 * @example A specific rejection
 * ```ts
 * import { assertRejects } from "@std/assert";
 * const error = await assertRejects(
 *   () => Promise.reject(new RangeError("too big")),
 *   RangeError,
 *   "big",
 * );
 * error.message; // "too big"
 * ```
 */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass: abstract new (...args: never[]) => E,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  errorClassOrMsg?: (abstract new (...args: never[]) => E) | string,
  msgIncludes?: string,
  msg?: string,
): Promise<E | unknown> {
  const ErrorClass = typeof errorClassOrMsg === "function"
    ? errorClassOrMsg as AnyConstructor
    : undefined;
  const note = typeof errorClassOrMsg === "string" ? errorClassOrMsg : msg;
  let promise: PromiseLike<unknown>;
  try {
    promise = fn();
  } catch (error) {
    throw new AssertionError(
      `Function throws when expected to reject: ${describeThrown(error)}${suffix(note)}`,
      { cause: error },
    );
  }
  if (
    promise === null || typeof promise !== "object" ||
    typeof (promise as { then?: unknown }).then !== "function"
  ) {
    throw new AssertionError(
      `Function returned ${short(promise)} when expected to return a promise that rejects` +
        suffix(note),
    );
  }
  try {
    await promise;
  } catch (error) {
    checkError(error, ErrorClass, msgIncludes, note);
    return error;
  }
  throw new AssertionError(`Expected function to reject${suffix(note)}`);
}

/**
 * Throw an {@linkcode AssertionError} unconditionally.
 *
 * @param msg What went wrong.
 * @returns Never returns.
 * @throws {AssertionError} Always.
 *
 * @example A branch a test must not take
 * ```ts
 * import { fail } from "@std/assert";
 * const ok = true;
 * if (!ok) fail("ok should be true");
 * ```
 */
export function fail(msg?: string): never {
  throw new AssertionError(`Failed assertion${msg ? `: ${msg}` : "."}`);
}

/**
 * Mark code that must never run; throws an {@linkcode AssertionError} when it does.
 *
 * @param msg Why this point cannot be reached.
 * @returns Never returns.
 * @throws {AssertionError} Always.
 *
 * @example An exhaustive switch
 * ```ts
 * import { unreachable } from "@std/assert";
 * function sign(n: number): string {
 *   if (n < 0) return "-";
 *   if (n >= 0) return "+";
 *   unreachable("NaN has no sign");
 * }
 * sign(1);
 * ```
 */
export function unreachable(msg?: string): never {
  throw new AssertionError(`Unreachable${msg ? `: ${msg}` : ""}`);
}
