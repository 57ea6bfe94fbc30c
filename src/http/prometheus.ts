/**
 * A minimal Prometheus text exposition (format 0.0.4): counters, gauges and histograms
 * with labels, rendered on demand. No dependencies and no Hono: the control API and
 * anything else can use it.
 *
 * @module
 */

/** Label names and values of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Upper bounds (seconds) of the latency histograms: 5 ms to 60 s. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
]);

function _escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function _escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function _labels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${_escapeLabel(v)}"`).join(",")}}`;
}

function _number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function _key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

/** A histogram with fixed buckets, one series per label set. */
export class Histogram {
  /** Metric name (without `_bucket`, `_sum`, `_count`). */
  readonly name: string;
  /** Help text. */
  readonly help: string;
  /** Upper bounds of the buckets (`+Inf` is added when rendering). */
  readonly buckets: readonly number[];
  #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  /**
   * @param name Metric name.
   * @param help Help text.
   * @param buckets Upper bounds, ascending.
   */
  constructor(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS) {
    this.name = name;
    this.help = help;
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  /**
   * Record one observation.
   *
   * @param labels The series.
   * @param value The value (seconds for latencies); negative and non-finite values are ignored.
   */
  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const key = _key(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i]++;
    });
    series.sum += value;
    series.count++;
  }

  /** Drop the series whose labels match (e.g. of a meeting that was left). */
  remove(predicate: (labels: Labels) => boolean): void {
    for (const [key, series] of this.#series) {
      if (predicate(series.labels)) this.#series.delete(key);
    }
  }

  /** How many observations a series has. */
  count(labels: Labels): number {
    return this.#series.get(_key(labels))?.count ?? 0;
  }

  /** The exposition lines. */
  render(): string {
    const lines = [
      `# HELP ${this.name} ${_escapeHelp(this.help)}`,
      `# TYPE ${this.name} histogram`,
    ];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      this.buckets.forEach((bound, i) => {
        lines.push(`${this.name}_bucket${_labels(labels, ["le", _number(bound)])} ${counts[i]}`);
      });
      lines.push(`${this.name}_bucket${_labels(labels, ["le", "+Inf"])} ${count}`);
      lines.push(`${this.name}_sum${_labels(labels)} ${_number(sum)}`);
      lines.push(`${this.name}_count${_labels(labels)} ${count}`);
    }
    return lines.join("\n") + "\n";
  }
}

/** A counter or gauge family whose samples are produced at scrape time. */
export class SampleFamily {
  /** Metric name. */
  readonly name: string;
  /** Help text. */
  readonly help: string;
  /** `counter` or `gauge`. */
  readonly type: "counter" | "gauge";
  #samples: { labels: Labels; value: number }[] = [];

  /**
   * @param name Metric name (counters end in `_total`).
   * @param type `counter` or `gauge`.
   * @param help Help text.
   */
  constructor(name: string, type: "counter" | "gauge", help: string) {
    this.name = name;
    this.type = type;
    this.help = help;
  }

  /**
   * Add a sample.
   *
   * @param labels Its labels.
   * @param value Its value.
   * @returns This family, for chaining.
   */
  add(labels: Labels, value: number): this {
    this.#samples.push({ labels, value });
    return this;
  }

  /** The exposition lines. */
  render(): string {
    const lines = [
      `# HELP ${this.name} ${_escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ];
    for (const { labels, value } of this.#samples) {
      lines.push(`${this.name}${_labels(labels)} ${_number(value)}`);
    }
    return lines.join("\n") + "\n";
  }
}

/** A counter that only goes up, kept in memory, one series per label set. */
export class Counter {
  /** Metric name (ends in `_total`). */
  readonly name: string;
  /** Help text. */
  readonly help: string;
  #series = new Map<string, { labels: Labels; value: number }>();

  /**
   * @param name Metric name.
   * @param help Help text.
   */
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  /**
   * Add to a series.
   *
   * @param labels The series.
   * @param by How much (at least 0).
   */
  inc(labels: Labels, by = 1): void {
    if (!(by >= 0)) return;
    const key = _key(labels);
    const series = this.#series.get(key);
    if (series) series.value += by;
    else this.#series.set(key, { labels: { ...labels }, value: by });
  }

  /** The current value of a series. */
  value(labels: Labels): number {
    return this.#series.get(_key(labels))?.value ?? 0;
  }

  /** Drop the series whose labels match. */
  remove(predicate: (labels: Labels) => boolean): void {
    for (const [key, series] of this.#series) {
      if (predicate(series.labels)) this.#series.delete(key);
    }
  }

  /** The exposition lines. */
  render(): string {
    const family = new SampleFamily(this.name, "counter", this.help);
    for (const { labels, value } of this.#series.values()) family.add(labels, value);
    return family.render();
  }
}
