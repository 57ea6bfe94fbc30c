import { assert, assertEquals, assertFalse, assertMatch, assertStringIncludes } from "@std/assert";
import { createLogger, silentLogger } from "../src/logger.ts";

/** A sink that keeps the lines it receives. */
function collect() {
  const lines: string[] = [];
  return { lines, sink: (line: string) => void lines.push(line) };
}

/** Replace the console's printing methods for the duration of `fn` and count calls. */
function countConsoleCalls(fn: () => void): number {
  const methods = ["log", "error", "warn", "info", "debug", "trace"] as const;
  const saved = methods.map((m) => console[m]);
  let calls = 0;
  for (const m of methods) console[m] = () => void calls++;
  try {
    fn();
  } finally {
    methods.forEach((m, i) => console[m] = saved[i]);
  }
  return calls;
}

Deno.test("silentLogger drops everything and prints nothing", () => {
  const calls = countConsoleCalls(() => {
    for (const name of ["meshmeet:rendezvous", "meshmeet:connect", "anything"]) {
      const log = silentLogger.forComponent(name);
      assertFalse(log.enabled);
      assertEquals(log("a line %s", "arg"), undefined);
      assertEquals(log.error("an error", new Error("boom")), undefined);
    }
  });
  assertEquals(calls, 0);
});

Deno.test("createLogger() sends lines to the sink, not the console", () => {
  const { lines, sink } = collect();
  const calls = countConsoleCalls(() => {
    createLogger({ enabled: "meshmeet:*", sink }).forComponent("meshmeet:rendezvous")("hello");
  });
  assertEquals(calls, 0);
  assertEquals(lines.length, 1);
});

Deno.test('createLogger() with pattern "meshmeet:*" enables meshmeet:rendezvous and not other namespaces', () => {
  const { lines, sink } = collect();
  const logger = createLogger({ enabled: "meshmeet:*", sink });
  const rendezvous = logger.forComponent("meshmeet:rendezvous");
  assert(rendezvous.enabled);
  rendezvous("looked up peers", 3);
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0], "meshmeet:rendezvous looked up peers 3");
  const other = logger.forComponent("libp2p:dialer");
  assertFalse(other.enabled);
  other("not shown");
  assertFalse(logger.forComponent("xmeshmeet:connect").enabled);
  assertEquals(lines.length, 1);
});

Deno.test("createLogger() enables meshmeet:* when no pattern is given", () => {
  const { lines, sink } = collect();
  const logger = createLogger({ sink });
  assert(logger.forComponent("meshmeet:connect").enabled);
  assertFalse(logger.forComponent("libp2p:dialer").enabled);
  logger.forComponent("meshmeet:connect")("on");
  assertEquals(lines.length, 1);
});

Deno.test('createLogger() with pattern "meshmeet:connect" enables only that component', () => {
  const { lines, sink } = collect();
  const logger = createLogger({ enabled: "meshmeet:connect", sink });
  assert(logger.forComponent("meshmeet:connect").enabled);
  for (
    const name of ["meshmeet:rendezvous", "meshmeet:connect:webrtc", "meshmeet:connec", "meshmeet"]
  ) {
    const log = logger.forComponent(name);
    assertFalse(log.enabled, name);
    log("hidden");
    log.error("hidden");
  }
  logger.forComponent("meshmeet:connect")("shown");
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0], "meshmeet:connect shown");
});

Deno.test("createLogger() with a comma-separated pattern enables each listed component", () => {
  const { sink } = collect();
  const logger = createLogger({ enabled: " meshmeet:connect , meshmeet:rendezvous ,", sink });
  assert(logger.forComponent("meshmeet:connect").enabled);
  assert(logger.forComponent("meshmeet:rendezvous").enabled);
  assertFalse(logger.forComponent("meshmeet:link").enabled);
});

Deno.test('createLogger() with "-meshmeet:link" turns that component off', () => {
  const { lines, sink } = collect();
  const logger = createLogger({ enabled: "meshmeet:*,-meshmeet:link", sink });
  const link = logger.forComponent("meshmeet:link");
  assertFalse(link.enabled);
  link("hidden");
  link.error("hidden");
  assert(logger.forComponent("meshmeet:connect").enabled);
  assertEquals(lines.length, 0);
  assertFalse(
    createLogger({ enabled: "-meshmeet:link", sink }).forComponent("meshmeet:link").enabled,
  );
});

Deno.test("createLogger() treats pattern characters other than * literally", () => {
  const { sink } = collect();
  const logger = createLogger({ enabled: "meshmeet:a.b,meshmeet:(x)", sink });
  assert(logger.forComponent("meshmeet:a.b").enabled);
  assertFalse(logger.forComponent("meshmeet:aXb").enabled);
  assert(logger.forComponent("meshmeet:(x)").enabled);
  assertFalse(logger.forComponent("meshmeet:x").enabled);
});

Deno.test("createLogger() lines contain the component name, the message and the arguments", () => {
  const { lines, sink } = collect();
  const log = createLogger({ enabled: "meshmeet:*", sink }).forComponent("meshmeet:rendezvous");
  log("published presence", { seq: 3 }, "ok", 7);
  assertEquals(lines.length, 1);
  assertMatch(lines[0], /^\s*\d+\.\d{3}s meshmeet:rendezvous published presence \{"seq":3\} ok 7$/);
  assertFalse(lines[0].includes("ERROR"));
});

Deno.test("createLogger() error() adds ERROR after the component name", () => {
  const { lines, sink } = collect();
  const log = createLogger({ enabled: "meshmeet:*", sink }).forComponent("meshmeet:connect");
  log.error("dial failed", new TypeError("no route"));
  assertEquals(lines.length, 1);
  assertMatch(lines[0], /^\s*\d+\.\d{3}s meshmeet:connect ERROR dial failed TypeError: no route$/);
});

Deno.test("createLogger() formats an argument that JSON cannot serialize with String()", () => {
  const { lines, sink } = collect();
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  createLogger({ enabled: "meshmeet:*", sink }).forComponent("meshmeet:x")("state", circular, 5n);
  assertStringIncludes(lines[0], "state [object Object] 5");
});
