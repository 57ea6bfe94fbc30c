/**
 * Proves that the local `@std/assert` stand-in fails when it should, not only that it
 * passes: a shim that never throws would make every other test pass silently.
 *
 * These tests do not use the shim to check the shim: `fails()` and `passes()` below use
 * plain `try`/`catch` and throw plain `Error`s.
 */

import {
  assert,
  assertAlmostEquals,
  assertArrayIncludes,
  assertEquals,
  assertExists,
  assertFalse,
  assertGreater,
  assertGreaterOrEqual,
  assertInstanceOf,
  AssertionError,
  assertLess,
  assertLessOrEqual,
  assertMatch,
  assertNotEquals,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
  fail,
  unreachable,
} from "./assert.ts";

/** Run `fn`, which must throw an AssertionError; return it. */
function fails(fn: () => unknown, label: string): AssertionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AssertionError) return error;
    throw new Error(`${label}: expected an AssertionError, got ${String(error)}`);
  }
  throw new Error(`${label}: expected an AssertionError, but nothing was thrown`);
}

/** Run `fn`, which must not throw. */
function passes(fn: () => unknown, label: string): void {
  try {
    fn();
  } catch (error) {
    throw new Error(`${label}: expected no error, got ${String(error)}`, { cause: error });
  }
}

async function failsAsync(fn: () => Promise<unknown>, label: string): Promise<AssertionError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof AssertionError) return error;
    throw new Error(`${label}: expected an AssertionError, got ${String(error)}`);
  }
  throw new Error(`${label}: expected an AssertionError, but nothing was thrown`);
}

function check(condition: boolean, label: string): void {
  if (!condition) throw new Error(`check failed: ${label}`);
}

Deno.test("AssertionError sets its name and is an Error", () => {
  const error = new AssertionError("x");
  check(error instanceof Error && error.name === "AssertionError", "name");
  check(error.message === "x", "message");
});

Deno.test("assert() passes for truthy values and fails for falsy ones", () => {
  for (const value of [true, 1, "a", {}, []]) passes(() => assert(value), `assert(${value})`);
  for (const value of [false, 0, "", null, undefined, NaN]) {
    fails(() => assert(value), `assert(${value})`);
  }
  check(fails(() => assert(false, "custom"), "msg").message === "custom", "custom message");
});

Deno.test("assertFalse() passes for falsy values and fails for truthy ones", () => {
  for (const value of [false, 0, "", null, undefined]) passes(() => assertFalse(value), "falsy");
  for (const value of [true, 1, "a", {}]) fails(() => assertFalse(value), "truthy");
});

Deno.test("assertEquals() compares deeply and fails on any difference", () => {
  const equalPairs: [unknown, unknown][] = [
    [1, 1],
    [NaN, NaN],
    ["a", "a"],
    [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }],
    [new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])],
    [
      new Map<unknown, unknown>([["k", { v: 1 }], [{ o: 1 }, 2]]),
      new Map<unknown, unknown>([
        ["k", { v: 1 }],
        [{ o: 1 }, 2],
      ]),
    ],
    [new Set([1, { a: 1 }]), new Set([{ a: 1 }, 1])],
    [new Date(5), new Date(5)],
    [/a/g, /a/g],
    [new URL("https://a.example/"), new URL("https://a.example/")],
    [new Error("x"), new Error("x")],
    [new Uint8Array([1, 2]).buffer, new Uint8Array([1, 2]).buffer],
  ];
  for (const [a, b] of equalPairs) passes(() => assertEquals(a, b), `equal ${String(a)}`);

  const unequalPairs: [unknown, unknown][] = [
    [1, 2],
    [0, -0],
    ["a", "b"],
    [1, "1"],
    [null, undefined],
    [{ a: 1 }, { a: 1, b: 2 }],
    [{ a: undefined }, {}],
    [{ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }],
    [[1, 2], [1, 2, 3]],
    [new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])],
    [new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])],
    [new Uint8Array([1, 2]), new Uint16Array([1, 2])],
    [new Uint8Array([1, 2]), [1, 2]],
    [new Map([["k", 1]]), new Map([["k", 2]])],
    [new Map([["k", 1]]), new Map([["j", 1]])],
    [new Map([["k", 1]]), new Map([["k", 1], ["j", 2]])],
    [new Set([1, 2]), new Set([1, 3])],
    [new Set([1]), new Set([1, 2])],
    [new Set([{ a: 1 }]), new Set([{ a: 2 }])],
    [new Date(5), new Date(6)],
    [/a/g, /a/i],
    [new URL("https://a.example/"), new URL("https://b.example/")],
    [new Error("x"), new Error("y")],
    [new Error("x"), new TypeError("x")],
    [new Uint8Array([1, 2]).buffer, new Uint8Array([1, 3]).buffer],
    [new WeakMap(), new WeakMap()],
  ];
  for (const [a, b] of unequalPairs) fails(() => assertEquals(a, b), `unequal ${String(a)}`);
});

Deno.test("assertEquals() handles cycles and shows a diff and the first difference", () => {
  const a: Record<string, unknown> = { n: 1 };
  a.self = a;
  const b: Record<string, unknown> = { n: 1 };
  b.self = b;
  passes(() => assertEquals(a, b), "cyclic");

  const error = fails(
    () =>
      assertEquals({ id: 1, payload: new Uint8Array([1, 2]) }, {
        id: 1,
        payload: new Uint8Array([1, 9]),
      }, "note"),
    "diff",
  );
  check(error.message.includes("note"), "message includes the note");
  check(error.message.includes("-   "), "message has removed lines");
  check(error.message.includes("+   "), "message has added lines");
  check(error.message.includes(".payload[1]: 2 !== 9"), "message names the first difference");
});

Deno.test("assertNotEquals() fails only for deeply equal values", () => {
  passes(() => assertNotEquals({ a: 1 }, { a: 2 }), "different");
  fails(() => assertNotEquals({ a: [1] }, { a: [1] }), "equal");
});

Deno.test("assertStrictEquals() requires the same value, not an equal one", () => {
  const o = { a: 1 };
  passes(() => assertStrictEquals(o, o), "same reference");
  passes(() => assertStrictEquals(NaN, NaN), "NaN");
  const error = fails(() => assertStrictEquals({ a: 1 }, { a: 1 }), "equal structure");
  check(error.message.includes("not reference-equal"), "explains reference equality");
  fails(() => assertStrictEquals(1, 2), "different numbers");
  fails(() => assertStrictEquals(0, -0), "zero signs");
});

Deno.test("assertExists() fails only for null and undefined", () => {
  for (const value of [0, "", false, {}]) passes(() => assertExists(value), "exists");
  fails(() => assertExists(null), "null");
  fails(() => assertExists(undefined), "undefined");
});

Deno.test("assertThrows() returns the error and checks class and message", () => {
  const thrown = new RangeError("too big");
  const error = assertThrows(
    () => {
      throw thrown;
    },
    RangeError,
    "big",
  );
  check(error === thrown, "returns the thrown error");
  check(
    assertThrows(() => {
      throw "plain";
    }) === "plain",
    "returns a non-Error",
  );
  fails(() => assertThrows(() => {}), "no throw");
  fails(() => assertThrows(() => {}, Error), "no throw with class");
  fails(() =>
    assertThrows(() => {
      throw new TypeError("x");
    }, RangeError), "wrong class");
  fails(() =>
    assertThrows(
      () => {
        throw new RangeError("too big");
      },
      RangeError,
      "small",
    ), "wrong message");
});

Deno.test("assertRejects() returns the reason and checks class and message", async () => {
  const reason = new RangeError("too big");
  const error = await assertRejects(() => Promise.reject(reason), RangeError, "big");
  check(error === reason, "returns the reason");
  await failsAsync(() => assertRejects(() => Promise.resolve(1)), "resolves");
  await failsAsync(
    () => assertRejects(() => Promise.reject(new TypeError("x")), RangeError),
    "wrong class",
  );
  await failsAsync(
    () => assertRejects(() => Promise.reject(new RangeError("x")), RangeError, "y"),
    "wrong message",
  );
  await failsAsync(
    () =>
      assertRejects(() => {
        throw new Error("sync");
      }),
    "throws synchronously",
  );
});

Deno.test("assertInstanceOf() fails for other classes and primitives", () => {
  passes(() => assertInstanceOf(new TypeError("x"), Error), "subclass");
  fails(() => assertInstanceOf(new Error("x"), TypeError), "superclass");
  fails(() => assertInstanceOf("s", String), "primitive");
  fails(() => assertInstanceOf(null, Object), "null");
});

Deno.test("assertMatch() and assertStringIncludes() fail when the text does not fit", () => {
  passes(() => assertMatch("0x1a", /^0x[0-9a-f]+$/), "match");
  fails(() => assertMatch("1a", /^0x/), "no match");
  const global = /a/g;
  passes(() => assertMatch("a", global), "global regexp, first");
  passes(() => assertMatch("a", global), "global regexp, second");
  passes(() => assertStringIncludes("checksum mismatch", "mismatch"), "includes");
  fails(() => assertStringIncludes("checksum mismatch", "Mismatch"), "case-sensitive");
});

Deno.test("assertArrayIncludes() compares items deeply and fails on a missing one", () => {
  passes(() => assertArrayIncludes([{ a: 1 }, 2, "x"], [{ a: 1 }, "x"]), "included");
  passes(() => assertArrayIncludes([1, 2], []), "empty expected");
  fails(() => assertArrayIncludes([{ a: 1 }, 2], [{ a: 2 }]), "missing object");
  fails(() => assertArrayIncludes([1, 2], [3]), "missing number");
});

Deno.test("assertGreater() and friends fail on the wrong side of the bound", () => {
  passes(() => assertGreater(2, 1), ">");
  fails(() => assertGreater(1, 1), "> equal");
  fails(() => assertGreater(0, 1), "> less");
  passes(() => assertGreaterOrEqual(1, 1), ">=");
  fails(() => assertGreaterOrEqual(0, 1), ">= less");
  passes(() => assertLess(1, 2), "<");
  fails(() => assertLess(1, 1), "< equal");
  fails(() => assertLess(2, 1), "< greater");
  passes(() => assertLessOrEqual(1, 1), "<=");
  fails(() => assertLessOrEqual(2, 1), "<= greater");
  fails(() => assertGreater(NaN, 0), "NaN is not greater");
});

Deno.test("assertAlmostEquals() fails beyond the tolerance", () => {
  passes(() => assertAlmostEquals(0.1 + 0.2, 0.3), "default tolerance");
  passes(() => assertAlmostEquals(1, 1.05, 0.1), "explicit tolerance");
  passes(() => assertAlmostEquals(NaN, NaN), "NaN");
  fails(() => assertAlmostEquals(1, 1.2, 0.1), "outside tolerance");
  fails(() => assertAlmostEquals(1, 1.001), "outside default tolerance");
  fails(() => assertAlmostEquals(NaN, 1), "NaN vs number");
});

Deno.test("fail() and unreachable() always throw AssertionError", () => {
  check(fails(() => fail("why"), "fail").message.includes("why"), "fail message");
  check(fails(() => unreachable("why"), "unreachable").message.includes("why"), "message");
});
