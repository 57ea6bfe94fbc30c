import { assertEquals, assertStringIncludes } from "@std/assert";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { Counter, Histogram, SampleFamily } from "../../src/http/prometheus.ts";

Deno.test("Histogram.render() writes cumulative buckets, +Inf, sum and count", () => {
  const h = new Histogram("x_seconds", "A latency.", [0.1, 1]);
  h.observe({ topic: "t" }, 0.05);
  h.observe({ topic: "t" }, 0.5);
  h.observe({ topic: "t" }, 5);
  h.observe({ topic: "t" }, -1); // ignored
  h.observe({ topic: "t" }, NaN); // ignored
  assertEquals(
    h.render(),
    [
      "# HELP x_seconds A latency.",
      "# TYPE x_seconds histogram",
      'x_seconds_bucket{topic="t",le="0.1"} 1',
      'x_seconds_bucket{topic="t",le="1"} 2',
      'x_seconds_bucket{topic="t",le="+Inf"} 3',
      'x_seconds_sum{topic="t"} 5.55',
      'x_seconds_count{topic="t"} 3',
      "",
    ].join("\n"),
  );
  assertEquals(h.count({ topic: "t" }), 3);
  h.remove((l) => l.topic === "t");
  assertEquals(h.count({ topic: "t" }), 0);
});

Deno.test("SampleFamily.render() escapes label values and help text", () => {
  const f = new SampleFamily("y_total", "counter", 'Help with \\ and\nnewline "q"');
  f.add({ path: 'C:\\dir\n"x"' }, 2);
  const text = f.render();
  assertStringIncludes(text, '# HELP y_total Help with \\\\ and\\nnewline "q"');
  assertStringIncludes(text, 'y_total{path="C:\\\\dir\\n\\"x\\""} 2');
  const parsed = parsePrometheusTextFormat(text);
  assertEquals(parsed[0].metrics[0].labels.path, 'C:\\dir\n"x"');
  assertEquals(parsed[0].help, 'Help with \\ and\nnewline "q"');
});

Deno.test("Counter.inc() keeps one series per label set, in any label order", () => {
  const c = new Counter("z_total", "Z.");
  c.inc({ a: "1", b: "2" });
  c.inc({ b: "2", a: "1" }, 2);
  c.inc({ a: "1", b: "3" });
  c.inc({ a: "1", b: "3" }, -5); // ignored: counters never go down
  assertEquals(c.value({ a: "1", b: "2" }), 3);
  assertEquals(c.value({ a: "1", b: "3" }), 1);
  const parsed = parsePrometheusTextFormat(c.render());
  assertEquals(parsed[0].type, "COUNTER");
  assertEquals(parsed[0].metrics.length, 2);
});

Deno.test("SampleFamily.render() writes special values as Prometheus does", () => {
  const f = new SampleFamily("g", "gauge", "G.");
  f.add({}, Infinity).add({ k: "v" }, -Infinity).add({ k: "w" }, NaN);
  assertEquals(f.render().split("\n").slice(2, 5), ["g +Inf", 'g{k="v"} -Inf', 'g{k="w"} NaN']);
});
